// The RCM (learned prior), deterministic form of docs/design.md: float64 with only + - * /,
// fixed loop order, detExp. Flat Float64Arrays, no allocation per token.
import { M } from './rans.ts';
import { base64Decode, base64Encode } from '../format/bytes.ts';
import { detExp } from './detmath.ts';
import { StaticPrior, orderError, type TokenPrior } from './prior.ts';
import { COARSE_BINS, type TokenLayout } from './layout.ts';

export interface RcmWeights {
  readonly D: number;
  readonly H: number;
  readonly L: number;
  readonly T: number;
  /** [D] */
  readonly decay: Float64Array;
  /** [T, L, D] */
  readonly E_self: Float64Array;
  /** [T, D] */
  readonly P: Float64Array;
  /** [L+1, D] each; row L is "no neighbour" */
  readonly N_left: Float64Array;
  readonly N_up: Float64Array;
  readonly N_ul: Float64Array;
  readonly N_ur: Float64Array;
  /** [H, D] */
  readonly W1: Float64Array;
  /** [H] */
  readonly b1: Float64Array;
  /** [L, H] */
  readonly W2: Float64Array;
  /** [L] */
  readonly b2: Float64Array;
  /**
   * (format 2.10, Index prior RCM_COARSE) an RCM over the coarse trits of the coarse-first
   * order (L = 3, T coarse layers): rcm.json "coarse", an object of the same form.
   */
  readonly coarse?: RcmWeights;
}

export const RCM_FORMAT = 'mrt-rcm-1';
/** sanity bounds on parsed weights (keeps every logit finite) */
export const RCM_LIMITS = Object.freeze({ MAX_D: 1024, MAX_H: 4096, MAX_T: 4096, MAX_ABS_WEIGHT: 1e4 });

function parseTensor(json: any, what: string, name: string, shape: number[]): Float64Array {
  const t = json.tensors?.[name];
  if (!t) throw new Error(`${what}: missing tensor ${name}`);
  if (!Array.isArray(t.shape) || t.shape.length !== shape.length || t.shape.some((v: unknown, i: number) => v !== shape[i])) {
    throw new Error(`${what}: tensor ${name} has shape ${JSON.stringify(t.shape)}, expected ${JSON.stringify(shape)}`);
  }
  const n = shape.reduce((a, b) => a * b, 1);
  const bytes = base64Decode(String(t.f32));
  if (bytes.length !== n * 4) throw new Error(`${what}: tensor ${name} has ${bytes.length} bytes, expected ${n * 4}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = dv.getFloat32(i * 4, true);
    if (!(Math.abs(v) <= RCM_LIMITS.MAX_ABS_WEIGHT)) throw new Error(`${what}: tensor ${name}[${i}] = ${v} is not finite or too large`);
    out[i] = v;
  }
  return out;
}

/** Parse rcm.json (string, bytes or already-parsed object). Float32 weights widen exactly to float64. */
export function parseRcm(input: string | Uint8Array | object): RcmWeights {
  let json: any = input;
  if (input instanceof Uint8Array) json = JSON.parse(new TextDecoder().decode(input));
  else if (typeof input === 'string') json = JSON.parse(input);
  const w = parseRcmObject(json, 'rcm.json');
  if (json.coarse === undefined) return w;
  const coarse = parseRcmObject(json.coarse, 'rcm.json coarse');
  // a coarse RCM codes coarse trits: one symbol per coarse bin
  if (coarse.L !== COARSE_BINS) throw new Error(`rcm.json coarse: the coarse RCM has L=${coarse.L}, expected ${COARSE_BINS}`);
  return Object.freeze({ ...w, coarse });
}

function parseRcmObject(json: any, what: string): RcmWeights {
  if (!json || json.format !== RCM_FORMAT) throw new Error(`${what}: format must be "${RCM_FORMAT}"`);
  const { D, H, L, T } = json;
  const ok = (v: unknown, max: number) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= max;
  if (!ok(D, RCM_LIMITS.MAX_D) || !ok(H, RCM_LIMITS.MAX_H) || !ok(T, RCM_LIMITS.MAX_T) || !ok(L, 256) || L < 2) {
    throw new Error(`${what}: bad dimensions D=${D} H=${H} L=${L} T=${T}`);
  }
  const tensor = (name: string, shape: number[]) => parseTensor(json, what, name, shape);
  return Object.freeze({
    D,
    H,
    L,
    T,
    decay: tensor('decay', [D]),
    E_self: tensor('E_self', [T, L, D]),
    P: tensor('P', [T, D]),
    N_left: tensor('N_left', [L + 1, D]),
    N_up: tensor('N_up', [L + 1, D]),
    N_ul: tensor('N_ul', [L + 1, D]),
    N_ur: tensor('N_ur', [L + 1, D]),
    W1: tensor('W1', [H, D]),
    b1: tensor('b1', [H]),
    W2: tensor('W2', [L, H]),
    b2: tensor('b2', [L]),
  });
}

type RcmWeightsLike = Omit<RcmWeights, 'coarse'> & { coarse?: RcmWeightsLike };

/** Serialise weights (and their coarse RCM) to rcm.json (values are rounded to float32). For tests and tools. */
export function serializeRcm(w: RcmWeightsLike): string {
  return JSON.stringify(rcmObject(w));
}

function rcmObject(w: RcmWeightsLike): object {
  const { D, H, L, T } = w;
  const shapes: Record<string, number[]> = {
    decay: [D], E_self: [T, L, D], P: [T, D], N_left: [L + 1, D], N_up: [L + 1, D], N_ul: [L + 1, D], N_ur: [L + 1, D],
    W1: [H, D], b1: [H], W2: [L, H], b2: [L],
  };
  const tensors: Record<string, { shape: number[]; f32: string }> = {};
  for (const [name, shape] of Object.entries(shapes)) {
    const src = (w as any)[name] as ArrayLike<number>;
    const f = new Float32Array(src.length);
    for (let i = 0; i < f.length; i++) f[i] = src[i]!;
    tensors[name] = { shape, f32: base64Encode(new Uint8Array(f.buffer)) };
  }
  return { format: RCM_FORMAT, D, H, L, T, tensors, ...(w.coarse ? { coarse: rcmObject(w.coarse) } : {}) };
}

export function checkRcmLayout(w: RcmWeights, layout: TokenLayout): void {
  // An RCM may cover fewer layers than the stream has (docs/design.md): the static prior
  // codes the rest, which keeps whole-stream decoding cheap for models with many layers.
  if (w.L !== layout.levels || w.T > layout.tokensPerWindow) {
    throw new Error(`RCM is for T<=${w.T}, L=${w.L}; the stream has T=${layout.tokensPerWindow}, L=${layout.levels}`);
  }
}

/** The RCM as a TokenPrior. */
export class RcmPrior implements TokenPrior {
  readonly kind = 'rcm' as const;
  readonly layout: TokenLayout;
  readonly weights: RcmWeights;
  position = 0;
  /** recurrent state per window, [windows, D] */
  readonly h: Float64Array;
  /** coded tokens (for neighbours) */
  readonly tokens: Uint8Array;
  private readonly a: Float64Array;
  private readonly u: Float64Array;
  private readonly logits: Float64Array;
  private readonly e: Float64Array;
  private readonly f: Int32Array;
  /** Layers from weights.T on are coded with the static prior; it sees every token. */
  private readonly rest: StaticPrior | null;
  /** First stream index the RCM does not cover. */
  private readonly rcmEnd: number;

  /**
   * `sharedLate` (2.6): the layers past the RCM share one static table (StaticPrior's
   * sharedFrom); `lateContexts` (2.8): tables chosen by neighbourhood context.
   */
  constructor(layout: TokenLayout, weights: RcmWeights, sharedLate = false, lateContexts = false) {
    // An RCM over more layers than the layout has codes the first ones (the coarse RCM under
    // a stream with fewer coarse layers); streams check the token RCM with checkRcmLayout.
    if (weights.L !== layout.levels) throw new Error(`RCM is for L=${weights.L}; the layout has L=${layout.levels}`);
    this.layout = layout;
    this.weights = weights;
    this.rcmEnd = Math.min(weights.T, layout.tokensPerWindow) * layout.windows;
    if (lateContexts && !sharedLate) throw new RangeError('lateContexts is a form of the shared late table');
    this.rest = weights.T < layout.tokensPerWindow ? new StaticPrior(layout, sharedLate ? weights.T : undefined, lateContexts) : null;
    this.h = new Float64Array(layout.windows * weights.D);
    this.tokens = new Uint8Array(layout.total);
    this.a = new Float64Array(weights.D);
    this.u = new Float64Array(weights.H);
    this.logits = new Float64Array(weights.L);
    this.e = new Float64Array(weights.L);
    this.f = new Int32Array(weights.L);
  }

  /** logits for stream index i into this.logits (the deterministic forward pass) */
  private forward(i: number): Float64Array {
    const w = this.weights;
    const D = w.D;
    const H = w.H;
    const L = w.L;
    const gw = this.layout.gridW;
    const windows = this.layout.windows;
    const t = Math.floor(i / windows);
    const r = i - t * windows;
    const y = Math.floor(r / gw);
    const x = r - y * gw;
    const tok = this.tokens;
    const kl = x > 0 ? tok[i - 1]! : L;
    const ku = y > 0 ? tok[i - gw]! : L;
    const kul = x > 0 && y > 0 ? tok[i - gw - 1]! : L;
    const kur = y > 0 && x < gw - 1 ? tok[i - gw + 1]! : L;
    const a = this.a;
    const h = this.h;
    const P = w.P, Nl = w.N_left, Nu = w.N_up, Nul = w.N_ul, Nur = w.N_ur;
    const ho = r * D, po = t * D, lo = kl * D, uo = ku * D, ulo = kul * D, uro = kur * D;
    for (let d = 0; d < D; d++) {
      a[d] = h[ho + d]! + P[po + d]! + Nl[lo + d]! + Nu[uo + d]! + Nul[ulo + d]! + Nur[uro + d]!;
    }
    const W1 = w.W1, b1 = w.b1, u = this.u;
    // u = relu(W1·a + b1): every row accumulates sequentially from its bias in index order,
    // exactly the documented order. Eight rows are interleaved so that their independent
    // addition chains overlap in the CPU; no row's order of operations changes.
    let j = 0;
    for (; j + 8 <= H; j += 8) {
      let s0 = b1[j]!, s1 = b1[j + 1]!, s2 = b1[j + 2]!, s3 = b1[j + 3]!;
      let s4 = b1[j + 4]!, s5 = b1[j + 5]!, s6 = b1[j + 6]!, s7 = b1[j + 7]!;
      const o0 = j * D, o1 = o0 + D, o2 = o1 + D, o3 = o2 + D, o4 = o3 + D, o5 = o4 + D, o6 = o5 + D, o7 = o6 + D;
      for (let d = 0; d < D; d++) {
        const ad = a[d]!;
        s0 += W1[o0 + d]! * ad;
        s1 += W1[o1 + d]! * ad;
        s2 += W1[o2 + d]! * ad;
        s3 += W1[o3 + d]! * ad;
        s4 += W1[o4 + d]! * ad;
        s5 += W1[o5 + d]! * ad;
        s6 += W1[o6 + d]! * ad;
        s7 += W1[o7 + d]! * ad;
      }
      u[j] = s0 > 0 ? s0 : 0;
      u[j + 1] = s1 > 0 ? s1 : 0;
      u[j + 2] = s2 > 0 ? s2 : 0;
      u[j + 3] = s3 > 0 ? s3 : 0;
      u[j + 4] = s4 > 0 ? s4 : 0;
      u[j + 5] = s5 > 0 ? s5 : 0;
      u[j + 6] = s6 > 0 ? s6 : 0;
      u[j + 7] = s7 > 0 ? s7 : 0;
    }
    for (; j < H; j++) {
      let s = b1[j]!;
      const o = j * D;
      for (let d = 0; d < D; d++) s += W1[o + d]! * a[d]!;
      u[j] = s > 0 ? s : 0;
    }
    // logits = W2·u + b2, each from its bias in index order (all H terms: a u[j] == 0 term
    // adds a signed zero, which changes no sum's value), three logits interleaved as above.
    const W2 = w.W2, b2 = w.b2, logits = this.logits;
    let k = 0;
    for (; k + 3 <= L; k += 3) {
      let s0 = b2[k]!, s1 = b2[k + 1]!, s2 = b2[k + 2]!;
      const o0 = k * H, o1 = o0 + H, o2 = o1 + H;
      for (let jj = 0; jj < H; jj++) {
        const uj = u[jj]!;
        s0 += W2[o0 + jj]! * uj;
        s1 += W2[o1 + jj]! * uj;
        s2 += W2[o2 + jj]! * uj;
      }
      logits[k] = s0;
      logits[k + 1] = s1;
      logits[k + 2] = s2;
    }
    for (; k < L; k++) {
      let s = b2[k]!;
      const o = k * H;
      for (let jj = 0; jj < H; jj++) s += W2[o + jj]! * u[jj]!;
      logits[k] = s;
    }
    return logits;
  }

  freqs(i: number): Int32Array {
    if (i !== this.position) throw orderError(i, this.position);
    if (i >= this.rcmEnd) return this.rest!.freqs(i);
    const L = this.weights.L;
    const logits = this.forward(i);
    let best = 0;
    let max = logits[0]!;
    for (let k = 1; k < L; k++) {
      if (logits[k]! > max) {
        max = logits[k]!;
        best = k;
      }
    }
    const e = this.e;
    let sum = 0;
    for (let k = 0; k < L; k++) {
      const v = detExp(logits[k]! - max);
      e[k] = v;
      sum += v;
    }
    const f = this.f;
    const scale = M - L;
    let fsum = 0;
    for (let k = 0; k < L; k++) {
      const v = 1 + Math.floor((e[k]! / sum) * scale);
      f[k] = v;
      fsum += v;
    }
    f[best] += M - fsum;
    return f;
  }

  update(i: number, k: number): void {
    if (i !== this.position) throw orderError(i, this.position);
    this.rest?.update(i, k);
    this.tokens[i] = k;
    this.position = i + 1;
    if (i >= this.rcmEnd) return;
    const w = this.weights;
    const D = w.D;
    const windows = this.layout.windows;
    const t = Math.floor(i / windows);
    const ho = (i - t * windows) * D;
    const eo = (t * w.L + k) * D;
    const h = this.h, decay = w.decay, E = w.E_self;
    for (let d = 0; d < D; d++) h[ho + d] = decay[d]! * h[ho + d]! + E[eo + d]!;
  }
}
