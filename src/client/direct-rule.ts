// When an image skips its learned chunks and shows its final layer on its own (MrtConfig.directFinal).
// One rule for the page (a first visit's parts, first-visit.ts) and the worker (a final layer
// read alone with a Range request, decode/job.ts).
import type { MrtConfig } from './types.ts';
import type { StartOptions } from './protocol.ts';

/**
 * 'always'; or 'auto' when the learned decoder's files are known not to be in the HTTP cache
 * (`learnedCached` false: a first visit) or the device reports under 2 GB of memory. Never
 * under a byte or chunk budget (it leaves the final layer out), nor for an image whose final
 * layer could not be shown alone (`opts.direct` false).
 */
export function directWanted(mode: MrtConfig['directFinal'], opts: Pick<StartOptions, 'budget' | 'direct'>, learnedCached: boolean | null): boolean {
  if (mode === 'never' || opts.direct === false) return false;
  if (opts.budget && !('hints' in opts.budget)) return false;
  if (mode === 'always') return true;
  const memory = (navigator as unknown as { deviceMemory?: number }).deviceMemory;
  return learnedCached === false || (memory !== undefined && memory < 2);
}
