// When an image skips its learned chunks and shows its final layer on its own (MrtConfig.directFinal).
// One rule for the page (a first visit's parts, first-visit.ts) and the worker (a final layer
// read alone with a Range request, decode/job.ts).
import type { BudgetHints } from '../format/budget.ts';
import type { MrtConfig } from './types.ts';
import type { StartOptions } from './protocol.ts';

/** Bits per displayed pixel assumed for a final layer before its size is known (photos at the default AVIF quality: 0.3–0.6 on Kodak). */
export const FINAL_BPP_GUESS = 0.6;
/** A final layer expected within this time of the request needs no learned paints before it. */
export const FINAL_SOON_MS = 400;

/**
 * 'always'; or 'auto' when the learned decoder's files are known not to be in the HTTP cache
 * (`learnedCached` false: a first visit), when the link is fast enough that the final layer
 * comes before a learned paint would help (finalSoon), or when the device reports under 2 GB
 * of memory. Never under a byte or chunk budget (it leaves the final layer out), nor for an
 * image whose final layer could not be shown alone (`opts.direct` false).
 */
export function directWanted(mode: MrtConfig['directFinal'], opts: Pick<StartOptions, 'budget' | 'direct' | 'box'>, learnedCached: boolean | null): boolean {
  if (mode === 'never' || opts.direct === false) return false;
  if (opts.budget && !('hints' in opts.budget)) return false;
  if (mode === 'always') return true;
  const memory = (navigator as unknown as { deviceMemory?: number }).deviceMemory;
  const hints = opts.budget && 'hints' in opts.budget ? opts.budget.hints : undefined;
  return learnedCached === false || finalSoon(hints, opts.box) || (memory !== undefined && memory < 2);
}

/**
 * Whether the connection the browser reports (Chromium's navigator.connection: ECT 4g, its
 * downlink and RTT) brings a final layer of the displayed size within FINAL_SOON_MS: one round
 * trip plus FINAL_BPP_GUESS bits per displayed device pixel. There the learned paints would
 * land at about the final's time, and their worker, token decoding and runs only delay it (on
 * a warm visit at 10 Mbit/s they did, by over a second: docs/experiments.md). Without a
 * measured link (other browsers, Save-Data) the learned layer is read as before.
 */
export function finalSoon(h: BudgetHints | undefined, box?: { width: number; height: number }): boolean {
  if (!h || h.saveData || !(h.downlinkMbps! > 0) || (h.ect !== undefined && h.ect !== '4g')) return false;
  const dpr = h.dpr! > 0 ? h.dpr! : 1;
  const pixels = box && box.width > 0 && box.height > 0 ? box.width * box.height * dpr * dpr : h.widthPx! > 0 ? h.widthPx! * h.widthPx! * 0.75 : 0;
  if (!(pixels > 0)) return false;
  const ms = (h.rttMs ?? 0) + (pixels * FINAL_BPP_GUESS) / (h.downlinkMbps! * 1000);
  return ms <= FINAL_SOON_MS;
}
