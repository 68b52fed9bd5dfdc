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

export interface PreviewBasis {
  components: number;
  window: number;
  scale: Float32Array;
  weight: Int8Array;
}

const MAGIC = [0x4d, 0x52, 0x54, 0x50]; // "MRTP"
const HEADER = 12;

export function parsePreview(bytes: Uint8Array): PreviewBasis {
  const bad = (why: string) => new Error(`preview.bin: ${why}`);
  if (bytes.length < HEADER || MAGIC.some((b, i) => bytes[i] !== b)) throw bad('not a preview basis (magic)');
  if (bytes[4] !== 1) throw bad(`unsupported version ${bytes[4]}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const components = dv.getUint16(6, true);
  const window = dv.getUint16(8, true);
  const n = components * 3 * window * window;
  const want = HEADER + 4 * components + n;
  if (components === 0 || window === 0 || bytes.length !== want) throw bad(`length ${bytes.length}, expected ${want}`);
  const scale = new Float32Array(components);
  for (let t = 0; t < components; t++) scale[t] = dv.getFloat32(HEADER + 4 * t, true);
  const weight = new Int8Array(bytes.buffer, bytes.byteOffset + HEADER + 4 * components, n).slice();
  return { components, window, scale, weight };
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

/**
 * Preview of a token state: `z` is the decoder input [T][gridH][gridW] (0 where missing),
 * `base` the placeholder CHW [3][baseH][baseW] in [0, 1]. Returns RGBA pixels cropped to
 * the image size. Cost: 3 taps per pixel plus window² · 3 per nonzero token.
 */
export function previewPixels(basis: PreviewBasis, g: Geometry, T: number, z: Float32Array, base: Float32Array): Uint8ClampedArray {
  const { width: w, height: h, gridW, gridH, baseW, baseH } = g;
  const win = basis.window;
  if (win * gridW !== g.paddedW || win * gridH !== g.paddedH) throw new Error('preview: window size differs from the model layout');
  const f = g.paddedW / baseW;
  const plane = w * h;
  const acc = new Float32Array(3 * plane);
  const cx = bilinearTaps(w, baseW, f);
  const cy = bilinearTaps(h, baseH, f);
  const bplane = baseW * baseH;
  for (let c = 0; c < 3; c++) {
    const b = c * bplane;
    for (let y = 0; y < h; y++) {
      const r0 = b + cy.i0[y]! * baseW;
      const r1 = b + cy.i1[y]! * baseW;
      const wy = cy.w[y]!;
      const row = c * plane + y * w;
      for (let x = 0; x < w; x++) {
        const x0 = cx.i0[x]!;
        const x1 = cx.i1[x]!;
        const wx = cx.w[x]!;
        const top = base[r0 + x0]! + (base[r0 + x1]! - base[r0 + x0]!) * wx;
        const bot = base[r1 + x0]! + (base[r1 + x1]! - base[r1 + x0]!) * wx;
        acc[row + x] = top + (bot - top) * wy;
      }
    }
  }
  const P = Math.min(T, basis.components);
  const cells = gridW * gridH;
  const wsz = win * win;
  for (let t = 0; t < P; t++) {
    for (let gy = 0; gy < gridH; gy++) {
      const y0 = gy * win;
      const ny = Math.min(win, h - y0);
      for (let gx = 0; gx < gridW; gx++) {
        const v = z[t * cells + gy * gridW + gx]!;
        if (v === 0) continue;
        const s = v * basis.scale[t]!;
        const x0 = gx * win;
        const nx = Math.min(win, w - x0);
        for (let c = 0; c < 3; c++) {
          const wb = (t * 3 + c) * wsz;
          const ob = c * plane + y0 * w + x0;
          for (let i = 0; i < ny; i++) {
            const wr = wb + i * win;
            const or = ob + i * w;
            for (let j = 0; j < nx; j++) acc[or + j] += s * basis.weight[wr + j]!;
          }
        }
      }
    }
  }
  const out = new Uint8ClampedArray(4 * plane);
  for (let p = 0; p < plane; p++) {
    out[4 * p] = acc[p]! * 255;
    out[4 * p + 1] = acc[plane + p]! * 255;
    out[4 * p + 2] = acc[2 * plane + p]! * 255;
    out[4 * p + 3] = 255;
  }
  return out;
}
