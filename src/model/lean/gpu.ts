// Runs a lean decoder file (format.ts) with WebGPU compute shaders (wgsl.ts): the same graph,
// shapes and arena plan (plan.ts) as the WASM executor (run.ts). The weights are uploaded once
// as float32; the activations live in one storage buffer (the arena, tensors at the plan's
// offsets); one pipeline per op kind and static configuration, made when the decoder is
// created; a run is one command encoder (one compute pass, a dispatch per op, then a copy of
// the output) and a mapAsync read-back. A run whose buffers or dispatches exceed the device's
// limits fails before anything is dispatched (the caller then runs WASM). Display only.
import { decodeLean, type LeanGraph, type LeanOp } from './format.ts';
import { LeanError, planArena, size, sliceRange, type ArenaPlan, type Dims } from './plan.ts';
import { packedWeight, packWeights, type PackedWeights, type SharedWeights } from './weights.ts';
import { convShader, convTransposeShader, COPY_SHADER, DEPTH_TO_SPACE_SHADER, eltShader, PARAMS, WORKGROUP, type ConvConfig, type EltKind } from './wgsl.ts';

// The parts of WebGPU used here (the DOM types of this build do not have them).
export interface GpuBuffer {
  size: number;
  destroy(): void;
  mapAsync(mode: number): Promise<void>;
  getMappedRange(): ArrayBuffer;
  unmap(): void;
}
export interface GpuLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  maxComputeWorkgroupsPerDimension: number;
  minUniformBufferOffsetAlignment: number;
}
interface GpuPass {
  setPipeline(p: unknown): void;
  setBindGroup(i: number, g: unknown, dynamicOffsets?: number[]): void;
  dispatchWorkgroups(x: number, y?: number): void;
  end(): void;
}
interface GpuEncoder {
  beginComputePass(): GpuPass;
  copyBufferToBuffer(src: GpuBuffer, srcOffset: number, dst: GpuBuffer, dstOffset: number, size: number): void;
  finish(): unknown;
}
export interface GpuDevice {
  limits: GpuLimits;
  lost: Promise<{ reason?: string; message?: string }>;
  queue: { writeBuffer(b: GpuBuffer, offset: number, data: ArrayBufferView): void; submit(cmds: unknown[]): void };
  createBuffer(d: { size: number; usage: number; mappedAtCreation?: boolean }): GpuBuffer;
  createShaderModule(d: { code: string }): unknown;
  createBindGroupLayout(d: unknown): unknown;
  createPipelineLayout(d: { bindGroupLayouts: unknown[] }): unknown;
  createComputePipelineAsync(d: unknown): Promise<unknown>;
  createBindGroup(d: unknown): unknown;
  createCommandEncoder(): GpuEncoder;
  pushErrorScope(filter: 'validation' | 'out-of-memory' | 'internal'): void;
  popErrorScope(): Promise<{ message: string } | null>;
  destroy(): void;
}

const USAGE = { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, UNIFORM: 0x40, STORAGE: 0x80 } as const;
const MAP_READ = 0x1;
const SHADER_COMPUTE = 0x4;
/** Bytes between two dispatches' parameters in the uniform buffer (the largest offset alignment WebGPU allows). */
const SLOT = 256;

interface Dispatch {
  pipeline: unknown;
  /** Invocations; the parameters beyond the first two. */
  n: number;
  params: number[];
  /** Float parameters by slot (Affine, Clip). */
  floats?: Record<number, number>;
}

interface Program {
  plan: ArenaPlan;
  dispatches: Dispatch[];
}

export class LeanGpuDecoder {
  /** The weights; `at` is a float index into the weight buffer. */
  private readonly weights: PackedWeights;
  private readonly pipelines = new Map<string, unknown>();
  private readonly layout: unknown;
  private readonly pipelineLayout: unknown;
  private weightBuf: GpuBuffer;
  private arena: GpuBuffer | null = null;
  private params: GpuBuffer | null = null;
  private bindGroup: unknown = null;
  private programs = new Map<string, Program>();
  private queue: Promise<unknown> = Promise.resolve();
  private destroyed = false;

  private constructor(
    readonly graph: LeanGraph,
    readonly device: GpuDevice,
    data: Uint8Array,
    shared: SharedWeights,
  ) {
    this.weights = packWeights(graph, data, shared);
    const bytes = Math.max(16, 4 * this.weights.values.length);
    this.checkBuffer(bytes, 'the weights');
    const all = new Float32Array(bytes / 4);
    all.set(this.weights.values);
    this.weightBuf = device.createBuffer({ size: bytes, usage: USAGE.STORAGE | USAGE.COPY_DST });
    device.queue.writeBuffer(this.weightBuf, 0, all);
    this.layout = device.createBindGroupLayout({
      entries: [
        { binding: 0, visibility: SHADER_COMPUTE, buffer: { type: 'storage' } },
        { binding: 1, visibility: SHADER_COMPUTE, buffer: { type: 'read-only-storage' } },
        { binding: 2, visibility: SHADER_COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true, minBindingSize: 4 * PARAMS } },
      ],
    });
    this.pipelineLayout = device.createPipelineLayout({ bindGroupLayouts: [this.layout] });
  }

  /**
   * Loads the lean file, uploads its weights and compiles a pipeline for every op kind and
   * configuration the graph uses. `shared`: the files the lean file takes weights from.
   */
  static async create(bytes: Uint8Array, device: GpuDevice, shared: SharedWeights = {}): Promise<LeanGpuDecoder> {
    const { graph, data } = decodeLean(bytes);
    device.pushErrorScope('out-of-memory');
    device.pushErrorScope('validation');
    const d = new LeanGpuDecoder(graph, device, data, shared);
    try {
      await Promise.all([...new Set(graph.nodes.map((op) => d.shaderFor(op)).flat())].map((s) => d.pipeline(s)));
    } finally {
      const [validation, oom] = [await device.popErrorScope(), await device.popErrorScope()];
      const err = validation ?? oom;
      if (err) {
        d.destroy();
        throw new LeanError(`WebGPU: cannot set up the lean decoder: ${err.message}`);
      }
    }
    return d;
  }

  /** Frees the decoder's buffers (the device stays). */
  destroy(): void {
    this.destroyed = true;
    this.weightBuf.destroy();
    this.arena?.destroy();
    this.params?.destroy();
    this.arena = this.params = null;
  }

  private checkBuffer(bytes: number, what: string): void {
    const l = this.device.limits;
    const max = Math.min(l.maxStorageBufferBindingSize, l.maxBufferSize);
    if (bytes > max) throw new LeanError(`WebGPU: ${what} need ${bytes} bytes, more than the device's storage buffer limit of ${max}`);
  }

  private weight(name: string): { at: number; dims: number[] } {
    return packedWeight(this.weights, name);
  }

  /** The shader key(s) an op runs with: 'conv:…', 'convT:…', 'elt:kind', 'copy', 'd2s'. */
  private shaderFor(op: LeanOp): string[] {
    switch (op.op) {
      case 'Conv':
      case 'ConvTranspose': {
        const wd = this.weight(op.w).dims;
        const ocg = op.op === 'Conv' ? wd[0]! / op.groups : wd[1]!;
        const c: ConvConfig = { kh: op.k[0], kw: op.k[1], sh: op.s[0], sw: op.s[1], ocb: ocg % 4 === 0 ? 4 : 1, act: op.act, bias: !!op.b };
        return [`${op.op === 'Conv' ? 'conv' : 'convT'}:${JSON.stringify(c)}`];
      }
      case 'Add':
        return [`elt:${op.act ? 'add-relu' : 'add'}`];
      case 'Affine':
        return ['elt:affine'];
      case 'Relu':
        return ['elt:relu'];
      case 'Clip':
        return ['elt:clip'];
      case 'Concat':
      case 'Slice':
        return ['copy'];
      case 'DepthToSpace':
        return ['d2s'];
    }
  }

  private async pipeline(key: string): Promise<unknown> {
    const have = this.pipelines.get(key);
    if (have) return have;
    const [kind, rest] = [key.slice(0, key.indexOf(':') < 0 ? key.length : key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
    const code =
      kind === 'conv' ? convShader(JSON.parse(rest)) : kind === 'convT' ? convTransposeShader(JSON.parse(rest)) : kind === 'elt' ? eltShader(rest as EltKind) : kind === 'copy' ? COPY_SHADER : DEPTH_TO_SPACE_SHADER;
    const module = this.device.createShaderModule({ code });
    let p: unknown;
    try {
      p = await this.device.createComputePipelineAsync({ layout: this.pipelineLayout, compute: { module, entryPoint: 'main' } });
    } catch (e) {
      throw new LeanError(`WebGPU: the ${kind} shader does not compile: ${(e as Error).message}`);
    }
    this.pipelines.set(key, p);
    return p;
  }

  /** Shapes and arena offsets for inputs of these shapes (as LeanDecoder.plan). */
  plan(inputDims: Record<string, number[]>): ArenaPlan {
    return planArena(this.graph, (n) => this.weight(n).dims, inputDims);
  }

  /** The dispatches of a run with these input shapes (cached by shape). */
  private program(inputDims: Record<string, number[]>): Program {
    const key = this.graph.inputs.map((i) => `${inputDims[i.name]}`).join('|');
    const have = this.programs.get(key);
    if (have) return have;
    const plan = this.plan(inputDims);
    const at = (n: string) => plan.offsets.get(n)! / 4;
    const dims = (n: string): Dims => plan.shapes.get(n)!;
    const pipe = (op: LeanOp) => this.pipelines.get(this.shaderFor(op)[0]!)!;
    const out: Dispatch[] = [];
    for (const op of this.graph.nodes) {
      const yd = dims(op.y);
      switch (op.op) {
        case 'Conv':
        case 'ConvTranspose': {
          const [, c, h, w] = dims(op.x);
          const [, oc, oh, ow] = yd;
          const wd = this.weight(op.w).dims;
          const cg = c / op.groups;
          const ocg = oc / op.groups;
          const ocb = ocg % 4 === 0 ? 4 : 1;
          const pads = op.op === 'Conv' ? op.pads : [0, 0, 0, 0];
          if (op.op === 'ConvTranspose' && wd[1] !== ocg) throw new LeanError(`ConvTranspose ${op.y}: weight ${wd} for ${oc} outputs`);
          out.push({
            pipeline: pipe(op),
            n: (oc / ocb) * oh * ow,
            params: [at(op.x), h, w, this.weight(op.w).at, op.b ? this.weight(op.b).at : 0, at(op.y), oc, oh, ow, pads[0]!, pads[1]!, cg, ocg],
          });
          break;
        }
        case 'Add':
          out.push({ pipeline: pipe(op), n: size(yd), params: [at(op.a), at(op.b), at(op.y)] });
          break;
        case 'Affine':
          out.push({ pipeline: pipe(op), n: size(yd), params: [at(op.x), 0, at(op.y), 0, 0], floats: { 5: op.mul, 6: op.add } });
          break;
        case 'Relu':
          out.push({ pipeline: pipe(op), n: size(yd), params: [at(op.x), 0, at(op.y)] });
          break;
        case 'Clip':
          out.push({ pipeline: pipe(op), n: size(yd), params: [at(op.x), 0, at(op.y), 0, 0], floats: { 5: op.lo, 6: op.hi } });
          break;
        case 'Concat': {
          const outer = yd.slice(0, op.axis).reduce((a, b) => a * b, 1);
          const inner = yd.slice(op.axis + 1).reduce((a, b) => a * b, 1);
          const rowOut = yd[op.axis]! * inner;
          let off = 0;
          for (const x of op.xs) {
            const row = dims(x)[op.axis]! * inner;
            out.push({ pipeline: pipe(op), n: outer * row, params: [at(x), row, at(op.y) + off, rowOut, row] });
            off += row;
          }
          break;
        }
        case 'Slice': {
          const d = dims(op.x);
          const [s] = sliceRange(op, d[op.axis]!);
          const outer = d.slice(0, op.axis).reduce((a, b) => a * b, 1);
          const inner = d.slice(op.axis + 1).reduce((a, b) => a * b, 1);
          const row = yd[op.axis]! * inner;
          out.push({ pipeline: pipe(op), n: outer * row, params: [at(op.x) + s * inner, d[op.axis]! * inner, at(op.y), row, row] });
          break;
        }
        case 'DepthToSpace': {
          const [, , h, w] = dims(op.x);
          out.push({ pipeline: pipe(op), n: size(yd), params: [at(op.x), h, w, at(op.y), op.block, yd[2], yd[3]] });
          break;
        }
      }
    }
    const prog = { plan, dispatches: out };
    this.programs.set(key, prog);
    return prog;
  }

  /** Workgroups (x, y) for n invocations, or an error past the device's limit. */
  private grid(n: number): [number, number] {
    const max = this.device.limits.maxComputeWorkgroupsPerDimension;
    const groups = Math.ceil(n / WORKGROUP);
    const x = Math.min(groups, max);
    const y = Math.ceil(groups / x);
    if (y > max) throw new LeanError(`WebGPU: ${n} invocations need more than ${max}x${max} workgroups`);
    return [x, y];
  }

  /**
   * One run: the output (float32 NCHW) read back from the GPU. Runs are queued one after
   * the other. A run that does not fit the device's limits, or needs more than `maxBytes` of
   * activations, fails before dispatching.
   */
  run(feeds: Record<string, { data: Float32Array; dims: number[] }>, maxBytes = Infinity): Promise<{ data: Float32Array; dims: number[] }> {
    const r = this.queue.then(() => this.runNow(feeds, maxBytes));
    this.queue = r.catch(() => undefined);
    return r;
  }

  private async runNow(feeds: Record<string, { data: Float32Array; dims: number[] }>, maxBytes: number): Promise<{ data: Float32Array; dims: number[] }> {
    if (this.destroyed) throw new LeanError('WebGPU: the lean decoder was destroyed');
    const prog = this.program(Object.fromEntries(Object.entries(feeds).map(([n, f]) => [n, f.dims])));
    const { plan, dispatches } = prog;
    // every limit is checked before anything is allocated or dispatched
    if (plan.arenaBytes > maxBytes) throw new LeanError(`WebGPU: the decoder run needs ${plan.arenaBytes} bytes of activations, more than the limit of ${maxBytes}`);
    this.checkBuffer(plan.arenaBytes, `the activations of this run (${[...plan.shapes.get(this.graph.output)!].join('x')} output)`);
    const grids = dispatches.map((d) => this.grid(d.n));
    for (const i of this.graph.inputs) {
      const f = feeds[i.name];
      if (!f || f.data.length !== size(plan.shapes.get(i.name)!)) throw new LeanError(`input ${i.name}: ${f?.data.length} values for shape ${f?.dims}`);
    }
    const dev = this.device;
    dev.pushErrorScope('out-of-memory');
    dev.pushErrorScope('validation');
    let readback: GpuBuffer | null = null;
    let scoped = true;
    const popScopes = async () => {
      scoped = false;
      const [validation, oom] = [await dev.popErrorScope(), await dev.popErrorScope()];
      return validation ?? oom;
    };
    try {
      if (!this.arena || this.arena.size < plan.arenaBytes) {
        this.arena?.destroy();
        this.arena = dev.createBuffer({ size: Math.max(16, plan.arenaBytes), usage: USAGE.STORAGE | USAGE.COPY_SRC | USAGE.COPY_DST });
        this.bindGroup = null;
      }
      const paramBytes = dispatches.length * SLOT;
      if (!this.params || this.params.size < paramBytes) {
        this.params?.destroy();
        this.params = dev.createBuffer({ size: paramBytes, usage: USAGE.UNIFORM | USAGE.COPY_DST });
        this.bindGroup = null;
      }
      this.bindGroup ??= dev.createBindGroup({
        layout: this.layout,
        entries: [
          { binding: 0, resource: { buffer: this.arena } },
          { binding: 1, resource: { buffer: this.weightBuf } },
          { binding: 2, resource: { buffer: this.params, size: 4 * PARAMS } },
        ],
      });
      const u = new Uint32Array(paramBytes / 4);
      const f = new Float32Array(u.buffer);
      dispatches.forEach((d, k) => {
        const base = (k * SLOT) / 4;
        u[base] = d.n;
        u[base + 1] = grids[k]![0] * WORKGROUP;
        d.params.forEach((v, j) => (u[base + 2 + j] = v));
        for (const [slot, v] of Object.entries(d.floats ?? {})) f[base + Number(slot)] = v;
      });
      dev.queue.writeBuffer(this.params, 0, u);
      for (const i of this.graph.inputs) dev.queue.writeBuffer(this.arena, plan.offsets.get(i.name)!, feeds[i.name]!.data);
      const od = plan.shapes.get(this.graph.output)!;
      const outBytes = 4 * size(od);
      readback = dev.createBuffer({ size: outBytes, usage: USAGE.MAP_READ | USAGE.COPY_DST });
      const enc = dev.createCommandEncoder();
      const pass = enc.beginComputePass();
      dispatches.forEach((d, k) => {
        pass.setPipeline(d.pipeline);
        pass.setBindGroup(0, this.bindGroup, [k * SLOT]);
        pass.dispatchWorkgroups(grids[k]![0], grids[k]![1]);
      });
      pass.end();
      enc.copyBufferToBuffer(this.arena, plan.offsets.get(this.graph.output)!, readback, 0, outBytes);
      dev.queue.submit([enc.finish()]);
      const err = await popScopes();
      if (err) throw new LeanError(`WebGPU: the run failed: ${err.message}`);
      await readback.mapAsync(MAP_READ);
      const data = new Float32Array(readback.getMappedRange().slice(0));
      readback.unmap();
      return { data, dims: [...od] };
    } catch (e) {
      // an exception before the scopes were popped: pop them (their error says more)
      const err = scoped ? await popScopes().catch(() => null) : null;
      throw err ? new LeanError(`WebGPU: the run failed: ${err.message}`) : e;
    } finally {
      readback?.destroy();
    }
  }
}
