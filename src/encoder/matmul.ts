// Y = A · B through onnxruntime-node's CPU kernels: a one-node ONNX graph written here (a few
// dozen protobuf bytes) so that the closed loop's dot products (src/encoder/tail-rdo.ts: every
// window's residual against every basis row, ~0.5 G multiply-adds for a 768x512 image) run in
// MLAS's vectorised GEMM instead of a JavaScript loop (~25x faster on this machine; float32
// accumulation, within ~1e-5 of the loop's float64 sums).
import type * as Ort from 'onnxruntime-node';
import { loadOrt } from './peers.ts';

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

const utf8 = (s: string) => [...new TextEncoder().encode(s)];
/** A protobuf field: varint (wire type 0) for numbers, length-delimited (2) for bytes and strings. */
function field(no: number, value: number | string | number[]): number[] {
  if (typeof value === 'number') return [...varint(no << 3), ...varint(value)];
  const bytes = typeof value === 'string' ? utf8(value) : value;
  return [...varint((no << 3) | 2), ...varint(bytes.length), ...bytes];
}

/** The element types the product is built for (ONNX TensorProto.DataType). */
const ELEM_TYPE = { float32: 1, float64: 11 } as const;
type ElemType = keyof typeof ELEM_TYPE;

/** ValueInfoProto of a tensor whose dimensions are named (symbolic). */
function tensor(name: string, type: ElemType, dims: string[]): number[] {
  const shape = dims.flatMap((d) => field(1, field(2, d))); // TensorShapeProto.dim { dim_param }
  const tensorType = [...field(1, ELEM_TYPE[type]), ...field(2, shape)]; // elem_type, shape
  return [...field(1, name), ...field(2, field(1, tensorType))]; // name, type { tensor_type }
}

/** ModelProto: IR version 8, opset 13, graph { Y = MatMul(A [n, k], B [k, m]) } over `type`. */
export function matmulModel(type: ElemType = 'float32'): Uint8Array {
  const node = [...field(1, 'A'), ...field(1, 'B'), ...field(2, 'Y'), ...field(4, 'MatMul')];
  const graph = [...field(1, node), ...field(2, 'matmul'), ...field(11, tensor('A', type, ['n', 'k'])), ...field(11, tensor('B', type, ['k', 'm'])), ...field(12, tensor('Y', type, ['n', 'm']))];
  return Uint8Array.from([...field(1, 8), ...field(8, field(2, 13)), ...field(7, graph)]);
}

const sessions = new Map<ElemType, Promise<Ort.InferenceSession>>();

/**
 * A [n][k] times B [k][m], row-major, float32 or float64 (both the same type): [n][m]. One
 * thread (the encoder runs images side by side instead).
 */
export async function matmul<T extends Float32Array | Float64Array>(a: T, b: T, n: number, k: number, m: number): Promise<T> {
  if (a.length !== n * k || b.length !== k * m) throw new RangeError(`matmul: A has ${a.length} values for ${n}x${k}, B ${b.length} for ${k}x${m}`);
  const type: ElemType = a instanceof Float64Array ? 'float64' : 'float32';
  if ((b instanceof Float64Array ? 'float64' : 'float32') !== type) throw new TypeError('matmul: A and B must be of one type');
  const ort = await loadOrt();
  if (!sessions.has(type)) sessions.set(type, ort.InferenceSession.create(matmulModel(type), { intraOpNumThreads: 1, interOpNumThreads: 1 }));
  const out = await (await sessions.get(type)!).run({ A: new ort.Tensor(type, a, [n, k]), B: new ort.Tensor(type, b, [k, m]) });
  return out.Y!.data as T;
}
