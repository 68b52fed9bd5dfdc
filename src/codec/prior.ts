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

  constructor(layout: TokenLayout, sharedFrom?: number) {
    this.layout = layout;
    const { tokensPerWindow: T, levels: L } = layout;
    this.sharedFrom = Math.min(sharedFrom ?? T, T);
    const tables = this.sharedFrom < T ? this.sharedFrom + 1 : T;
    this.counts = new Int32Array(tables * L).fill(1);
    this.totals = new Int32Array(tables).fill(L);
    this.f = new Int32Array(L);
  }

  /** the count table of stream index i */
  private table(i: number): number {
    const t = Math.floor(i / this.layout.windows);
    return t < this.sharedFrom ? t : this.sharedFrom;
  }

  freqs(i: number): Int32Array {
    if (i !== this.position) throw orderError(i, this.position);
    return adaptiveFreqs(this.counts, this.totals, this.table(i), this.f);
  }

  update(i: number, k: number): void {
    if (i !== this.position) throw orderError(i, this.position);
    adaptiveUpdate(this.counts, this.totals, this.table(i), k, this.layout.levels);
    this.position = i + 1;
  }
}

/**
 * Frequencies of adaptive count table `t` (counts[t*L .. t*L+L), L = f.length): f_k = 1 +
 * floor(c_k (M - L) / total), the remainder on the largest count (lowest index on ties).
 */
export function adaptiveFreqs(counts: Int32Array, totals: Int32Array, t: number, f: Int32Array): Int32Array {
  const L = f.length;
  const base = t * L;
  const total = totals[t]!;
  const scale = M - L;
  let sum = 0;
  let best = 0;
  let bestC = -1;
  for (let k = 0; k < L; k++) {
    const ck = counts[base + k]!;
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
