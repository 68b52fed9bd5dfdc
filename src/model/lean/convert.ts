// ONNX decoder graph → lean decoder file (format.ts). Node-side: run by
// scripts/build-lean-model.ts and the parity tests. Constants fold into op attributes,
// scalar Mul/Add/Sub become Affine, a ReLU that is its producer's only consumer fuses into
// it, and weights are stored as int8 with per-row scales (or float16 / float32). Anything
// outside the lean op set is an error naming the op: the next model must keep to the set.
import { createHash } from 'node:crypto';
import { decodeOnnx, encodeOnnx, floatTensor, tensorValues, type OnnxModel, type OnnxNode } from './onnx.ts';
import { encodeLean, weightSize, type LeanGraph, type LeanOp, type LeanTensor } from './format.ts';
import { floatToHalf } from '../binfile.ts';
import type { PreviewBasis } from '../preview.ts';
import { opInputs } from './ops.ts';
import { weightValues, type SharedWeights } from './weights.ts';

export type WeightMode = 'i8' | 'f16' | 'f32';

export interface ConvertOptions {
  /** How multi-dimensional weights (conv kernels) are stored; biases stay float32. */
  weights?: WeightMode;
  /**
   * The model's preview basis: a 1×1 convolution weight that is this basis transposed (to
   * within its int8 rounding) is taken from preview.bin instead of stored twice.
   */
  preview?: PreviewBasis | null;
}

function attrs(n: OnnxNode): Record<string, number | number[] | string> {
  const out: Record<string, number | number[] | string> = {};
  for (const a of n.attribute ?? []) {
    if (a.ints && a.ints.length) out[a.name] = a.ints.map(Number);
    else if (a.s && a.s.length) out[a.name] = new TextDecoder().decode(a.s);
    else if (a.f !== undefined) out[a.name] = a.f;
    else if (a.i !== undefined) out[a.name] = Number(a.i);
    else if (a.ints) out[a.name] = [];
  }
  return out;
}

class DataWriter {
  private parts: Uint8Array[] = [];
  private size = 0;
  put(bytes: Uint8Array, align: number): number {
    const pad = (align - (this.size % align)) % align;
    if (pad) this.push(new Uint8Array(pad));
    const at = this.size;
    this.push(bytes);
    return at;
  }
  private push(b: Uint8Array): void {
    this.parts.push(b);
    this.size += b.length;
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const p of this.parts) (out.set(p, o), (o += p.length));
    return out;
  }
}

function storeWeight(w: DataWriter, dims: number[], v: Float32Array, mode: WeightMode): LeanTensor {
  if (mode === 'f32') return { dims, dtype: 'f32', offset: w.put(new Uint8Array(v.slice().buffer), 4) };
  if (mode === 'f16') {
    const h = new Uint16Array(v.length);
    for (let i = 0; i < v.length; i++) h[i] = floatToHalf(v[i]!);
    return { dims, dtype: 'f16', offset: w.put(new Uint8Array(h.buffer), 4) };
  }
  const rows = dims[0]!;
  const cols = v.length / rows;
  const q = new Int8Array(v.length);
  const scales = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let max = 0;
    for (let c = 0; c < cols; c++) max = Math.max(max, Math.abs(v[r * cols + c]!));
    const s = Math.fround(max > 0 ? max / 127 : 1);
    scales[r] = s;
    for (let c = 0; c < cols; c++) q[r * cols + c] = Math.max(-127, Math.min(127, Math.round(v[r * cols + c]! / s)));
  }
  const offset = w.put(new Uint8Array(q.buffer), 4);
  return { dims, dtype: 'i8', offset, scaleOffset: w.put(new Uint8Array(scales.buffer), 4) };
}

function pair(v: unknown, def: number): [number, number] {
  const a = Array.isArray(v) ? v : [def, def];
  return [a[0] ?? def, a[1] ?? def];
}

export interface Converted {
  lean: Uint8Array;
  graph: LeanGraph;
}

/** Converts a decoder .onnx (the model of record) to the lean file. */
export function convertOnnx(onnxBytes: Uint8Array, opts: ConvertOptions = {}): Converted {
  const mode = opts.weights ?? 'i8';
  const m = decodeOnnx(onnxBytes);
  const g = m.graph;
  const consts = new Map<string, Float32Array | number[]>();
  const inits = new Map<string, { dims: number[]; v: Float32Array }>();
  for (const t of g.initializer) {
    const v = tensorValues(t);
    inits.set(t.name, { dims: (t.dims ?? []).map(Number), v: v instanceof Float32Array ? v : Float32Array.from(v) });
  }
  const scalar = (name: string): number | null => {
    const c = consts.get(name) ?? (inits.get(name)?.v.length === 1 ? inits.get(name)!.v : undefined);
    return c && c.length === 1 ? Number(c[0]) : null;
  };
  const constList = (name: string, what: string): number[] => {
    const c = consts.get(name) ?? inits.get(name)?.v;
    if (!c) throw new Error(`${what}: input ${name} is not a constant (the lean op set takes constant slices)`);
    return Array.from(c, Number);
  };

  const nodes: LeanOp[] = [];
  const used = new Set<string>();
  const weight = (name: string) => {
    if (!inits.has(name)) throw new Error(`weight ${name} is not an initializer`);
    used.add(name);
    return name;
  };
  for (const n of g.node) {
    const a = attrs(n);
    const [x, y] = [n.input[0]!, n.output[0]!];
    const where = `${n.opType} ${n.name ?? y}`;
    switch (n.opType) {
      case 'Constant': {
        const t = n.attribute.find((at) => at.name === 'value')?.t;
        if (!t) throw new Error(`${where}: only tensor constants are supported`);
        consts.set(y, tensorValues(t));
        break;
      }
      case 'Conv':
      case 'ConvTranspose': {
        const wName = weight(n.input[1]!);
        const wd = inits.get(wName)!.dims;
        if (wd.length !== 4) throw new Error(`${where}: only 2-D convolutions are in the lean op set`);
        const dil = (a.dilations as number[] | undefined) ?? [1, 1];
        if (dil.some((d) => d !== 1)) throw new Error(`${where}: dilation ${dil} is outside the lean op set`);
        if (a.auto_pad && a.auto_pad !== 'NOTSET') throw new Error(`${where}: auto_pad ${a.auto_pad} is outside the lean op set`);
        const k = pair(a.kernel_shape, 0);
        if (k[0] !== wd[2] || k[1] !== wd[3]) throw new Error(`${where}: kernel_shape ${k} differs from the weight's ${wd.slice(2)}`);
        const s = pair(a.strides, 1);
        const groups = (a.group as number | undefined) ?? 1;
        const b = n.input[2] ? weight(n.input[2]) : undefined;
        const pads = ((a.pads as number[] | undefined) ?? [0, 0, 0, 0]).map(Number);
        if (n.opType === 'Conv') {
          // ONNX pads: [top, left, bottom, right]
          nodes.push({ op: 'Conv', x, w: wName, ...(b ? { b } : {}), y, k, s, pads: [pads[0]!, pads[1]!, pads[2]!, pads[3]!], groups, act: 0 });
        } else {
          const outPad = (a.output_padding as number[] | undefined) ?? [0, 0];
          if (pads.some((p) => p) || outPad.some((p) => p) || a.output_shape) throw new Error(`${where}: padded ConvTranspose is outside the lean op set`);
          nodes.push({ op: 'ConvTranspose', x, w: wName, ...(b ? { b } : {}), y, k, s, groups, act: 0 });
        }
        break;
      }
      case 'Relu':
        nodes.push({ op: 'Relu', x, y });
        break;
      case 'Add':
      case 'Sub':
      case 'Mul': {
        const [p, q] = [n.input[0]!, n.input[1]!];
        const cp = scalar(p);
        const cq = scalar(q);
        if (cp === null && cq === null) {
          if (n.opType !== 'Add') throw new Error(`${where}: only Add takes two tensors in the lean op set`);
          nodes.push({ op: 'Add', a: p, b: q, y, act: 0 });
        } else if (cq !== null) {
          const [mul, add] = n.opType === 'Mul' ? [cq, 0] : n.opType === 'Add' ? [1, cq] : [1, -cq];
          nodes.push({ op: 'Affine', x: p, y, mul, add });
        } else {
          const [mul, add] = n.opType === 'Mul' ? [cp!, 0] : n.opType === 'Add' ? [1, cp!] : [-1, cp!];
          nodes.push({ op: 'Affine', x: q, y, mul, add });
        }
        break;
      }
      case 'Clip': {
        const lo = n.input[1] ? scalar(n.input[1]) : ((a.min as number | undefined) ?? -Infinity);
        const hi = n.input[2] ? scalar(n.input[2]) : ((a.max as number | undefined) ?? Infinity);
        if (lo === null || hi === null) throw new Error(`${where}: Clip bounds must be constants`);
        nodes.push({ op: 'Clip', x, y, lo, hi });
        break;
      }
      case 'Concat':
        nodes.push({ op: 'Concat', xs: [...n.input], y, axis: ((a.axis as number) + 4) % 4 });
        break;
      case 'Slice': {
        const starts = constList(n.input[1]!, where);
        const ends = constList(n.input[2]!, where);
        const axes = n.input[3] ? constList(n.input[3], where) : [0];
        const steps = n.input[4] ? constList(n.input[4], where) : [1];
        if (starts.length !== 1 || axes.length !== 1 || steps[0] !== 1) throw new Error(`${where}: only one-axis step-1 slices are in the lean op set`);
        // int64 "to the end" sentinels become a plain large number (clamped at run time)
        const clampEnd = (v: number) => Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, v));
        nodes.push({ op: 'Slice', x, y, axis: (axes[0]! + 4) % 4, start: clampEnd(starts[0]!), end: clampEnd(ends[0]!) });
        break;
      }
      case 'DepthToSpace':
        if ((a.mode ?? 'DCR') !== 'CRD') throw new Error(`${where}: DepthToSpace mode ${a.mode ?? 'DCR'} (the lean op set has CRD)`);
        nodes.push({ op: 'DepthToSpace', x, y, block: a.blocksize as number });
        break;
      default:
        throw new Error(`${where}: op ${n.opType} is outside the lean op set (docs/design.md)`);
    }
  }
  const fused = fuse(nodes, g.output[0]!.name);
  const w = new DataWriter();
  const weights: Record<string, LeanTensor> = {};
  const shares = new Set<string>();
  for (const name of [...used].sort()) {
    const { dims, v } = inits.get(name)!;
    if (opts.preview && isPreviewBasis(dims, v, opts.preview)) {
      weights[name] = { dims, dtype: 'preview', offset: 0 };
      shares.add('preview.bin');
      continue;
    }
    weights[name] = storeWeight(w, dims, v, dims.length > 1 ? mode : 'f32');
  }
  const inputs = g.input.map((i) => ({ name: i.name, dims: inputDims(m, i.name) }));
  const graph: LeanGraph = {
    inputs,
    output: g.output[0]!.name,
    nodes: fused,
    weights,
    source: createHash('sha256').update(onnxBytes).digest('hex'),
    ...(shares.size ? { shares: [...shares] } : {}),
  };
  return { lean: encodeLean(graph, w.bytes()), graph };
}

/** Whether weight `v` [3·S², P, 1, 1] is the preview basis [P][3·S²] transposed, to within half its int8 step. */
function isPreviewBasis(dims: number[], v: Float32Array, p: PreviewBasis): boolean {
  const per = 3 * p.window * p.window;
  if (dims.length !== 4 || dims[0] !== per || dims[1] !== p.components || dims[2] !== 1 || dims[3] !== 1) return false;
  const c = p.components;
  for (let k = 0; k < c; k++) {
    let max = 0;
    for (let j = 0; j < per; j++) max = Math.max(max, Math.abs(v[j * c + k]!));
    const tol = (max / 127) * 0.5 + 1e-7;
    for (let j = 0; j < per; j++) if (Math.abs(v[j * c + k]! - p.basis[k * per + j]!) > tol) return false;
  }
  return true;
}

function inputDims(m: OnnxModel, name: string): (number | string)[] {
  const vi = (m.graph.input as unknown as { name: string; type?: { tensorType?: { shape?: { dim?: { dimValue?: number; dimParam?: string }[] } } } }[]).find((i) => i.name === name);
  return (vi?.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : Number(d.dimValue ?? 0)));
}

/** Fuses ReLU into its producer and Affine into Affine where the producer has one consumer. */
function fuse(nodes: LeanOp[], output: string): LeanOp[] {
  const consumers = new Map<string, number>();
  for (const n of nodes) for (const i of opInputs(n)) consumers.set(i, (consumers.get(i) ?? 0) + 1);
  const byOutput = new Map<string, LeanOp>();
  const out: LeanOp[] = [];
  for (const n of nodes) {
    const p = n.op === 'Relu' || n.op === 'Affine' ? byOutput.get(n.x) : undefined;
    const single = p && consumers.get(p.y) === 1 && p.y !== output;
    if (n.op === 'Relu' && single && (p.op === 'Conv' || p.op === 'ConvTranspose' || p.op === 'Add') && p.act === 0) {
      byOutput.delete(p.y);
      p.act = 1;
      p.y = n.y;
      byOutput.set(p.y, p);
      continue;
    }
    if (n.op === 'Affine' && single && p.op === 'Affine') {
      byOutput.delete(p.y);
      // (x·m1 + a1)·m2 + a2
      p.add = p.add * n.mul + n.add;
      p.mul = p.mul * n.mul;
      p.y = n.y;
      byOutput.set(p.y, p);
      continue;
    }
    out.push(n);
    byOutput.set(n.y, n);
  }
  return out;
}

/**
 * The .onnx with every weight replaced by what the lean file stores, dequantised: the oracle
 * that onnxruntime runs in the parity tests (same weights, other kernels).
 */
export function dequantisedOnnx(onnxBytes: Uint8Array, lean: { graph: LeanGraph; data: Uint8Array }, shared: SharedWeights = {}): Uint8Array {
  const m = decodeOnnx(onnxBytes);
  m.graph.initializer = m.graph.initializer.map((t) => {
    const lw = lean.graph.weights[t.name];
    return lw ? floatTensor(t.name, lw.dims, weightValues(lw, lean.data, shared)) : t;
  });
  return encodeOnnx(m);
}

export { weightSize };
