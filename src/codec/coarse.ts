// The prior of the coarse-first order (format 2.8; docs/design.md "Coarse pass"): stream
// symbols are coarse trits, refinement trits or whole tokens (src/codec/layout.ts), coded
// with the stream's token prior (static or RCM) wherever it applies:
// - a refinement trit r of a token in coarse bin c gets the token prior's frequencies of
//   levels 3c, 3c+1, 3c+2 rescaled to M (integers only), so coarse + refinement cost what
//   the token itself would, up to rounding;
// - coarse trits are a stream of their own over the coarse layers (L = 3), coded by
//   - (2.8, 2.9) adaptive tables shared by all coarse layers, one per neighbourhoodContext
//     (src/codec/prior.ts: off-centre neighbours and window history): a StaticPrior whose
//     shared late table starts at layer 0. On held-out training images (mrt-v0.7's encoder
//     tokens): 392 B per image for 128 layers' trits; in the first 32 layers 0.343 bits per
//     trit with 9 such contexts, against 0.376 with one adaptive table per layer;
//   - (2.10, Index prior RCM_COARSE) the model's coarse RCM (rcm.json "coarse"), with those
//     tables for the coarse layers past its T.
import { COARSE_BINS, coarseOnlyToken, tokenLayout, type TokenLayout } from './layout.ts';
import { orderError, scaledFreqs, StaticPrior, type TokenPrior } from './prior.ts';
import { RcmPrior, type RcmWeights } from './rcm.ts';

export class CoarseFirstPrior implements TokenPrior {
  readonly kind: TokenPrior['kind'];
  readonly layout: TokenLayout;
  position = 0;
  /** tokens in token order: exact below the refined count, 3c + 1 for a token known by its coarse trit c */
  readonly tokens: Uint8Array;
  /** the prior of the coarse trits, over the coarse layers' layout (L = 3) */
  private readonly coarse: TokenPrior;
  private readonly f = new Int32Array(COARSE_BINS);
  /** symbols of the coarse pass = of the refinement pass */
  private readonly kn: number;

  /**
   * `fine`: the stream's token prior over the same layout, positioned at token 0;
   * `coarseRcm` (2.10): the RCM of the coarse trits, else the neighbourhood tables code them.
   */
  constructor(layout: TokenLayout, private readonly fine: TokenPrior, tokens?: Uint8Array, coarseRcm?: RcmWeights) {
    if (layout.coarseLayers < 1) throw new RangeError('CoarseFirstPrior needs a layout with coarse layers');
    if (fine.layout.total !== layout.total || fine.layout.windows !== layout.windows) throw new RangeError('the token prior has another layout');
    this.kind = fine.kind;
    this.layout = layout;
    this.kn = layout.coarseLayers * layout.windows;
    this.tokens = tokens ?? new Uint8Array(layout.total);
    const cl = tokenLayout({ ...layout, tokensPerWindow: layout.coarseLayers, levels: COARSE_BINS, coarseLayers: 0 });
    this.coarse = coarseRcm ? new RcmPrior(cl, coarseRcm, true, true) : new StaticPrior(cl, 0, true);
  }

  freqs(j: number): Int32Array {
    if (j !== this.position) throw orderError(j, this.position);
    const kn = this.kn;
    if (j < kn) return this.coarse.freqs(j);
    if (j >= 2 * kn) return this.fine.freqs(j - kn);
    // refinement: the token prior's frequencies within the coarse bin, rescaled to M
    const i = j - kn;
    const pf = this.fine.freqs(i);
    const lo = Math.floor(this.tokens[i]! / COARSE_BINS) * COARSE_BINS;
    let s = 0;
    for (let r = 0; r < COARSE_BINS; r++) s += pf[lo + r]!;
    return scaledFreqs(pf, lo, s, this.f);
  }

  update(j: number, s: number): void {
    if (j !== this.position) throw orderError(j, this.position);
    const kn = this.kn;
    if (j < kn) {
      this.coarse.update(j, s);
      this.tokens[j] = coarseOnlyToken(s);
    } else {
      const i = j - kn;
      const k = j < 2 * kn ? Math.floor(this.tokens[i]! / COARSE_BINS) * COARSE_BINS + s : s;
      this.tokens[i] = k;
      this.fine.update(i, k);
    }
    this.position = j + 1;
  }
}
