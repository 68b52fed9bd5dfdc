// Runs a lean decoder file (format.ts) on the WASM SIMD kernels (kernels.ts): shapes are
// inferred from the inputs, every tensor gets a place in one arena planned before the run
// (so the memory a run needs is known, and checked, before anything is allocated), the
// convolutions and element-wise ops run in WASM and the copies (Concat, Slice, DepthToSpace)
// in TypeScript on the same memory. Display only: never part of entropy decoding.
import { decodeLean, type LeanGraph, type LeanOp } from './format.ts';
import { opInputs } from './ops.ts';
import { weightValues, type SharedWeights } from './weights.ts';
import type { Kernels } from './kernels.ts';

export type Dims = [number, number, number, number];

export interface Feed {
  data: Float32Array;
  dims: number[];
}

interface Planned {
  dims: Dims;
  /** Byte offset in the module's memory. */
  at: number;
}

export interface RunPlan {
  /** Bytes of activations (inputs included) the run needs beside the weights. */
  arenaBytes: number;
  /** Total module memory the run needs. */
  totalBytes: number;
  shapes: Map<string, Dims>;
  offsets: Map<string, number>;
}

const size = (d: Dims) => d[0] * d[1] * d[2] * d[3];
const align16 = (n: number) => Math.ceil(n / 16) * 16;
const PAGE = 65536;

export class LeanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LeanError';
  }
}

export class LeanDecoder {
  private readonly weights = new Map<string, { at: number; dims: number[] }>();
  private readonly arenaStart: number;

  private constructor(
    readonly graph: LeanGraph,
    private readonly k: Kernels,
    data: Uint8Array,
    shared: SharedWeights,
  ) {
    let at = align16(k.heapBase);
    const placed: [number, Float32Array][] = [];
    for (const [name, t] of Object.entries(graph.weights)) {
      const v = weightValues(t, data, shared);
      this.weights.set(name, { at, dims: t.dims });
      placed.push([at, v]);
      at = align16(at + 4 * v.length);
    }
    this.arenaStart = at;
    this.ensure(at);
    const heap = new Float32Array(k.memory.buffer);
    for (const [p, v] of placed) heap.set(v, p / 4);
  }

  /** `shared`: the files the lean file takes weights from (graph.shares), loaded. */
  static create(bytes: Uint8Array, kernels: Kernels, shared: SharedWeights = {}): LeanDecoder {
    const { graph, data } = decodeLean(bytes);
    return new LeanDecoder(graph, kernels, data, shared);
  }

  /** Bytes the module holds now (weights and the largest arena so far). */
  get memoryBytes(): number {
    return this.k.memory.buffer.byteLength;
  }

  private ensure(bytes: number): void {
    const have = this.k.memory.buffer.byteLength;
    if (bytes > have) this.k.memory.grow(Math.ceil((bytes - have) / PAGE));
  }

  private weight(name: string): { at: number; dims: number[] } {
    const w = this.weights.get(name);
    if (!w) throw new LeanError(`weight ${name} is missing from the lean file`);
    return w;
  }

  /** Shapes and arena offsets for inputs of these shapes; throws on inconsistent shapes. */
  plan(inputDims: Record<string, number[]>): RunPlan {
    const shapes = new Map<string, Dims>();
    for (const i of this.graph.inputs) {
      const d = inputDims[i.name];
      if (!d || d.length !== 4 || d[0] !== 1 || !d.every((x) => Number.isInteger(x) && x > 0)) throw new LeanError(`input ${i.name}: expected [1, C, H, W], got ${JSON.stringify(d)}`);
      i.dims.forEach((want, j) => {
        if (typeof want === 'number' && want > 0 && want !== d[j]) throw new LeanError(`input ${i.name}: dimension ${j} is ${d[j]}, the graph wants ${want}`);
      });
      shapes.set(i.name, d as Dims);
    }
    const get = (n: string, op: LeanOp) => {
      const d = shapes.get(n);
      if (!d) throw new LeanError(`${op.op}: input ${n} is not computed before it is used`);
      return d;
    };
    for (const op of this.graph.nodes) shapes.set(op.y, this.outDims(op, get));
    // live ranges [first write, last read] in node order; inputs live from the start
    const first = new Map<string, number>();
    const last = new Map<string, number>();
    for (const i of this.graph.inputs) first.set(i.name, -1);
    this.graph.nodes.forEach((op, idx) => {
      for (const i of opInputs(op)) last.set(i, idx);
      first.set(op.y, idx);
    });
    last.set(this.graph.output, this.graph.nodes.length);
    // greedy by size: each tensor at the lowest offset free of tensors live at the same time
    const names = [...first.keys()].sort((a, b) => size(shapes.get(b)!) - size(shapes.get(a)!) || (a < b ? -1 : 1));
    const offsets = new Map<string, number>();
    const placed: { lo: number; hi: number; from: number; to: number }[] = [];
    let arena = 0;
    for (const n of names) {
      const from = first.get(n)!;
      const to = last.get(n) ?? from;
      const bytes = align16(4 * size(shapes.get(n)!));
      const clash = placed.filter((p) => p.from <= to && from <= p.to).sort((a, b) => a.lo - b.lo);
      let at = 0;
      for (const p of clash) {
        if (at + bytes <= p.lo) break;
        at = Math.max(at, p.hi);
      }
      placed.push({ lo: at, hi: at + bytes, from, to });
      offsets.set(n, at);
      arena = Math.max(arena, at + bytes);
    }
    return { arenaBytes: arena, totalBytes: this.arenaStart + arena, shapes, offsets };
  }

  private outDims(op: LeanOp, get: (n: string, op: LeanOp) => Dims): Dims {
    switch (op.op) {
      case 'Conv': {
        const [, c, h, w] = get(op.x, op);
        const wd = this.weight(op.w).dims;
        if (c !== wd[1]! * op.groups) throw new LeanError(`Conv ${op.y}: ${c} input channels, the weight takes ${wd[1]! * op.groups}`);
        const oh = Math.floor((h + op.pads[0] + op.pads[2] - op.k[0]) / op.s[0]) + 1;
        const ow = Math.floor((w + op.pads[1] + op.pads[3] - op.k[1]) / op.s[1]) + 1;
        if (oh < 1 || ow < 1) throw new LeanError(`Conv ${op.y}: input ${h}x${w} is smaller than the kernel`);
        return [1, wd[0]!, oh, ow];
      }
      case 'ConvTranspose': {
        const [, c, h, w] = get(op.x, op);
        const wd = this.weight(op.w).dims;
        if (c !== wd[0]) throw new LeanError(`ConvTranspose ${op.y}: ${c} input channels, the weight takes ${wd[0]}`);
        return [1, wd[1]! * op.groups, (h - 1) * op.s[0] + op.k[0], (w - 1) * op.s[1] + op.k[1]];
      }
      case 'Add': {
        const a = get(op.a, op);
        const b = get(op.b, op);
        if (a.some((v, i) => v !== b[i])) throw new LeanError(`Add ${op.y}: shapes ${a} and ${b} differ (the lean op set does not broadcast)`);
        return a;
      }
      case 'Affine':
      case 'Relu':
      case 'Clip':
        return get(op.x, op);
      case 'Concat': {
        const ds = op.xs.map((x) => get(x, op));
        const out = [...ds[0]!] as Dims;
        out[op.axis] = 0;
        for (const d of ds) {
          if (d.some((v, i) => i !== op.axis && v !== ds[0]![i])) throw new LeanError(`Concat ${op.y}: shapes ${ds.join(' / ')} differ off axis ${op.axis}`);
          out[op.axis] += d[op.axis]!;
        }
        return out;
      }
      case 'Slice': {
        const d = get(op.x, op);
        const [s, e] = sliceRange(op, d[op.axis]!);
        const out = [...d] as Dims;
        out[op.axis] = e - s;
        if (e - s < 1) throw new LeanError(`Slice ${op.y}: empty slice of ${d}`);
        return out;
      }
      case 'DepthToSpace': {
        const [, c, h, w] = get(op.x, op);
        const b = op.block;
        if (c % (b * b)) throw new LeanError(`DepthToSpace ${op.y}: ${c} channels for block ${b}`);
        return [1, c / (b * b), h * b, w * b];
      }
    }
  }

  /**
   * One run. `maxBytes` bounds the module's memory: a run that would need more fails before
   * allocating (the caller's limit for hostile sizes).
   */
  run(feeds: Record<string, Feed>, maxBytes = Infinity): Feed {
    const plan = this.plan(Object.fromEntries(Object.entries(feeds).map(([n, f]) => [n, f.dims])));
    if (plan.totalBytes > maxBytes) throw new LeanError(`the decoder run needs ${plan.totalBytes} bytes, more than the limit of ${maxBytes}`);
    this.ensure(plan.totalBytes);
    const at = (n: string) => this.arenaStart + plan.offsets.get(n)!;
    const dims = (n: string) => plan.shapes.get(n)!;
    let heap = new Float32Array(this.k.memory.buffer);
    for (const i of this.graph.inputs) {
      const f = feeds[i.name]!;
      if (f.data.length !== size(dims(i.name))) throw new LeanError(`input ${i.name}: ${f.data.length} values for shape ${f.dims}`);
      heap.set(f.data, at(i.name) / 4);
    }
    const k = this.k;
    for (const op of this.graph.nodes) {
      const y = at(op.y);
      switch (op.op) {
        case 'Conv': {
          const [, c, h, w] = dims(op.x);
          const oc = dims(op.y)[1];
          const b = op.b ? this.weight(op.b).at : 0;
          k.conv2d(at(op.x), c, h, w, this.weight(op.w).at, b, y, oc, op.k[0], op.k[1], op.s[0], op.s[1], op.pads[0], op.pads[1], op.pads[2], op.pads[3], op.groups, op.act);
          break;
        }
        case 'ConvTranspose': {
          const [, c, h, w] = dims(op.x);
          const oc = dims(op.y)[1];
          const b = op.b ? this.weight(op.b).at : 0;
          k.conv_transpose2d(at(op.x), c, h, w, this.weight(op.w).at, b, y, oc, op.k[0], op.k[1], op.s[0], op.s[1], op.groups, op.act);
          break;
        }
        case 'Add':
          k.add_f32(at(op.a), at(op.b), y, size(dims(op.y)), op.act);
          break;
        case 'Affine':
          k.affine_f32(at(op.x), y, size(dims(op.y)), op.mul, op.add);
          break;
        case 'Relu':
          k.relu_f32(at(op.x), y, size(dims(op.y)));
          break;
        case 'Clip':
          k.clip_f32(at(op.x), y, size(dims(op.y)), op.lo, op.hi);
          break;
        case 'Concat':
        case 'Slice':
        case 'DepthToSpace':
          heap = new Float32Array(k.memory.buffer);
          copyOp(op, heap, at, dims);
          break;
      }
    }
    heap = new Float32Array(k.memory.buffer);
    const o = at(this.graph.output) / 4;
    const od = dims(this.graph.output);
    return { data: heap.slice(o, o + size(od)), dims: [...od] };
  }
}

function sliceRange(op: { start: number; end: number }, n: number): [number, number] {
  const norm = (v: number) => Math.max(0, Math.min(n, v < 0 ? v + n : v));
  return [norm(op.start), norm(op.end)];
}

/** The ops that only move values: Concat, Slice, DepthToSpace (CRD). */
function copyOp(op: LeanOp, heap: Float32Array, at: (n: string) => number, dims: (n: string) => Dims): void {
  const y = at(op.y) / 4;
  if (op.op === 'Concat') {
    const od = dims(op.y);
    const outer = od.slice(0, op.axis).reduce((a, b) => a * b, 1);
    const inner = od.slice(op.axis + 1).reduce((a, b) => a * b, 1);
    const rowOut = od[op.axis]! * inner;
    let off = 0;
    for (const x of op.xs) {
      const row = dims(x)[op.axis]! * inner;
      const src = at(x) / 4;
      for (let o = 0; o < outer; o++) heap.copyWithin(y + o * rowOut + off, src + o * row, src + o * row + row);
      off += row;
    }
  } else if (op.op === 'Slice') {
    const d = dims(op.x);
    const [s, e] = sliceRange(op, d[op.axis]!);
    const outer = d.slice(0, op.axis).reduce((a, b) => a * b, 1);
    const inner = d.slice(op.axis + 1).reduce((a, b) => a * b, 1);
    const src = at(op.x) / 4;
    const n = (e - s) * inner;
    for (let o = 0; o < outer; o++) {
      const from = src + (o * d[op.axis]! + s) * inner;
      heap.copyWithin(y + o * n, from, from + n);
    }
  } else if (op.op === 'DepthToSpace') {
    const [, c, h, w] = dims(op.x);
    const b = op.block;
    const oc = c / (b * b);
    const ow = w * b;
    const src = at(op.x) / 4;
    for (let ch = 0; ch < oc; ch++)
      for (let i = 0; i < b; i++)
        for (let j = 0; j < b; j++) {
          const plane = src + (ch * b * b + i * b + j) * h * w;
          for (let yy = 0; yy < h; yy++) {
            const row = y + ch * h * b * ow + (yy * b + i) * ow + j;
            const inRow = plane + yy * w;
            for (let xx = 0; xx < w; xx++) heap[row + xx * b] = heap[inRow + xx]!;
          }
        }
  }
}
