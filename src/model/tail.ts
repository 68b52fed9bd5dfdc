// The split decoder's tail (models with more layers than the split, manifest.splitDecoder):
// decoder-split.onnx synthesises the linear path of tokens < split itself and takes the rest
// as an input, `tail` = Σ_{t ≥ split} z[t] · basis[t] per window ([1, 3·S², gh, gw]).
// Late tokens are mostly the centre level (z = 0), and each chunk adds only a few of them,
// so the browser keeps that sum up to date in plain TypeScript as chunks arrive instead
// of running a graph whose linear path grows with every layer (decoder.onnx, T = 256, took
// ~1.4x the split graph's time). Display only: it never feeds entropy decoding.
//
// models/tail.bin (written by training/export.py) and the browser's tail-i8.bin (written
// from it by scripts/build-lean-model.ts), little-endian:
//   "MRTT" | u8 version (1) | u8 dtype | u16 split | u16 T | u16 window | then
//   dtype 1: f16 basis[T - split][3][window][window]
//   dtype 2: f32 scale[T - split], i8 basis[T - split][3][window][window]
//            (value = q · scale[token]; one scale per token layer)

import { BIN_HEADER, halfToFloat, openBin } from './binfile.ts';
import type { Manifest } from './io.ts';

export interface TailBasis {
  /** First token layer of the tail. */
  split: number;
  /** Token layers of the model (T). */
  tokens: number;
  window: number;
  /** basis[(t - split) * 3·window² …], (c, i, j) order: the layout PixelShuffle(window) takes. */
  basis: Float32Array;
}

const HEADER = BIN_HEADER;
const TAIL_F16 = 1;
const TAIL_I8 = 2;

export function parseTail(bytes: Uint8Array): TailBasis {
  const { dv, bad } = openBin(bytes, 'MRTT', 'tail.bin');
  const dtype = bytes[5];
  if (dtype !== TAIL_F16 && dtype !== TAIL_I8) throw bad(`unsupported dtype ${dtype}`);
  const split = dv.getUint16(6, true);
  const tokens = dv.getUint16(8, true);
  const window = dv.getUint16(10, true);
  if (window === 0 || tokens <= split) throw bad(`split ${split}, tokens ${tokens}, window ${window}`);
  const layers = tokens - split;
  const per = 3 * window * window;
  const n = layers * per;
  const expected = HEADER + (dtype === TAIL_F16 ? 2 * n : 4 * layers + n);
  if (bytes.length !== expected) throw bad(`length ${bytes.length}, expected ${expected}`);
  const basis = new Float32Array(n);
  if (dtype === TAIL_F16) {
    const lut = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) lut[h] = halfToFloat(h);
    for (let i = 0; i < n; i++) basis[i] = lut[dv.getUint16(HEADER + 2 * i, true)]!;
  } else {
    const q = HEADER + 4 * layers;
    for (let t = 0; t < layers; t++) {
      const s = dv.getFloat32(HEADER + 4 * t, true);
      for (let i = t * per; i < (t + 1) * per; i++) basis[i] = dv.getInt8(q + i) * s;
    }
  }
  for (let i = 0; i < n; i++) if (!Number.isFinite(basis[i]!)) throw bad(`weight ${i} is not finite`);
  return { split, tokens, window, basis };
}

/**
 * The tail basis as dtype 2 (int8, a scale per token layer), quantised to `levels` steps each
 * side of zero (127 at most; fewer compress better on the wire).
 */
export function encodeTailI8(tb: TailBasis, levels = 127): Uint8Array {
  if (!Number.isInteger(levels) || levels < 1 || levels > 127) throw new RangeError(`levels must be 1..127, got ${levels}`);
  const layers = tb.tokens - tb.split;
  const per = 3 * tb.window * tb.window;
  const out = new Uint8Array(HEADER + 4 * layers + layers * per);
  const dv = new DataView(out.buffer);
  out.set([...'MRTT'].map((c) => c.charCodeAt(0)), 0);
  out[4] = 1;
  out[5] = TAIL_I8;
  dv.setUint16(6, tb.split, true);
  dv.setUint16(8, tb.tokens, true);
  dv.setUint16(10, tb.window, true);
  const q = HEADER + 4 * layers;
  for (let t = 0; t < layers; t++) {
    let max = 0;
    for (let i = t * per; i < (t + 1) * per; i++) max = Math.max(max, Math.abs(tb.basis[i]!));
    const s = Math.fround(max > 0 ? max / levels : 1);
    dv.setFloat32(HEADER + 4 * t, s, true);
    for (let i = t * per; i < (t + 1) * per; i++) dv.setInt8(q + i, Math.round(tb.basis[i]! / s));
  }
  return out;
}

/**
 * Why a parsed tail basis does not belong to the manifest's split decoder and layout, or
 * null when it does: one rule for the browser (runtime.ts) and the Node encoder (models.ts).
 */
export function tailMismatch(tb: TailBasis, manifest: Manifest): string | null {
  const sd = manifest.splitDecoder;
  const { tokens, window } = manifest.layout;
  if (sd && tb.split === sd.layers && tb.tokens === tokens && tb.window === window) return null;
  return `${sd?.tail ?? 'tail.bin'} is for split ${tb.split} of ${tb.tokens} layers, window ${tb.window}; the manifest says ${sd ? `${sd.layers} of ${tokens}` : `no split decoder, ${tokens} layers`}, window ${window}`;
}

/**
 * The `tail` input of one image, kept up to date incrementally: each update adds
 * (z − z_before) · basis[t] for the tail tokens whose value changed (arrived, or refilled by
 * regeneration), so a chunk costs its own non-zero tokens, not the whole stream.
 */
export class TailSynthesis {
  private readonly per: number;
  /** Window-major running sum [cells][3·S²] (contiguous per token: fast to add into). */
  private readonly acc: Float32Array;
  /** The z values already in `acc`, [T - split][cells]. */
  private readonly seen: Float32Array;
  /** `acc` transposed to the graph's layout [3·S²][cells], refreshed when it changed. */
  private readonly out: Float32Array;
  private stale = false;

  constructor(
    private readonly tb: TailBasis,
    private readonly cells: number,
  ) {
    this.per = 3 * tb.window * tb.window;
    this.acc = new Float32Array(cells * this.per);
    this.seen = new Float32Array((tb.tokens - tb.split) * cells);
    this.out = new Float32Array(cells * this.per);
  }

  /** z: token values [T][cells] (0 where missing). Returns the tail input, [3·S²][cells]. */
  update(z: Float32Array): Float32Array {
    const { split, tokens, basis } = this.tb;
    const { cells, per, acc, seen } = this;
    if (z.length !== tokens * cells) throw new Error(`tail: z has ${z.length} values, expected ${tokens * cells}`);
    for (let t = split; t < tokens; t++) {
      const b0 = (t - split) * per;
      for (let c = 0; c < cells; c++) {
        const si = (t - split) * cells + c;
        const d = z[t * cells + c] - seen[si];
        if (d === 0) continue;
        seen[si] = z[t * cells + c];
        const a0 = c * per;
        for (let k = 0; k < per; k++) acc[a0 + k] += d * basis[b0 + k];
        this.stale = true;
      }
    }
    if (this.stale) {
      const out = this.out;
      for (let c = 0; c < cells; c++) {
        const a0 = c * per;
        for (let k = 0; k < per; k++) out[k * cells + c] = acc[a0 + k];
      }
      this.stale = false;
    }
    return this.out;
  }
}
