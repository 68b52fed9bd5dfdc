// The prior of the coarse-first order (format 2.8; docs/design.md "Coarse pass"): stream
// symbols are coarse trits, refinement trits or whole tokens (src/codec/layout.ts), coded
// with the stream's token prior (static or RCM) wherever it applies:
// - a refinement trit r of a token in coarse bin c gets the token prior's frequencies of
//   levels 3c, 3c+1, 3c+2 rescaled to M (integers only), so coarse + refinement cost what
//   the token itself would, up to rounding;
// - coarse trits have their own adaptive tables (the StaticPrior's rules), shared by all
//   coarse layers, one per neighbourhoodContext (src/codec/prior.ts: off-centre neighbours
//   and window history). On held-out training images (mrt-v0.7's encoder tokens): 392 B per
//   image for 128 layers' trits; in the first 32 layers 0.343 bits per trit with 9 such
//   contexts, against 0.376 with one adaptive table per layer.
import { COARSE_BINS, type TokenLayout } from './layout.ts';
import { ADAPTIVE_CONTEXTS, adaptiveFreqs, adaptiveUpdate, neighbourhoodContext, orderError, scaledFreqs, type TokenPrior } from './prior.ts';

const CENTRE = 1;

export class CoarseFirstPrior implements TokenPrior {
  readonly kind: TokenPrior['kind'];
  readonly layout: TokenLayout;
  position = 0;
  /** tokens in token order: exact below the refined count, 3c + 1 for a token known by its coarse trit c */
  readonly tokens: Uint8Array;
  private readonly counts = new Int32Array(ADAPTIVE_CONTEXTS * COARSE_BINS).fill(1);
  private readonly totals = new Int32Array(ADAPTIVE_CONTEXTS).fill(COARSE_BINS);
  /** per token of the coarse layers: its coarse trit is off the centre bin */
  private readonly off: Uint8Array;
  private readonly f = new Int32Array(COARSE_BINS);
  /** symbols of the coarse pass = of the refinement pass */
  private readonly kn: number;

  /** `fine`: the stream's token prior over the same layout, positioned at token 0. */
  constructor(layout: TokenLayout, private readonly fine: TokenPrior, tokens?: Uint8Array) {
    if (layout.coarseLayers < 1) throw new RangeError('CoarseFirstPrior needs a layout with coarse layers');
    if (fine.layout.total !== layout.total || fine.layout.windows !== layout.windows) throw new RangeError('the token prior has another layout');
    this.kind = fine.kind;
    this.layout = layout;
    this.kn = layout.coarseLayers * layout.windows;
    this.tokens = tokens ?? new Uint8Array(layout.total);
    this.off = new Uint8Array(this.kn);
  }

  private context(i: number): number {
    return neighbourhoodContext(this.off, i, this.layout.windows, this.layout.gridW);
  }

  freqs(j: number): Int32Array {
    if (j !== this.position) throw orderError(j, this.position);
    const kn = this.kn;
    if (j < kn) return adaptiveFreqs(this.counts, this.totals, this.context(j), this.f);
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
      adaptiveUpdate(this.counts, this.totals, this.context(j), s, COARSE_BINS);
      this.tokens[j] = s * COARSE_BINS + CENTRE;
      this.off[j] = s !== CENTRE ? 1 : 0;
    } else {
      const i = j - kn;
      const k = j < 2 * kn ? Math.floor(this.tokens[i]! / COARSE_BINS) * COARSE_BINS + s : s;
      this.tokens[i] = k;
      this.fine.update(i, k);
    }
    this.position = j + 1;
  }
}
