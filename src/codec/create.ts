import { tokenLayout, type LayoutLike, type TokenLayout } from './layout.ts';
import { StaticPrior, type TokenPrior } from './prior.ts';
import { RcmPrior, type RcmWeights } from './rcm.ts';

/** The prior of a stream: the RCM when weights are given, else the static prior. */
export function createPrior(layout: LayoutLike | TokenLayout, rcm: RcmWeights | null | undefined): TokenPrior {
  const l = 'total' in layout ? (layout as TokenLayout) : tokenLayout(layout);
  return rcm ? new RcmPrior(l, rcm) : new StaticPrior(l);
}
