// Decoder inputs z / mask from tokens (docs/design.md "Regeneration"). Outside the entropy
// coding path: may use any float math.
import { COARSE_BINS, COARSE_LEVEL_OFFSET, tokenProgress, tokenValue, type TokenLayout } from './layout.ts';
import type { RcmWeights } from './rcm.ts';

export interface DecoderInputs {
  /** [T, gh, gw] token values v, 0 where missing */
  z: Float32Array;
  /** [T, gh, gw] 1 where known (received or regenerated) */
  mask: Float32Array;
}

/**
 * z / mask for the first `knownSymbols` stream symbols only (no regeneration): exact tokens
 * take their value with mask 1, (2.8) a token known by its coarse trit c the value
 * (c - 1) * COARSE_LEVEL_OFFSET levels from the centre with mask `coarseMask`: the model's
 * manifest `coarseMask` (a decoder trained to tell coarse tokens from exact ones), else 1.
 */
export function tokensToZ(layout: TokenLayout, tokens: Uint8Array, knownSymbols: number, coarseMask = 1): DecoderInputs {
  const n = layout.total;
  const z = new Float32Array(n);
  const mask = new Float32Array(n);
  const L = layout.levels;
  const values = new Float32Array(L);
  for (let k = 0; k < L; k++) values[k] = tokenValue(k, L);
  const { exact, coarse } = tokenProgress(layout, knownSymbols);
  for (let i = 0; i < exact; i++) {
    z[i] = values[tokens[i]!]!;
    mask[i] = 1;
  }
  const step = COARSE_LEVEL_OFFSET / ((L - 1) / 2);
  for (let i = exact; i < coarse; i++) {
    z[i] = (Math.floor(tokens[i]! / COARSE_BINS) - 1) * step;
    mask[i] = coarseMask;
  }
  z.fill(0, coarse);
  mask.fill(0, coarse);
  return { z, mask };
}

/**
 * Whether decoders fill missing tokens from the prior unless told otherwise; every end
 * (Node decoder, browser client) reads this one value. Measured on Kodak by bench/rd.ts
 * (rd-mrt-v0.5.md, a results file kept in the git history: docs/experiments.md): with mrt-v0.5 regeneration is worse or equal at every
 * budget (512 B -0.25, 1 K -0.25, 2 K -0.05 dB, 4-8 K equal; mrt-v0.4 -0.17 / -0.22 /
 * -0.04 dB, mrt-v0.3 -0.01..-0.14 dB at 1-32 layers in bench/client-regen.ts), and it
 * costs 27-61 ms per browser paint, so
 * missing tokens are masked by default. Neither mode wins with mrt-v0.13 on the perceptual
 * metrics (bench/paint-perceptual.ts, docs/experiments.md): expected values lose SSIMULACRA 2.1
 * and LPIPS below 2 KB, drawn tokens lose every metric at every budget.
 */
export const REGENERATE_BY_DEFAULT = false;

/**
 * Sampled regeneration: each missing token is drawn from the RCM's distribution sharpened by
 * 1/temperature, by a counter-based hash of (seed, stream index), so the same stream prefix
 * always regenerates the same tokens (repaints do not flicker) and no state is kept between
 * paints. The seed is the stream's content hash (regenerationSeed).
 */
export interface RegenerationSample {
  /** > 0; 1 draws from the RCM's own distribution, lower values favour its likeliest levels */
  temperature: number;
  /** 32-bit seed */
  seed: number;
}

/** How decoders fill missing tokens: not at all, with the prior's expected values (true), or drawn from it. */
export type Regeneration = boolean | { temperature: number };

/** The seed of a stream's sampled regeneration: the first 4 bytes of its content hash (0 without one). */
export function regenerationSeed(contentHash: Uint8Array | undefined | null): number {
  if (!contentHash || contentHash.length === 0) return 0;
  let s = 0;
  for (let k = 0; k < Math.min(4, contentHash.length); k++) s = (s * 256 + contentHash[k]!) >>> 0;
  return s;
}

/** A uniform number in [0, 1) from (seed, i): two rounds of a 32-bit integer finaliser (murmur3 fmix32). */
export function hashUniform(seed: number, i: number): number {
  let h = (seed ^ Math.imul(i + 1, 0x9e3779b9)) >>> 0;
  for (let r = 0; r < 2; r++) {
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return (h >>> 0) / 4294967296;
}

/**
 * Fill the tokens that were not received with the RCM's expected value sum_k p_k v_k,
 * in stream order, conditioning on the received tokens and on earlier regenerated ones.
 * A regenerated position enters later predictions as its expected embedding
 * (sum_k p_k E_self[t][k] for the window state, sum_k p_k N_*[k] for neighbours).
 * (2.8) A token known by its coarse trit takes the expectation over its bin only.
 * With rcm == null the missing tokens are z = 0, mask = 0. With `sample`, each missing token is
 * instead drawn (RegenerationSample) and enters later predictions as a received token would.
 */
export function regenerate(layout: TokenLayout, rcm: RcmWeights | null, tokens: Uint8Array, knownSymbols: number, coarseMask = 1, sample?: RegenerationSample): DecoderInputs {
  if (sample && !(sample.temperature > 0 && Number.isFinite(sample.temperature))) throw new RangeError(`regeneration temperature must be > 0, got ${sample.temperature}`);
  const res = tokensToZ(layout, tokens, knownSymbols, coarseMask);
  // The RCM predicts only the layers it covers (rcm.T may be < T): later ones stay masked.
  const n = rcm ? Math.min(layout.total, rcm.T * layout.windows) : layout.total;
  const progress = tokenProgress(layout, knownSymbols);
  const known = Math.min(progress.exact, n);
  if (!rcm || known >= n) return res;
  const { D, H, L } = rcm;
  const { gridW: gw, windows } = layout;
  const values = new Float64Array(L);
  for (let k = 0; k < L; k++) values[k] = tokenValue(k, L);
  const h = new Float64Array(windows * D);
  // known prefix: hard updates of the window states
  for (let i = 0; i < known; i++) {
    const t = Math.floor(i / windows);
    const ho = (i - t * windows) * D;
    const eo = (t * L + tokens[i]!) * D;
    for (let d = 0; d < D; d++) h[ho + d] = rcm.decay[d]! * h[ho + d]! + rcm.E_self[eo + d]!;
  }
  // distributions of the positions of the current and previous layer rows we need:
  // keep the whole layer's distributions (one-hot for known tokens)
  const layerDist = new Float64Array(windows * L);
  const a = new Float64Array(D);
  const u = new Float64Array(H);
  const logits = new Float64Array(L);
  const p = new Float64Array(L);
  const addNeighbour = (N: Float64Array, j: number) => {
    // j: index within the layer of the neighbour, or -1 for none
    if (j < 0) {
      const o = L * D;
      for (let d = 0; d < D; d++) a[d] += N[o + d]!;
      return;
    }
    const po = j * L;
    for (let k = 0; k < L; k++) {
      const w = layerDist[po + k]!;
      if (w === 0) continue;
      const o = k * D;
      for (let d = 0; d < D; d++) a[d] += w * N[o + d]!;
    }
  };
  let layer = -1;
  for (let i = Math.floor(known / windows) * windows; i < n; i++) {
    const t = Math.floor(i / windows);
    const r = i - t * windows;
    if (t !== layer) {
      layer = t;
      layerDist.fill(0);
    }
    if (i < known) {
      layerDist[r * L + tokens[i]!] = 1;
      continue;
    }
    const y = Math.floor(r / gw);
    const x = r - y * gw;
    const ho = r * D;
    const po = t * D;
    for (let d = 0; d < D; d++) a[d] = h[ho + d]! + rcm.P[po + d]!;
    addNeighbour(rcm.N_left, x > 0 ? r - 1 : -1);
    addNeighbour(rcm.N_up, y > 0 ? r - gw : -1);
    addNeighbour(rcm.N_ul, x > 0 && y > 0 ? r - gw - 1 : -1);
    addNeighbour(rcm.N_ur, y > 0 && x < gw - 1 ? r - gw + 1 : -1);
    for (let j = 0; j < H; j++) {
      let s = rcm.b1[j]!;
      const o = j * D;
      for (let d = 0; d < D; d++) s += rcm.W1[o + d]! * a[d]!;
      u[j] = s > 0 ? s : 0;
    }
    let max = -Infinity;
    for (let k = 0; k < L; k++) {
      let s = rcm.b2[k]!;
      const o = k * H;
      for (let j = 0; j < H; j++) s += rcm.W2[o + j]! * u[j]!;
      logits[k] = s;
      if (s > max) max = s;
    }
    // a token known by its coarse trit: only the levels of its bin
    const bin = i < progress.coarse ? Math.floor(tokens[i]! / COARSE_BINS) * COARSE_BINS : -1;
    const invT = sample ? 1 / sample.temperature : 1;
    let sum = 0;
    for (let k = 0; k < L; k++) {
      p[k] = bin < 0 || (k >= bin && k < bin + COARSE_BINS) ? Math.exp((logits[k]! - max) * invT) : 0;
      sum += p[k]!;
    }
    if (sample) {
      // draw k by the hash's uniform: the first level whose cumulative probability passes it
      const target = hashUniform(sample.seed, i) * sum;
      let k = 0;
      let cum = p[0]!;
      while (k < L - 1 && cum <= target) cum += p[++k]!;
      while (p[k] === 0) k--; // (a sum rounded past the last level of a bin)
      res.z[i] = values[k]!;
      res.mask[i] = bin < 0 ? 1 : coarseMask;
      layerDist[r * L + k] = 1;
      const eo = (t * L + k) * D;
      for (let d = 0; d < D; d++) h[ho + d] = rcm.decay[d]! * h[ho + d]! + rcm.E_self[eo + d]!;
      continue;
    }
    let v = 0;
    for (let k = 0; k < L; k++) {
      p[k] = p[k]! / sum;
      v += p[k]! * values[k]!;
      layerDist[r * L + k] = p[k]!;
    }
    res.z[i] = v;
    res.mask[i] = bin < 0 ? 1 : coarseMask;
    // soft window-state update
    for (let d = 0; d < D; d++) {
      let e = 0;
      for (let k = 0; k < L; k++) e += p[k]! * rcm.E_self[(t * L + k) * D + d]!;
      h[ho + d] = rcm.decay[d]! * h[ho + d]! + e;
    }
  }
  return res;
}
