// The token preview: the decoder's linear synthesis path alone,
//   image ≈ clamp(bilinear×16(base) + Σ_t z[t] · basis[t]),
// computed in plain TypeScript from models/preview.bin. It needs no ONNX runtime, so a
// page paints its first tokens before the 14 MB WASM runtime has even loaded, and in a
// few milliseconds when it has (the full decoder.onnx paint follows). Display only: it
// never feeds entropy decoding, so float order does not matter here.
//
// models/preview.bin (written by training/export.py), little-endian:
//   "MRTP" | u8 version (1) | u8 0 | u16 P components | u16 window | u16 0 |
//   f32 scale[P] | i8 weight[P][3][window][window]   (basis[t] = scale[t] · weight[t])
// P may be smaller than the model's T: later tokens are left to the full decoder.
import type { Geometry } from './io.ts';
import { BIN_HEADER, openBin } from './binfile.ts';
import { DEBLOCK_DEFAULT, deblockChw } from './deblock.ts';

export interface PreviewBasis {
  components: number;
  window: number;
  /** basis[t] = weight[t * 3 * window² …] (scale applied), [P][3][window][window] */
  basis: Float32Array;
  /** The same at half resolution (2×2 means), [P][3][window/2][window/2]. */
  half: Float32Array;
}

const HEADER = BIN_HEADER;

export function parsePreview(bytes: Uint8Array): PreviewBasis {
  const { dv, bad } = openBin(bytes, 'MRTP', 'preview.bin');
  const components = dv.getUint16(6, true);
  const window = dv.getUint16(8, true);
  const n = components * 3 * window * window;
  const want = HEADER + 4 * components + n;
  if (components === 0 || window === 0 || bytes.length !== want) throw bad(`length ${bytes.length}, expected ${want}`);
  const weight = new Int8Array(bytes.buffer, bytes.byteOffset + HEADER + 4 * components, n);
  const basis = new Float32Array(n);
  const per = 3 * window * window;
  for (let t = 0; t < components; t++) {
    const s = dv.getFloat32(HEADER + 4 * t, true);
    for (let k = t * per; k < (t + 1) * per; k++) basis[k] = s * weight[k]!;
  }
  const hw = window >> 1;
  const half = new Float32Array(components * 3 * hw * hw);
  for (let tc = 0; tc < components * 3; tc++) {
    for (let i = 0; i < hw; i++) {
      for (let j = 0; j < hw; j++) {
        const o = tc * window * window + 2 * i * window + 2 * j;
        half[tc * hw * hw + i * hw + j] = (basis[o]! + basis[o + 1]! + basis[o + window]! + basis[o + window + 1]!) / 4;
      }
    }
  }
  return { components, window, basis, half };
}

/** Source index and weight of bilinear ×f upsampling (align_corners = false, as the decoder's Resize). */
function bilinearTaps(outN: number, inN: number, f: number): { i0: Int32Array; i1: Int32Array; w: Float32Array } {
  const i0 = new Int32Array(outN);
  const i1 = new Int32Array(outN);
  const w = new Float32Array(outN);
  for (let o = 0; o < outN; o++) {
    const src = Math.max(0, (o + 0.5) / f - 0.5);
    const a = Math.min(Math.floor(src), inN - 1);
    i0[o] = a;
    i1[o] = Math.min(a + 1, inN - 1);
    w[o] = src - a;
  }
  return { i0, i1, w };
}

/** Size of a preview at `scale` 1 (full) or 2 (half resolution: what the worker paints for large images). */
export function previewSize(g: Geometry, scale: 1 | 2): { width: number; height: number } {
  return { width: Math.ceil(g.width / scale), height: Math.ceil(g.height / scale) };
}

/**
 * Preview of a token state: `z` is the decoder input [T][gridH][gridW] (0 where missing),
 * `base` the placeholder CHW [3][baseH][baseW] in [0, 1]. Returns RGBA pixels of the image
 * (cropped to its size) at full resolution or, with `scale` 2, at half resolution (a
 * quarter of the work; the canvas scales it up). Cost: a separable bilinear upscale plus
 * 3·(window/scale)² per nonzero token. `deblockKnown`: the window grid's seams smoothed
 * (src/model/deblock.ts) for that fraction of tokens known, as learned paints are.
 */
export function previewPixels(pb: PreviewBasis, g: Geometry, T: number, z: Float32Array, base: Float32Array, scale: 1 | 2 = 1, deblockKnown?: number): Uint8ClampedArray {
  const { gridW, gridH, baseW, baseH } = g;
  const { width: w, height: h } = previewSize(g, scale);
  if (pb.window * gridW !== g.paddedW || pb.window * gridH !== g.paddedH) throw new Error('preview: window size differs from the model layout');
  const win = pb.window / scale;
  const f = g.paddedW / scale / baseW;
  const plane = w * h;
  const img = new Float32Array(3 * plane);
  const cx = bilinearTaps(w, baseW, f);
  const cy = bilinearTaps(h, baseH, f);
  // 1. base rows upscaled horizontally: [3][baseH][w]
  const rows = new Float32Array(3 * baseH * w);
  for (let r = 0; r < 3 * baseH; r++) {
    const b = r * baseW;
    const o = r * w;
    for (let x = 0; x < w; x++) {
      const a = base[b + cx.i0[x]!]!;
      rows[o + x] = a + (base[b + cx.i1[x]!]! - a) * cx.w[x]!;
    }
  }
  // 2. per window: residual of its tokens (one contiguous multiply-add per token), then the
  //    window's pixels = vertical lerp of the rows + residual, written as RGBA
  const P = Math.min(T, pb.components);
  const cells = gridW * gridH;
  const wsz = win * win;
  const per = 3 * wsz;
  const res = new Float32Array(per);
  const basis = scale === 1 ? pb.basis : pb.half;
  for (let gy = 0; gy < gridH; gy++) {
    const y0 = gy * win;
    const ny = Math.min(win, h - y0);
    for (let gx = 0; gx < gridW; gx++) {
      const x0 = gx * win;
      const nx = Math.min(win, w - x0);
      res.fill(0);
      for (let t = 0; t < P; t++) {
        const v = z[t * cells + gy * gridW + gx]!;
        if (v === 0) continue;
        const o = t * per;
        for (let k = 0; k < per; k++) res[k] += v * basis[o + k]!;
      }
      for (let c = 0; c < 3; c++) {
        const rb = c * baseH * w;
        for (let i = 0; i < ny; i++) {
          const y = y0 + i;
          const r0 = rb + cy.i0[y]! * w;
          const r1 = rb + cy.i1[y]! * w;
          const wy = cy.w[y]!;
          const ro = c * wsz + i * win;
          let d = c * plane + y * w + x0;
          for (let j = 0; j < nx; j++, d++) {
            const a = rows[r0 + x0 + j]!;
            img[d] = a + (rows[r1 + x0 + j]! - a) * wy + res[ro + j]!;
          }
        }
      }
    }
  }
  // (at half resolution the ramp is half as long, the same length on screen)
  if (deblockKnown !== undefined) deblockChw(img, w, h, win, deblockKnown, { ...DEBLOCK_DEFAULT, radius: Math.max(2, DEBLOCK_DEFAULT.radius / scale) });
  const out = new Uint8ClampedArray(4 * plane);
  for (let p = 0; p < plane; p++) {
    out[4 * p] = img[p]! * 255;
    out[4 * p + 1] = img[plane + p]! * 255;
    out[4 * p + 2] = img[2 * plane + p]! * 255;
    out[4 * p + 3] = 255;
  }
  return out;
}
