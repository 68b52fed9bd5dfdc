// Stored lean weights → float32 (format.ts LeanTensor): the one dequantisation rule, used by
// the runtime when it loads a model and by the converter for the onnxruntime oracle.
import { halfToFloat } from '../binfile.ts';
import { weightSize, type LeanTensor } from './format.ts';

let halfLut: Float32Array | null = null;

export function weightValues(t: LeanTensor, data: Uint8Array): Float32Array {
  const n = weightSize(t);
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
