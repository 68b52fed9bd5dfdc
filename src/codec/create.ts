import { tokenLayout, type LayoutLike, type TokenLayout } from './layout.ts';
import { StaticPrior, type TokenPrior } from './prior.ts';
import { RcmPrior, type RcmWeights } from './rcm.ts';

/**
 * The prior of a stream: the RCM when weights are given, else the static prior.
 * `sharedLate`: the layers past the RCM share one static table (format 2.6, Index prior 2).
 */
export function createPrior(layout: LayoutLike | TokenLayout, rcm: RcmWeights | null | undefined, sharedLate = false): TokenPrior {
  const l = 'total' in layout ? (layout as TokenLayout) : tokenLayout(layout);
  return rcm ? new RcmPrior(l, rcm, sharedLate) : new StaticPrior(l);
}
