// Shape inference and memory planning of a lean decoder run (format.ts), shared by the WASM
// executor (run.ts) and the WebGPU one (gpu.ts): shapes are inferred from the inputs, and
// every tensor gets a place in one arena, planned before the run (so the memory a run needs
// is known, and checked, before anything is allocated).
import type { LeanGraph, LeanOp } from './format.ts';
import { opInputs } from './ops.ts';

export type Dims = [number, number, number, number];

export interface ArenaPlan {
  /** Bytes of activations (inputs included) the run needs beside the weights. */
  arenaBytes: number;
  shapes: Map<string, Dims>;
  /** Byte offset of each tensor in the arena (multiples of 16). */
  offsets: Map<string, number>;
}

export const size = (d: Dims) => d[0] * d[1] * d[2] * d[3];
export const align16 = (n: number) => Math.ceil(n / 16) * 16;

export class LeanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LeanError';
  }
}

/** ONNX Slice start/end on an axis of length n (negative from the end, clamped). */
export function sliceRange(op: { start: number; end: number }, n: number): [number, number] {
  const norm = (v: number) => Math.max(0, Math.min(n, v < 0 ? v + n : v));
  return [norm(op.start), norm(op.end)];
}

/**
 * Shapes and arena offsets for inputs of these shapes; throws on inconsistent shapes.
 * `weightDims` gives a weight's dimensions (and throws for a missing one).
 */
export function planArena(graph: LeanGraph, weightDims: (name: string) => number[], inputDims: Record<string, number[]>): ArenaPlan {
  const shapes = new Map<string, Dims>();
  for (const i of graph.inputs) {
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
  for (const op of graph.nodes) shapes.set(op.y, outDims(op, get, weightDims));
  // live ranges [first write, last read] in node order; inputs live from the start
  const first = new Map<string, number>();
  const last = new Map<string, number>();
  for (const i of graph.inputs) first.set(i.name, -1);
  graph.nodes.forEach((op, idx) => {
    for (const i of opInputs(op)) last.set(i, idx);
    first.set(op.y, idx);
  });
  last.set(graph.output, graph.nodes.length);
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
  return { arenaBytes: arena, shapes, offsets };
}

function outDims(op: LeanOp, get: (n: string, op: LeanOp) => Dims, weightDims: (name: string) => number[]): Dims {
  switch (op.op) {
    case 'Conv': {
      const [, c, h, w] = get(op.x, op);
      const wd = weightDims(op.w);
      if (c !== wd[1]! * op.groups) throw new LeanError(`Conv ${op.y}: ${c} input channels, the weight takes ${wd[1]! * op.groups}`);
      const oh = Math.floor((h + op.pads[0] + op.pads[2] - op.k[0]) / op.s[0]) + 1;
      const ow = Math.floor((w + op.pads[1] + op.pads[3] - op.k[1]) / op.s[1]) + 1;
      if (oh < 1 || ow < 1) throw new LeanError(`Conv ${op.y}: input ${h}x${w} is smaller than the kernel`);
      return [1, wd[0]!, oh, ow];
    }
    case 'ConvTranspose': {
      const [, c, h, w] = get(op.x, op);
      const wd = weightDims(op.w);
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
