// Stored lean weights → float32 (format.ts LeanTensor): the one dequantisation rule, used by
// the runtime when it loads a model and by the converter for the onnxruntime oracle.
import { halfToFloat } from '../binfile.ts';
import type { PreviewBasis } from '../preview.ts';
import { weightSize, type LeanGraph, type LeanTensor } from './format.ts';
import { LeanError } from './plan.ts';

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

/** A graph's weights dequantised into one block: `at` is a float index, a multiple of 4 (16 bytes). */
export interface PackedWeights {
  index: Map<string, { at: number; dims: number[] }>;
  values: Float32Array;
}

/** Every weight of the graph as float32, one after the other: what both executors upload. */
export function packWeights(graph: LeanGraph, data: Uint8Array, shared: SharedWeights): PackedWeights {
  const index = new Map<string, { at: number; dims: number[] }>();
  const parts: [number, Float32Array][] = [];
  let at = 0;
  for (const [name, t] of Object.entries(graph.weights)) {
    const v = weightValues(t, data, shared);
    index.set(name, { at, dims: t.dims });
    parts.push([at, v]);
    at += Math.ceil(v.length / 4) * 4;
  }
  const values = new Float32Array(at);
  for (const [p, v] of parts) values.set(v, p);
  return { index, values };
}

/** A packed weight by name (a name the graph uses but the file lacks is an error). */
export function packedWeight(w: PackedWeights, name: string): { at: number; dims: number[] } {
  const e = w.index.get(name);
  if (!e) throw new LeanError(`weight ${name} is missing from the lean file`);
  return e;
}
