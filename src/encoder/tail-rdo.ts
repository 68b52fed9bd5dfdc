// Closed-loop, rate-distortion optimised choice of the tail tokens (layers ≥ the split).
//
// The decoder synthesises layers past the split mostly through its linear path: each
// token adds value · basis[t] (tail.bin) to its own 32×32 window. The encoder network
// predicts every token at once, so a late token cannot make up for the quantisation error
// of the ones before it. Here the tail is re-chosen window by window, in stream order,
// against what the decoder actually painted from the first `split` layers: token t takes
// the level that minimises ‖residual − value·basis[t]‖² + λ(t)·bits, and the residual
// carries its error on to t + 1. Encoder side only: the decoder and the format are
// unchanged, and the output is a normal token stream.
//
// Measured with mrt-v0.6 in PyTorch on Kodak 7-14 before porting (static-prior bytes):
// +0.03 dB at 4 KB and +0.18 dB at 8 KB, the same below; bench/rd.ts measures this code.
import { ADAPTIVE_CONTEXTS, COARSE_BINS, neighbourhoodContext, tokenValue } from '../codec/index.ts';
import type { Geometry } from '../model/io.ts';
import type { TailBasis } from '../model/tail.ts';
import type { PreviewBasis } from '../model/preview.ts';
import { matmul } from './matmul.ts';

export interface TailRdoParams {
  /** λ (squared error in [0,1]-pixel units per bit) for layers before `lateFrom`. */
  lambda: number;
  /** λ from layer `lateFrom` on (smaller: the last layers are what fast connections get). */
  lateLambda: number;
  lateFrom: number;
  /** Passes: each re-estimates the bit costs (per neighbourhood context) from the previous pass's tokens. */
  passes: number;
}

/**
 * Kodak with container 2.8 (bench/rd.ts; dB at 1 / 4 / 8 KB, whole files): 0.02 / 0.005
 * (the first default) 22.745 / 25.531 / 26.391, 26.88 dB in 10.31 KB; 0.015 / 0.003 22.743 / 25.518 /
 * 26.430, 26.98 dB in 11.25 KB; 0.02 / 0.003 22.746 / 25.525 / 26.407; 0.01 / 0.003 4 KB
 * −0.03, 8 KB +0.05; 0.03 / 0.007 8 KB −0.10. The late layers past 192 are what only
 * connections past ~8 KB get, so they can afford more bits. mrt-v0.10's decoder (fine-tuned on
 * these closed-loop tokens) makes the loop spend more at the same λ: 0.015 / 0.003 gave 21.92 /
 * 22.99 / 24.26 / 25.59 / 26.66 dB at 512 B … 8 KB in 14.05 KB files, 0.02 / 0.004 21.92 / 23.00 /
 * 24.26 / 25.60 / 26.67 in 13.32 KB (bench/rd.ts, 2026-12-02). mrt-v0.11's decoder (fine-tuned
 * again, on mrt-v0.10's tokens) makes it spend more again (at 0.02 / 0.004 files grew by ~2.5 KB,
 * all past the first 2 KB). Every λ here and the early loop's at × 1 / × 1.25 /
 * × 1.5 of 0.02 / 0.004: 22.994 / 24.268 / 25.587 / 26.677 dB at 1 / 2 / 4 / 8 KB in 15.82 KB
 * files (whole 27.82 dB); 23.004 / 24.271 / 25.597 / 26.680 in 14.98 KB (27.73); 23.009 / 24.270 /
 * 25.601 / 26.672 in 14.16 KB (27.61) (bench/rd.ts, 2026-12-03): × 1.25.
 */
export const DEFAULT_TAIL_RDO: TailRdoParams = { lambda: 0.025, lateLambda: 0.005, lateFrom: 192, passes: 2 };

/**
 * The tail's λ per image is the λ above times D / TAIL_D_REF (clamped to [1/4, 4]), D the mean
 * squared error (RGB in [0, 1]) of what the decoder paints from the first `split` layers. Kodak's
 * score is a mean of PSNRs, and a bit's worth in dB is proportional to 1/D: an image the first
 * layers already paint well has its file end sooner, so below ~8 KB it had bytes to spare. 0.004
 * is the geometric mean of D over 25 training images (every 43rd of ../shared/data/train); Kodak's
 * is 0.0034, ranging over 0.0017-0.011. Kodak with mrt-v0.7 (bench/rd.ts, dB at 2 / 4 / 8 KB
 * against one λ for all): D_REF 0.0025 +0.007 / +0.009 / +0.040; 0.0034 +0.002 / −0.005 / +0.058;
 * 0.0034 with the ratio to the power 1.5: +0.005 / −0.012 / +0.069.
 */
export const TAIL_D_REF = 0.004;

/**
 * The factor on a closed loop's λ for an image: D / ref clamped to [1/4, 4], D the mean squared
 * error of `painted` (what the decoder paints from the layers before the loop) against `image`.
 */
export function lambdaScale(image: Float32Array, painted: Float32Array, ref: number): number {
  let d = 0;
  for (let i = 0; i < image.length; i++) d += (image[i]! - painted[i]!) ** 2;
  d /= image.length;
  return Math.min(4, Math.max(0.25, d / ref));
}

/**
 * The closed loop before the split: layers `from` … split − 1 are re-chosen `group` layers at
 * a time through the preview basis (the decoder's linear path of the first layers), the
 * decoder re-run before each group (these layers also act through its nonlinear trunk).
 * Kodak with mrt-v0.7 (bench/rd.ts): +0.02 / +0.04 / +0.04 dB at 2 / 4 / 8 KB over starting at
 * the split (64); from 24 or 28 it loses (the first layers act mostly through the trunk).
 */
export const EARLY_LOOP: Readonly<{ from: number; group: number; lambda: number }> = { from: 32, group: 4, lambda: 0.025 };

/**
 * The early loop's λ per image: EARLY_LOOP.lambda times lambdaScale(image, paint from the first
 * EARLY_LOOP.from layers, EARLY_D_REF), the tail's rule (TAIL_D_REF) one stage earlier. The
 * reference is the geometric mean of that D over the same 25 training images (Kodak's: 0.0041).
 * Kodak with mrt-v0.8 (bench/rd.ts, against a fixed λ): −0.001 / −0.003 / 0.000 / +0.003 /
 * +0.015 dB at 512 B / 1 K / 2 K / 4 K / 8 K.
 */
export const EARLY_D_REF = 0.0048;

/**
 * Bits of each level per neighbourhood context ([ADAPTIVE_CONTEXTS][levels]): −log2 of the
 * level frequencies among the tokens of layers from … to − 1 in that context (+½
 * smoothing), close to what the coder's adaptive context tables spend on them.
 */
function contextBits(tokens: Uint8Array, off: Uint8Array, from: number, to: number, perLayer: number, gridW: number, levels: number): Float64Array {
  const counts = new Float64Array(ADAPTIVE_CONTEXTS * levels).fill(0.5);
  for (let i = from * perLayer, e = to * perLayer; i < e; i++) counts[neighbourhoodContext(off, i, perLayer, gridW) * levels + tokens[i]!]! += 1;
  const bits = new Float64Array(ADAPTIVE_CONTEXTS * levels);
  for (let c = 0; c < ADAPTIVE_CONTEXTS; c++) {
    let total = 0;
    for (let k = 0; k < levels; k++) total += counts[c * levels + k]!;
    for (let k = 0; k < levels; k++) bits[c * levels + k] = -Math.log2(counts[c * levels + k]! / total);
  }
  return bits;
}

/**
 * Coarse-first streams (format 2.8+; docs/design.md "Coarse pass") send the coarse trits of
 * the first K layers before any refinement, so every prefix past the first chunk pays for
 * them, while a refinement trit is paid only by the prefixes that reach it. The closed loop
 * prices the coarse-bin part of a level's bits at (1 + alpha) λ in those layers.
 */
export interface CoarseBits {
  /** K: the stream's coarse layers */
  layers: number;
  alpha: number;
}

/**
 * Kodak with mrt-v0.9 (bench/rd.ts, dB at 1 / 2 / 4 / 8 KB against alpha = 0): 0.3 +0.009 /
 * +0.011 / −0.002 / −0.002; 0.5 +0.017 / +0.013 / −0.005 / −0.005; 0.75 +0.022 / +0.015 /
 * −0.010 / −0.008. A small trade toward 1–2 KB, where the bar is hardest; most of it is the
 * textured images whose coarse pass is still arriving at 2 KB (kodim05 +0.16, kodim08 +0.07).
 */
export const COARSE_BITS_ALPHA = 0.5;

export const NO_COARSE_BITS: CoarseBits = { layers: 0, alpha: 0 };

/** `bits` with alpha × the bits of each level's coarse bin (−log2 of the bin's total frequency) added. */
function withCoarseBits(bits: Float64Array, levels: number, alpha: number): Float64Array {
  const out = bits.slice();
  for (let c = 0; c < ADAPTIVE_CONTEXTS; c++) {
    for (let b = 0; b < levels; b += COARSE_BINS) {
      let p = 0;
      for (let k = b; k < b + COARSE_BINS; k++) p += 2 ** -bits[c * levels + k]!;
      for (let k = b; k < b + COARSE_BINS; k++) out[c * levels + k]! += alpha * -Math.log2(p);
    }
  }
  return out;
}

/** Rows of a linear synthesis basis: basis[(t − first)·3·window² …] for layers first … first + rows − 1. */
export interface LinearRows {
  first: number;
  rows: number;
  window: number;
  basis: Float32Array;
}

const grams = new WeakMap<Float32Array, Float64Array>();

/**
 * The Gram matrix of the basis rows, [n][n] (the diagonal holds their squared norms), computed once
 * per basis (or taken from prepareGram). Each entry is summed in order over the row, in float64 (a
 * float32 product is exact in it).
 */
function gramOf(lr: LinearRows): Float64Array {
  const cached = grams.get(lr.basis);
  if (cached) return cached;
  const n = lr.rows;
  const d = 3 * lr.window * lr.window;
  const G = new Float64Array(n * n);
  for (let a = 0; a < n; a++) {
    const A = lr.basis.subarray(a * d, (a + 1) * d);
    for (let b = a; b < n; b++) {
      const B = lr.basis.subarray(b * d, (b + 1) * d);
      let s = 0;
      for (let i = 0; i < d; i++) s += A[i]! * B[i]!;
      G[a * n + b] = s;
      G[b * n + a] = s;
    }
  }
  grams.set(lr.basis, G);
  return G;
}

/**
 * Computes the Gram matrix of `lr` for closedLoop through onnxruntime (float64 matrix product,
 * src/encoder/matmul.ts; on this machine the very same numbers as gramOf's sums): ~60 ms for
 * mrt-v0.13's tail basis (448 rows of 3072) against ~1 s in JavaScript, which every process or
 * worker paid before its first image.
 */
export async function prepareGram(lr: LinearRows): Promise<void> {
  if (grams.has(lr.basis)) return;
  const n = lr.rows;
  const d = 3 * lr.window * lr.window;
  const x = Float64Array.from(lr.basis.subarray(0, n * d));
  const xt = new Float64Array(d * n);
  for (let r = 0; r < n; r++) for (let i = 0; i < d; i++) xt[i * n + r] = x[r * d + i]!;
  grams.set(lr.basis, await matmul(x, xt, n, d, n));
}

/** The tail basis as basis rows (layers split … T − 1). */
export function tailRows(tb: TailBasis): LinearRows {
  return { first: tb.split, rows: tb.tokens - tb.split, window: tb.window, basis: tb.basis };
}

/**
 * Rewrites tokens of the first `layers` layers from layer split on, in place.
 * `image` and `painted` are CHW float32 [3][paddedH][paddedW]: the padded source and what
 * the decoder paints from the first `split` layers (their difference is what the tail codes).
 */
export function optimiseTail(
  tokens: Uint8Array, layers: number, levels: number, g: Geometry, tb: TailBasis,
  image: Float32Array, painted: Float32Array, p: TailRdoParams = DEFAULT_TAIL_RDO, coarse: CoarseBits = NO_COARSE_BITS,
  dots?: WindowDots,
): void {
  const s = lambdaScale(image, painted, TAIL_D_REF);
  const lam = (t: number) => (t >= p.lateFrom ? p.lateLambda : p.lambda) * s;
  closedLoop(tokens, tb.split, layers, levels, g, tailRows(tb), image, painted, lam, p.passes, coarse, dots);
}

/**
 * Re-chooses tokens of layers from … to − 1 (all windows) in place, closed-loop through
 * the linear basis `lr` (which must cover those layers), against `painted`: what the
 * decoder paints from the layers before `from`.
 */
export function closedLoop(
  tokens: Uint8Array, from: number, to: number, levels: number, g: Geometry, lr: LinearRows,
  image: Float32Array, painted: Float32Array, lambda: (t: number) => number, passes: number,
  coarse: CoarseBits = NO_COARSE_BITS, dots?: WindowDots,
): void {
  const m = to - from;
  if (m <= 0) return;
  if (from < lr.first || to > lr.first + lr.rows) throw new RangeError(`layers ${from}..${to - 1} are not all in the basis (${lr.first}..${lr.first + lr.rows - 1})`);
  const S = lr.window;
  const n = lr.rows;
  const o = from - lr.first;
  const gram = gramOf(lr);
  const d = 3 * S * S;
  const perLayer = g.gridW * g.gridH;
  const plane = g.paddedW * g.paddedH;
  const values = Float64Array.from({ length: levels }, (_, k) => tokenValue(k, levels));
  const lam = Float64Array.from({ length: m }, (_, j) => lambda(from + j));
  // dot0[w][j] = <residual of window w, basis[from + j]>: the only pass over the pixels;
  // later tokens see earlier choices through the Gram matrix (exactly the sequential update).
  // Given `dots` (the same products for every row of `lr`, windowDots), they are read from there.
  if (dots && (dots.windows !== perLayer || dots.rows !== n)) throw new RangeError(`dots are for ${dots.windows} windows x ${dots.rows} rows, the loop needs ${perLayer} x ${n}`);
  const dot0 = dots ? null : new Float64Array(perLayer * m);
  const e = new Float32Array(d);
  const basis = lr.basis;
  const d4 = d - (d % 4);
  for (let gy = 0; gy < g.gridH && dot0; gy++) {
    for (let gx = 0; gx < g.gridW; gx++) {
      const w = gy * g.gridW + gx;
      windowResidual(e, image, painted, g, S, plane, gx, gy);
      for (let j = 0; j < m; j++) {
        // four partial sums: the dot products are most of the encoder's extra time
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        const b0 = (o + j) * d;
        for (let i = d4, q = b0 + d4; i < d; i++, q++) s0 += e[i]! * basis[q]!;
        for (let i = 0, q = b0; i < d4; i += 4, q += 4) {
          s0 += e[i]! * basis[q]!;
          s1 += e[i + 1]! * basis[q + 1]!;
          s2 += e[i + 2]! * basis[q + 2]!;
          s3 += e[i + 3]! * basis[q + 3]!;
        }
        dot0[w * m + j] = s0 + s1 + s2 + s3;
      }
    }
  }
  const c = new Float64Array(m);
  const centre = (levels - 1) >> 1;
  const off = new Uint8Array(tokens.length);
  for (let i = 0; i < tokens.length; i++) off[i] = tokens[i] !== centre ? 1 : 0;
  const mc = Math.max(0, Math.min(m, coarse.layers - from)); // loop layers in the coarse pass
  for (let pass = 0; pass < passes; pass++) {
    const bits = contextBits(tokens, off, from, to, perLayer, g.gridW, levels);
    const coarseBits = mc > 0 && coarse.alpha > 0 ? withCoarseBits(bits, levels, coarse.alpha) : bits;
    for (let w = 0; w < perLayer; w++) {
      if (dot0) for (let j = 0; j < m; j++) c[j] = dot0[w * m + j]!;
      else for (let j = 0, q = w * n + o; j < m; j++, q++) c[j] = dots!.data[q]!;
      for (let j = 0; j < m; j++) {
        const row = (o + j) * n;
        const nb = gram[row + o + j]!;
        if (!(nb > 0)) continue;
        const target = c[j]! / nb; // the least-squares value of this token given the ones before
        let best = 0;
        let bestCost = Infinity;
        const idx = (from + j) * perLayer + w;
        const cb = neighbourhoodContext(off, idx, perLayer, g.gridW) * levels;
        const tb = j < mc ? coarseBits : bits;
        for (let k = 0; k < levels; k++) {
          const dv = target - values[k]!;
          const cost = nb * dv * dv + lam[j]! * tb[cb + k]!;
          if (cost < bestCost) {
            bestCost = cost;
            best = k;
          }
        }
        tokens[idx] = best;
        off[idx] = best !== centre ? 1 : 0;
        const v = values[best]!;
        if (v !== 0) for (let q = j + 1; q < m; q++) c[q] -= v * gram[row + o + q]!;
      }
    }
  }
}

/** How much of the closed loop an encode runs (an effort level's part of it: src/encoder/effort.ts). */
export interface LoopPlan {
  /** Layers per decoder re-run before the split (EARLY_LOOP.group: the full loop); 0: none. */
  earlyGroup: number;
  /** Passes over the tail; 0: none. */
  tailPasses: number;
}

/**
 * Re-chooses the tokens of the first `layers` layers from EARLY_LOOP.from on, in place: before
 * the split through the preview basis (when it covers those layers), `plan.earlyGroup` layers
 * per decoder run, then the tail through its basis. `paint(known)` is what the decoder paints
 * from the first `known` layers of `tokens`.
 */
export async function rechooseTokens(
  tokens: Uint8Array, layers: number, levels: number, g: Geometry, image: Float32Array,
  preview: PreviewBasis | null, tail: TailBasis, paint: (known: number) => Promise<Float32Array>,
  plan: LoopPlan, coarse: CoarseBits = NO_COARSE_BITS,
): Promise<void> {
  const split = tail.split;
  if (plan.earlyGroup > 0 && preview && preview.components >= split) {
    const rows: LinearRows = { first: 0, rows: preview.components, window: preview.window, basis: preview.basis };
    let lambda = EARLY_LOOP.lambda;
    for (let s = EARLY_LOOP.from; s < Math.min(split, layers); s += plan.earlyGroup) {
      const to = Math.min(s + plan.earlyGroup, split, layers);
      const painted = await paint(s);
      // one factor per image, from what the layers before the loop paint
      if (s === EARLY_LOOP.from) lambda *= lambdaScale(image, painted, EARLY_D_REF);
      await prepareGram(rows);
      closedLoop(tokens, s, to, levels, g, rows, image, painted, () => lambda, DEFAULT_TAIL_RDO.passes, coarse, await windowDots(g, rows, image, painted));
    }
  }
  // the tail codes what the decoder leaves after the first `split` layers
  if (plan.tailPasses > 0 && layers > split) {
    const painted = await paint(split);
    await prepareGram(tailRows(tail));
    optimiseTail(tokens, layers, levels, g, tail, image, painted, { ...DEFAULT_TAIL_RDO, passes: plan.tailPasses }, coarse, await windowDots(g, tailRows(tail), image, painted));
  }
}

/** The residual (image − painted) of window (gx, gy), in (c, i, j) order, into e. */
function windowResidual(e: Float32Array, image: Float32Array, painted: Float32Array, g: Geometry, S: number, plane: number, gx: number, gy: number): void {
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < S; i++) {
      const row = c * plane + (gy * S + i) * g.paddedW + gx * S;
      for (let j = 0; j < S; j++) e[(c * S + i) * S + j] = image[row + j]! - painted[row + j]!;
    }
  }
}

/** Every window's residual dotted with every row of a basis: data[w · rows + r]. */
export interface WindowDots {
  windows: number;
  rows: number;
  data: Float32Array;
}

const transposed = new WeakMap<Float32Array, Float32Array>();

/**
 * closedLoop's dot products for all rows of `lr` at once, as one matrix product run by
 * onnxruntime (src/encoder/matmul.ts): the same numbers as the loop's own (float32 sums instead
 * of float64), ~25x faster. The encoder passes them to closedLoop.
 */
export async function windowDots(g: Geometry, lr: LinearRows, image: Float32Array, painted: Float32Array): Promise<WindowDots> {
  const S = lr.window;
  const d = 3 * S * S;
  const windows = g.gridW * g.gridH;
  const plane = g.paddedW * g.paddedH;
  const a = new Float32Array(windows * d);
  for (let gy = 0; gy < g.gridH; gy++) {
    for (let gx = 0; gx < g.gridW; gx++) windowResidual(a.subarray((gy * g.gridW + gx) * d, (gy * g.gridW + gx + 1) * d), image, painted, g, S, plane, gx, gy);
  }
  let bt = transposed.get(lr.basis);
  if (!bt || bt.length !== d * lr.rows) {
    bt = new Float32Array(d * lr.rows);
    for (let r = 0; r < lr.rows; r++) for (let i = 0; i < d; i++) bt[i * lr.rows + r] = lr.basis[r * d + i]!;
    transposed.set(lr.basis, bt);
  }
  return { windows, rows: lr.rows, data: await matmul(a, bt, windows, d, lr.rows) };
}
