// Stored lean weights → float32 (format.ts LeanTensor): the one dequantisation rule, used by
// the runtime when it loads a model and by the converter for the onnxruntime oracle.
import { halfToFloat } from '../binfile.ts';
import type { PreviewBasis } from '../preview.ts';
import { weightSize, type LeanTensor } from './format.ts';

/** The files a lean weight may be taken from (format.ts LeanTensor dtype 'preview'). */
export interface SharedWeights {
  preview?: PreviewBasis | null;
}

let halfLut: Float32Array | null = null;

export function weightValues(t: LeanTensor, data: Uint8Array, shared: SharedWeights = {}): Float32Array {
  const n = weightSize(t);
  if (t.dtype === 'preview') return fromPreview(t, shared.preview);
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out = new Float32Array(n);
  if (t.dtype === 'f32') {
    for (let i = 0; i < n; i++) out[i] = dv.getFloat32(t.offset + 4 * i, true);
  } else if (t.dtype === 'f16') {
    if (!halfLut) {
      halfLut = new Float32Array(65536);
      for (let h = 0; h < 65536; h++) halfLut[h] = halfToFloat(h);
    }
    for (let i = 0; i < n; i++) out[i] = halfLut[dv.getUint16(t.offset + 2 * i, true)]!;
  } else {
    const rows = t.dims[0]!;
    const cols = n / rows;
    for (let r = 0; r < rows; r++) {
      const s = dv.getFloat32(t.scaleOffset! + 4 * r, true);
      for (let c = 0; c < cols; c++) out[r * cols + c] = dv.getInt8(t.offset + r * cols + c) * s;
    }
  }
  for (let i = 0; i < n; i++) if (!Number.isFinite(out[i]!)) throw new Error(`weight value ${i} is not finite`);
  return out;
}

/** A [3·S², P, 1, 1] 1×1 convolution weight from the preview basis [P][3·S²]. */
function fromPreview(t: LeanTensor, p: PreviewBasis | null | undefined): Float32Array {
  if (!p) throw new Error('a weight is taken from preview.bin, which is not loaded');
  const [o, c, kh, kw] = t.dims;
  const per = 3 * p.window * p.window;
  if (o !== per || c !== p.components || kh !== 1 || kw !== 1) throw new Error(`weight [${t.dims}] does not match preview.bin (${p.components} components of ${per})`);
  const out = new Float32Array(o * c);
  for (let k = 0; k < c; k++) for (let j = 0; j < o; j++) out[j * c + k] = p.basis[k * per + j]!;
  return out;
}
