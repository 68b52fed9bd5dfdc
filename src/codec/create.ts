import { tokenLayout, type LayoutLike, type TokenLayout } from './layout.ts';
import { CoarseFirstPrior } from './coarse.ts';
import { StaticPrior, type TokenPrior } from './prior.ts';
import { RcmPrior, checkRcmLayout, type RcmWeights } from './rcm.ts';

export interface PriorOptions {
  /** the layers past the RCM share one static table (format 2.6, Index prior 2) */
  sharedLate?: boolean;
  /** (2.8, with sharedLate) ... chosen by neighbourhood context (Index prior 3) */
  lateContexts?: boolean;
  /** (2.10, coarse-first, with lateContexts) the coarse trits are coded by the RCM's coarse section (Index prior 4) */
  coarseRcm?: boolean;
  /** (coarse-first) the buffer it decodes tokens into, in token order */
  tokens?: Uint8Array;
}

/**
 * The prior of a stream's symbols: the RCM when weights are given, else the static prior,
 * over the layout's stream order (2.8: coarse-first when it has coarse layers).
 */
export function createPrior(layout: LayoutLike | TokenLayout, rcm: RcmWeights | null | undefined, o: PriorOptions = {}): TokenPrior {
  const l = 'total' in layout ? (layout as TokenLayout) : tokenLayout(layout);
  if (rcm) checkRcmLayout(rcm, l);
  const fine = rcm ? new RcmPrior(l, rcm, !!o.sharedLate, !!o.lateContexts) : new StaticPrior(l);
  if (o.coarseRcm && !(l.coarseLayers > 0 && rcm?.coarse && o.lateContexts)) {
    throw new RangeError(l.coarseLayers > 0 && o.lateContexts ? 'the model has no coarse RCM' : 'a coarse RCM codes the coarse pass of a coarse-first stream with late contexts');
  }
  return l.coarseLayers > 0 ? new CoarseFirstPrior(l, fine, o.tokens, o.coarseRcm ? rcm!.coarse : undefined) : fine;
}
