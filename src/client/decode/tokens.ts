// Token state → model inputs: the decoded tokens of an image (optionally regenerated from
// the prior) as the decoder's z and mask, and for a split decoder the tail sum of the layers
// past the split, kept up to date as tokens arrive.
import { regenerate, tokensToZ, type StreamDecoder } from '../../codec/index.ts';
import { coarseMaskOf, type Geometry } from '../../model/io.ts';
import { TailSynthesis, type TailBasis } from '../../model/tail.ts';
import type { Models } from './models.ts';

export interface ModelInputs {
  z: Float32Array;
  mask: Float32Array;
  /** The split decoder's `tail` input; null for decoder.onnx. */
  tail: Float32Array | null;
}

export class TokenInputs {
  /** The split decoder's tail input, summed as tokens arrive (or zeros before any does). */
  private tail: TailSynthesis | null = null;
  private zeroTail: Float32Array | null = null;

  constructor(private readonly g: Geometry) {}

  private cells(): number {
    return this.g.gridW * this.g.gridH;
  }

  /**
   * Split decoder: the tail basis is needed once a token past the split is non-zero:
   * received (exactly, or by its coarse trit in a coarse-first stream, whose coarse pass
   * may reach past the split) or, when the RCM covers layers past the split, regenerated.
   */
  needsTail(sd: StreamDecoder, m: Models, regen: boolean): boolean {
    const split = m.files.manifest.splitDecoder;
    return !!split && (sd.progress.coarse > split.layers * this.cells() || (regen && !!m.rcm && m.rcm.T > split.layers));
  }

  /** The decoder's inputs for the first `known` stream symbols. `tb`: the tail basis when needsTail. */
  build(sd: StreamDecoder, known: number, m: Models, regen: boolean, tb: TailBasis | null): ModelInputs {
    const layout = sd.layout!;
    const { z, mask } = regen && m.rcm ? regenerate(layout, m.rcm, sd.tokens, known, coarseMaskOf(m.files.manifest)) : tokensToZ(layout, sd.tokens, known, coarseMaskOf(m.files.manifest));
    let tail: Float32Array | null = null;
    if (tb) {
      this.tail ??= new TailSynthesis(tb, this.cells());
      tail = this.tail.update(z);
    } else if (m.files.manifest.splitDecoder) {
      tail = this.zeroTail ??= new Float32Array(3 * layout.window * layout.window * this.cells());
    }
    return { z, mask, tail };
  }
}

/** The tokens the symbols tell (2.8: those known only by their coarse trit hold 3c + 1), for tests. */
export function tokenSnapshot(sd: StreamDecoder | null): { tokens: Uint8Array | null; known: number } {
  if (!sd) return { tokens: null, known: 0 };
  return { tokens: sd.tokens.slice(0, sd.progress.coarse), known: sd.known };
}
