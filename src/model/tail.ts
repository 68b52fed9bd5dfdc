// The split decoder's tail (models with more layers than the split, manifest.splitDecoder):
// decoder-split.onnx synthesises the linear path of tokens < split itself and takes the rest
// as an input, `tail` = Σ_{t ≥ split} z[t] · basis[t] per window ([1, 3·S², gh, gw]).
// Late tokens are mostly the centre level (z = 0), and each chunk adds only a few of them,
// so the browser keeps that sum up to date in plain TypeScript as chunks arrive instead
// of running a graph whose linear path grows with every layer (decoder.onnx, T = 256, took
// ~1.4x the split graph's time). Display only: it never feeds entropy decoding.
//
// models/tail.bin (written by training/export.py), little-endian:
//   "MRTT" | u8 version (1) | u8 dtype (1 = float16) | u16 split | u16 T | u16 window |
//   f16 basis[T - split][3][window][window]

import { BIN_HEADER, openBin } from './binfile.ts';
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

/** IEEE 754 binary16 → number (subnormals, infinities and NaN included). */
function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

export function parseTail(bytes: Uint8Array): TailBasis {
  const { dv, bad } = openBin(bytes, 'MRTT', 'tail.bin');
  if (bytes[5] !== 1) throw bad(`unsupported dtype ${bytes[5]}`);
  const split = dv.getUint16(6, true);
  const tokens = dv.getUint16(8, true);
  const window = dv.getUint16(10, true);
  if (window === 0 || tokens <= split) throw bad(`split ${split}, tokens ${tokens}, window ${window}`);
  const n = (tokens - split) * 3 * window * window;
  if (bytes.length !== HEADER + 2 * n) throw bad(`length ${bytes.length}, expected ${HEADER + 2 * n}`);
  const lut = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) lut[h] = halfToFloat(h);
  const basis = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = lut[dv.getUint16(HEADER + 2 * i, true)];
    if (!Number.isFinite(v)) throw bad(`weight ${i} is not finite`);
    basis[i] = v;
  }
  return { split, tokens, window, basis };
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
