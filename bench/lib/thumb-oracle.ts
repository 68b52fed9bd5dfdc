// The thumbnail peers of the perceptual metrics: for each metric its own oracle, the best
// thumbnail by THAT metric among those that fit the budget. Scoring every (format, side,
// quality) with every metric is too slow, so the oracle chooses among, per format and side,
// the highest quality that fits (bench/thumb-prune-check.ts measures what that loses).
import { bestWithin, thumbCandidates, THUMB_FORMATS, type ThumbCandidate, type ThumbFormat } from './thumbs.ts';
import type { Rgb } from './kodak.ts';
import { atLeastAsGood, type PerceptualMetric, type PerceptualScores } from './perceptual.ts';

export interface ThumbKey { fmt: ThumbFormat; side: number; q: number; bytes: number }

export const thumbId = (c: ThumbKey) => `${c.fmt}/${c.side}/q${c.q}`;

/** Per format and side, the highest quality within `budget` bytes. */
export function highestQualityPerSide<T extends ThumbKey>(cands: T[], budget: number): T[] {
  const best = new Map<string, T>();
  for (const c of cands) {
    if (c.bytes > budget) continue;
    const k = `${c.fmt}/${c.side}`;
    const b = best.get(k);
    if (!b || c.q > b.q) best.set(k, c);
  }
  return [...best.values()];
}

/** The best candidate by metric m (ties: the smaller file), or null if none. */
export function bestBy<T extends { bytes: number; scores: PerceptualScores }>(cands: T[], m: PerceptualMetric): T | null {
  let best: T | null = null;
  for (const c of cands) {
    if (!best) { best = c; continue; }
    const better = atLeastAsGood(m, c.scores[m], best.scores[m]) && (c.scores[m] !== best.scores[m] || c.bytes < best.bytes);
    if (better) best = c;
  }
  return best;
}

export interface BudgetThumbs {
  /** per format and side, the highest quality that fits: what the perceptual oracles choose from */
  pruned: ThumbCandidate[];
  /** the PSNR-best over every (format, side, quality) that fits: bench/peers.ts's oracle */
  psnrBest: ThumbCandidate | null;
}

/** Every candidate up to the largest budget, reduced per budget to what the oracles need
 *  (other candidates' pixels are dropped). */
export async function thumbsPerBudget(src: Rgb, budgets: number[]): Promise<Map<number, BudgetThumbs>> {
  const all = (await Promise.all(THUMB_FORMATS.map((f) => thumbCandidates(src, f, Math.max(...budgets))))).flat();
  return new Map(budgets.map((b) => [b, { pruned: highestQualityPerSide(all, b), psnrBest: bestWithin(all, b) }]));
}
