// The prior interface of the coder and the static (adaptive per-layer counts) prior.
import { M } from './rans.ts';
import type { TokenLayout } from './layout.ts';

export interface TokenPrior {
  readonly kind: 'static' | 'rcm';
  readonly layout: TokenLayout;
  /** the stream index the prior expects next (freqs/update are strictly in stream order) */
  readonly position: number;
  /**
   * Integer frequencies for stream index `i` (= position): L entries, each >= 1, summing
   * to M = 2^15. The array is owned by the prior and valid until the next call.
   */
  freqs(i: number): Int32Array;
  /** Record that token `i` (= position) is `k`; advances position. */
  update(i: number, k: number): void;
}

export const STATIC_INCREMENT = 24;
export const STATIC_LIMIT = 1 << 13;

export function orderError(i: number, position: number): Error {
  return new RangeError(`prior used out of stream order: token ${i}, expected ${position}`);
}

/**
 * Static prior (docs/design.md): adaptive per-layer counts, all 1 at start, +24 per coded
 * symbol, halved (rounding up) when the layer's total exceeds 2^13; f_k = 1 +
 * floor(c_k (M - L) / total) with the remainder on the largest count (lowest index on ties).
 * With `sharedFrom` = s (format 2.6, after an RCM over s layers), layers t >= s share one
 * table: a late layer then starts from what the layers before it taught, instead of from a
 * uniform table it has to learn again (10 % fewer bytes in layers >= 128 of mrt-v0.7's
 * files: most late tokens are the centre level, in every layer alike).
 */
export class StaticPrior implements TokenPrior {
  readonly kind = 'static' as const;
  readonly layout: TokenLayout;
  position = 0;
  private readonly counts: Int32Array;
  private readonly totals: Int32Array;
  private readonly f: Int32Array;
  /** the first layer of the shared table (T: none) */
  private readonly sharedFrom: number;
  /** (2.8 lateContexts) per token: off the centre level; the shared tables are chosen by neighbourhoodContext */
  private readonly off: Uint8Array | null;

  /**
   * `lateContexts` (2.8, with `sharedFrom`): the shared late table is ADAPTIVE_CONTEXTS tables,
   * chosen per token by neighbourhoodContext (7.5 % fewer bytes in layers 128-511 of mrt-v0.7's
   * tokens on held-out training images).
   */
  constructor(layout: TokenLayout, sharedFrom?: number, lateContexts = false) {
    this.layout = layout;
    const { tokensPerWindow: T, levels: L } = layout;
    this.sharedFrom = Math.min(sharedFrom ?? T, T);
    if (lateContexts && this.sharedFrom >= T) throw new RangeError('lateContexts needs a shared late table');
    this.off = lateContexts ? new Uint8Array(layout.total) : null;
    const tables = this.sharedFrom < T ? this.sharedFrom + (lateContexts ? ADAPTIVE_CONTEXTS : 1) : T;
    this.counts = new Int32Array(tables * L).fill(1);
    this.totals = new Int32Array(tables).fill(L);
    this.f = new Int32Array(L);
  }

  /** the count table of stream index i */
  private table(i: number): number {
    const t = Math.floor(i / this.layout.windows);
    if (t < this.sharedFrom) return t;
    return this.off ? this.sharedFrom + neighbourhoodContext(this.off, i, this.layout.windows, this.layout.gridW) : this.sharedFrom;
  }

  freqs(i: number): Int32Array {
    if (i !== this.position) throw orderError(i, this.position);
    return adaptiveFreqs(this.counts, this.totals, this.table(i), this.f);
  }

  update(i: number, k: number): void {
    if (i !== this.position) throw orderError(i, this.position);
    adaptiveUpdate(this.counts, this.totals, this.table(i), k, this.layout.levels);
    if (this.off) this.off[i] = k !== (this.layout.levels - 1) >> 1 ? 1 : 0;
    this.position = i + 1;
  }
}

/** Adaptive tables chosen by neighbourhoodContext. */
export const ADAPTIVE_CONTEXTS = 12;
/** Layers of a window's own history neighbourhoodContext looks back on. */
const CONTEXT_HISTORY = 8;

/**
 * Context of token i (stream index, layer-major) for adaptive tables (format 2.8): 4 *
 * min(2, how many of its left, upper, upper-left and upper-right neighbours in the same layer
 * are off the centre) + min(3, how many of its window's previous CONTEXT_HISTORY tokens are);
 * `off` holds a 0/1 flag per token coded so far. Measured on held-out training images
 * (mrt-v0.7's encoder tokens): layers 128-511 in 3251 B per image against 3514 with one
 * shared table (3332 with two neighbours and 4 layers of history); coarse trits of 128
 * layers in 392 B against 394.
 */
export function neighbourhoodContext(off: Uint8Array, i: number, windows: number, gridW: number): number {
  const t = Math.floor(i / windows);
  const r = i - t * windows;
  const x = r % gridW;
  let nb = 0;
  if (x > 0) nb += off[i - 1]!;
  if (r >= gridW) {
    nb += off[i - gridW]!;
    if (x > 0) nb += off[i - gridW - 1]!;
    if (x < gridW - 1) nb += off[i - gridW + 1]!;
  }
  let own = 0;
  for (let s = Math.max(0, t - CONTEXT_HISTORY); s < t; s++) own += off[s * windows + r]!;
  return (nb < 2 ? nb : 2) * 4 + (own < 3 ? own : 3);
}

/**
 * Frequencies of adaptive count table `t` (counts[t*L .. t*L+L), L = f.length): scaledFreqs of
 * its counts.
 */
export function adaptiveFreqs(counts: Int32Array, totals: Int32Array, t: number, f: Int32Array): Int32Array {
  return scaledFreqs(counts, t * f.length, totals[t]!, f);
}

/**
 * Integer frequencies summing to M from L = f.length counts c[base .. base+L) that sum to
 * `total`: f_k = 1 + floor(c_k (M - L) / total), the remainder on the largest count (lowest
 * index on ties). Integers only: every runtime derives the same table.
 */
export function scaledFreqs(c: ArrayLike<number>, base: number, total: number, f: Int32Array): Int32Array {
  const L = f.length;
  const scale = M - L;
  let sum = 0;
  let best = 0;
  let bestC = -1;
  for (let k = 0; k < L; k++) {
    const ck = c[base + k]!;
    const v = 1 + Math.floor((ck * scale) / total);
    f[k] = v;
    sum += v;
    if (ck > bestC) {
      bestC = ck;
      best = k;
    }
  }
  f[best] += M - sum;
  return f;
}

/** Count symbol k in adaptive table t: +24, all halved (rounding up) when the total exceeds 2^13. */
export function adaptiveUpdate(counts: Int32Array, totals: Int32Array, t: number, k: number, L: number): void {
  const base = t * L;
  counts[base + k] += STATIC_INCREMENT;
  let total = totals[t]! + STATIC_INCREMENT;
  if (total > STATIC_LIMIT) {
    total = 0;
    for (let j = 0; j < L; j++) {
      const v = (counts[base + j]! + 1) >> 1;
      counts[base + j] = v;
      total += v;
    }
  }
  totals[t] = total;
}
