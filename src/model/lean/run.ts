// Runs a lean decoder file (format.ts) on the WASM SIMD kernels (kernels.ts): shapes are
// inferred from the inputs, every tensor gets a place in one arena planned before the run
// (plan.ts: the memory a run needs is known, and checked, before anything is allocated), the
// convolutions and element-wise ops run in WASM and the copies (Concat, Slice, DepthToSpace)
// in TypeScript on the same memory. Display only: never part of entropy decoding.
import { decodeLean, type LeanGraph, type LeanOp } from './format.ts';
import { align16, LeanError, planArena, size, sliceRange, type Dims } from './plan.ts';
import { packedWeight, packWeights, type PackedWeights, type SharedWeights } from './weights.ts';
import type { Kernels } from './kernels.ts';

export { LeanError, type Dims };

export interface Feed {
  data: Float32Array;
  dims: number[];
}

export interface RunPlan {
  /** Bytes of activations (inputs included) the run needs beside the weights. */
  arenaBytes: number;
  /** Total module memory the run needs. */
  totalBytes: number;
  shapes: Map<string, Dims>;
  offsets: Map<string, number>;
}

const PAGE = 65536;

export class LeanDecoder {
  private readonly weights: PackedWeights;
  /** Byte offset of the weight block in the module's memory. */
  private readonly weightsAt: number;
  private readonly arenaStart: number;

  private constructor(
    readonly graph: LeanGraph,
    private readonly k: Kernels,
    data: Uint8Array,
    shared: SharedWeights,
  ) {
    this.weights = packWeights(graph, data, shared);
    this.weightsAt = align16(k.heapBase);
    this.arenaStart = align16(this.weightsAt + 4 * this.weights.values.length);
    this.ensure(this.arenaStart);
    new Float32Array(k.memory.buffer).set(this.weights.values, this.weightsAt / 4);
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

  /** A weight's byte offset in the module's memory, and its dimensions. */
  private weight(name: string): { at: number; dims: number[] } {
    const w = packedWeight(this.weights, name);
    return { at: this.weightsAt + 4 * w.at, dims: w.dims };
  }

  /** Shapes and arena offsets for inputs of these shapes; throws on inconsistent shapes. */
  plan(inputDims: Record<string, number[]>): RunPlan {
    const p = planArena(this.graph, (n) => this.weight(n).dims, inputDims);
    return { ...p, totalBytes: this.arenaStart + p.arenaBytes };
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
