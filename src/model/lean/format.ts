// The lean decoder file (models/decoder-lean.bin): the browser's decoder graph in the op set
// of docs/design.md ("Lean decoder op set"), with compact weights. Written from the decoder
// .onnx by src/model/lean/convert.ts (the .onnx stays the model of record), read by
// src/model/lean/run.ts. Little-endian:
//   "MRTN" | u8 version (1) | 3 × u8 0 | u32 json length | JSON (utf-8, LeanGraph) |
//   zero padding to a multiple of 8 | weight data (offsets in LeanTensor are from here)
import { BIN_HEADER, openBin } from '../binfile.ts';

export const LEAN_MAGIC = 'MRTN';

/** Activation applied by a Conv / ConvTranspose / Add after its sum: 0 none, 1 ReLU. */
export type Act = 0 | 1;

export type LeanOp =
  | { op: 'Conv'; x: string; w: string; b?: string; y: string; k: [number, number]; s: [number, number]; pads: [number, number, number, number]; groups: number; act: Act }
  | { op: 'ConvTranspose'; x: string; w: string; b?: string; y: string; k: [number, number]; s: [number, number]; groups: number; act: Act }
  | { op: 'Add'; a: string; b: string; y: string; act: Act }
  /** y = x·mul + add (ONNX Mul / Add / Sub by a scalar constant). */
  | { op: 'Affine'; x: string; y: string; mul: number; add: number }
  | { op: 'Relu'; x: string; y: string }
  | { op: 'Clip'; x: string; y: string; lo: number; hi: number }
  | { op: 'Concat'; xs: string[]; y: string; axis: number }
  /** One axis, step 1; start/end as in ONNX (negative from the end, clamped). */
  | { op: 'Slice'; x: string; y: string; axis: number; start: number; end: number }
  /** ONNX DepthToSpace, mode CRD. */
  | { op: 'DepthToSpace'; x: string; y: string; block: number };

/**
 * Stored weight: 'f32'; 'f16' (IEEE binary16); 'i8' (per-row scale: value = q · scale[row],
 * a row being everything under the first dimension; `scales` float32 × dims[0] at
 * scaleOffset); 'preview': not stored here but taken from preview.bin, which the page loads
 * first anyway (the 1×1 convolution of the linear synthesis path, [3·S², P, 1, 1], is the
 * preview basis transposed: shipping it twice cost ~150 KB on the wire).
 */
export interface LeanTensor {
  dims: number[];
  dtype: 'f32' | 'f16' | 'i8' | 'preview';
  offset: number;
  scaleOffset?: number;
}

export interface LeanGraph {
  /** Graph inputs in order, with their rank-4 shapes ('gh'/'gw'-style names for dynamic axes). */
  inputs: { name: string; dims: (number | string)[] }[];
  output: string;
  nodes: LeanOp[];
  weights: Record<string, LeanTensor>;
  /** sha256 of the .onnx this file was converted from. */
  source: string;
  /** Other model files a weight is taken from ('preview.bin' for dtype 'preview'). */
  shares?: string[];
}

export interface LeanFile {
  graph: LeanGraph;
  /** The weight data block (offsets in graph.weights are from its start). */
  data: Uint8Array;
}

export function encodeLean(graph: LeanGraph, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(graph));
  const dataStart = Math.ceil((BIN_HEADER + json.length) / 8) * 8;
  const out = new Uint8Array(dataStart + data.length);
  out.set([...LEAN_MAGIC].map((c) => c.charCodeAt(0)), 0);
  out[4] = 1;
  new DataView(out.buffer).setUint32(8, json.length, true);
  out.set(json, BIN_HEADER);
  out.set(data, dataStart);
  return out;
}

/** Element count of a weight. */
export function weightSize(t: LeanTensor): number {
  return t.dims.reduce((a, b) => a * b, 1);
}

/** Bytes a weight occupies in the data block (values, and the scales of an i8 weight). */
function storedBytes(t: LeanTensor): { start: number; end: number }[] {
  const n = weightSize(t);
  if (t.dtype === 'preview') return [];
  const per = t.dtype === 'f32' ? 4 : t.dtype === 'f16' ? 2 : 1;
  const spans = [{ start: t.offset, end: t.offset + n * per }];
  if (t.dtype === 'i8') spans.push({ start: t.scaleOffset ?? -1, end: (t.scaleOffset ?? -1) + 4 * t.dims[0]! });
  return spans;
}

export function decodeLean(bytes: Uint8Array): LeanFile {
  const { dv, bad } = openBin(bytes, LEAN_MAGIC, 'decoder-lean.bin');
  const len = dv.getUint32(8, true);
  if (BIN_HEADER + len > bytes.length) throw bad(`JSON length ${len} past the end (${bytes.length} bytes)`);
  let graph: LeanGraph;
  try {
    graph = JSON.parse(new TextDecoder().decode(bytes.subarray(BIN_HEADER, BIN_HEADER + len)));
  } catch (e) {
    throw bad(`graph is not JSON: ${(e as Error).message}`);
  }
  if (!graph || !Array.isArray(graph.nodes) || !Array.isArray(graph.inputs) || typeof graph.output !== 'string' || typeof graph.weights !== 'object') {
    throw bad('graph lacks inputs, output, nodes or weights');
  }
  const data = bytes.subarray(Math.ceil((BIN_HEADER + len) / 8) * 8);
  for (const [name, t] of Object.entries(graph.weights)) {
    if (!Array.isArray(t.dims) || !t.dims.every((d) => Number.isInteger(d) && d > 0) || !['f32', 'f16', 'i8', 'preview'].includes(t.dtype)) {
      throw bad(`weight ${name}: bad dims or dtype`);
    }
    const align = t.dtype === 'f32' ? 4 : t.dtype === 'f16' ? 2 : 1;
    for (const { start, end } of storedBytes(t)) {
      if (!Number.isInteger(start) || start < 0 || end > data.length || start % align) throw bad(`weight ${name}: bytes ${start}..${end} outside the data block (${data.length})`);
    }
  }
  return { graph, data };
}
