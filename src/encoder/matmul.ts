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

/** ValueInfoProto of a float32 tensor whose dimensions are named (symbolic). */
function floatTensor(name: string, dims: string[]): number[] {
  const shape = dims.flatMap((d) => field(1, field(2, d))); // TensorShapeProto.dim { dim_param }
  const tensorType = [...field(1, 1), ...field(2, shape)]; // elem_type FLOAT, shape
  return [...field(1, name), ...field(2, field(1, tensorType))]; // name, type { tensor_type }
}

/** ModelProto: IR version 8, opset 13, graph { Y = MatMul(A [n, k], B [k, m]) }. */
export function matmulModel(): Uint8Array {
  const node = [...field(1, 'A'), ...field(1, 'B'), ...field(2, 'Y'), ...field(4, 'MatMul')];
  const graph = [...field(1, node), ...field(2, 'matmul'), ...field(11, floatTensor('A', ['n', 'k'])), ...field(11, floatTensor('B', ['k', 'm'])), ...field(12, floatTensor('Y', ['n', 'm']))];
  return Uint8Array.from([...field(1, 8), ...field(8, field(2, 13)), ...field(7, graph)]);
}

let session: Promise<Ort.InferenceSession> | null = null;

/** A [n][k] times B [k][m], row-major float32: [n][m]. One thread (the encoder runs images side by side instead). */
export async function matmul(a: Float32Array, b: Float32Array, n: number, k: number, m: number): Promise<Float32Array> {
  if (a.length !== n * k || b.length !== k * m) throw new RangeError(`matmul: A has ${a.length} values for ${n}x${k}, B ${b.length} for ${k}x${m}`);
  const ort = await loadOrt();
  session ??= ort.InferenceSession.create(matmulModel(), { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const out = await (await session).run({ A: new ort.Tensor('float32', a, [n, k]), B: new ort.Tensor('float32', b, [k, m]) });
  return out.Y!.data as Float32Array;
}
