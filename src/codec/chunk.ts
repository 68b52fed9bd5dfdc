// Chunk coding: the prior's state carries over from chunk to chunk; the rANS coder either
// restarts per chunk ('restart': 4-byte state first, ends in RANS_L) or is chained
// ('chained', format 2.2: chunk 0 starts with the 4-byte state, every later chunk starts in
// the state the previous one ended in, and the stream's last chunk ends in RANS_L). The
// chained form saves ~3.5 bytes per chunk: the state a chunk needs rides in the previous
// chunk's bytes (up to 8 bits of it beyond RANS_L) instead of 4 bytes of its own.
import { concatBytes } from '../format/bytes.ts';
import { MrtFormatError } from '../format/errors.ts';
import type { MrtCoder } from '../format/types.ts';
import { M, PROB_BITS, RANS_L, ransEncode, stateBytes } from './rans.ts';
import { orderError, type TokenPrior } from './prior.ts';

/**
 * A stretch of the stream as the prior models it: per token, the cumulative start and
 * frequency rANS codes it with. The prior runs once, forwards (the costly part of coding),
 * and only as far as asked (`extend`); any contiguous ranges inside what it has modelled can
 * then be coded from it (`code`), as often as wanted (the encoder codes a prefix in several
 * chunkings to find where to cut it).
 */
export class ModelledStream {
  /** the first token modelled: where the prior was positioned */
  readonly first: number;
  private starts = new Int32Array(0);
  private freqs = new Int32Array(0);

  /** `prior` must be positioned at the first token to model; it is advanced by `extend`. */
  constructor(private readonly prior: TokenPrior, private readonly tokens: ArrayLike<number>) {
    this.first = prior.position;
  }

  /** One past the last token modelled. */
  get end(): number {
    return this.prior.position;
  }

  /** Models the tokens up to `to` (if not yet); returns their information content in bits (what rANS spends on them, within a few bytes). */
  extend(to: number): number {
    const { prior, tokens, first } = this;
    if (to > prior.layout.streamLength) throw new RangeError(`bad token range [${first}, ${to}) of ${prior.layout.streamLength}`);
    if (to - first > this.starts.length) {
      const n = Math.min(prior.layout.streamLength - first, Math.max(to - first, 2 * this.starts.length));
      const [s, f] = [new Int32Array(n), new Int32Array(n)];
      s.set(this.starts);
      f.set(this.freqs);
      [this.starts, this.freqs] = [s, f];
    }
    let bits = 0;
    for (let i = prior.position; i < to; i++) {
      const k = tokens[i]!;
      const f = prior.freqs(i);
      if (!(k >= 0 && k < f.length && Number.isInteger(k))) throw new RangeError(`symbol ${i} = ${k} is not in [0, ${f.length})`);
      if (!(f[k]! >= 1)) throw new RangeError(`prior gives token ${i} = ${k} frequency ${f[k]}`);
      let cum = 0;
      for (let j = 0; j < k; j++) cum += f[j]!;
      this.starts[i - first] = cum;
      this.freqs[i - first] = f[k]!;
      bits += PROB_BITS - Math.log2(f[k]!);
      prior.update(i, k);
    }
    return bits;
  }

  /** Codes `ranges` (contiguous, stream order, inside what is modelled): one payload per range. */
  code(ranges: readonly { tokenStart: number; tokenEnd: number }[], coder: MrtCoder): Uint8Array[] {
    if (!ranges.length) return [];
    for (const [k, r] of ranges.entries()) {
      if (r.tokenEnd < r.tokenStart || (k > 0 && r.tokenStart !== ranges[k - 1]!.tokenEnd)) throw new RangeError(`chunk ${k}: token ranges must be contiguous`);
    }
    const from = ranges[0]!.tokenStart;
    const to = ranges[ranges.length - 1]!.tokenEnd;
    if (from < this.first || to > this.end) throw new RangeError(`token range [${from}, ${to}) is not in the modelled [${this.first}, ${this.end})`);
    // rANS encodes backwards
    const out: Uint8Array[] = new Array(ranges.length);
    let next = RANS_L; // chained: the state the following chunk starts in
    for (let c = ranges.length - 1; c >= 0; c--) {
      const r = ranges[c]!;
      const { bytes, state } = ransEncode(this.starts, this.freqs, r.tokenStart - this.first, r.tokenEnd - this.first, coder === 'chained' ? next : RANS_L);
      next = state;
      out[c] = coder === 'chained' && c > 0 ? bytes : concatBytes(stateBytes(state), bytes);
    }
    return out;
  }
}

/**
 * Entropy-code the chunks' token ranges (contiguous, stream order) with `prior`, which must
 * be positioned at the first range's start; afterwards it is positioned at the last end.
 * Returns one payload per range.
 */
export function encodeChunks(
  prior: TokenPrior,
  tokens: ArrayLike<number>,
  ranges: readonly { tokenStart: number; tokenEnd: number }[],
  coder: MrtCoder,
): Uint8Array[] {
  if (!ranges.length) return [];
  if (ranges[0]!.tokenStart !== prior.position) throw orderError(ranges[0]!.tokenStart, prior.position);
  const m = new ModelledStream(prior, tokens);
  m.extend(ranges[ranges.length - 1]!.tokenEnd);
  return m.code(ranges, coder);
}

/** One chunk coded on its own ('restart'): tokens[start, end). */
export function encodeChunk(prior: TokenPrior, tokens: ArrayLike<number>, start: number, end: number): Uint8Array {
  return encodeChunks(prior, tokens, [{ tokenStart: start, tokenEnd: end }], 'restart')[0]!;
}


/**
 * Resumable decoding of one chunk's tokens[start, end) into `out`, with `prior` positioned
 * at `start`. Feed it the chunk's payload as it arrives (each call with the bytes received
 * so far, a growing prefix of the same payload): it decodes every token whose bits have
 * arrived. Those tokens are exact, not estimates: a rANS decoder reads a byte only after
 * it has decoded the symbol before it, so the symbols decoded from a prefix of the bytes are
 * the same as from all of them. The chunk's checksum can only be checked once it is whole,
 * so until `finish()` the decoded tokens are provisional.
 */
export class ChunkDecoder {
  /** next token to decode (tokens [start, next) are decoded) */
  next: number;
  private x = 0;
  private pos = 0;
  /** the state is renormalised: the next symbol can be read from it */
  private ready = false;

  constructor(
    private readonly prior: TokenPrior,
    private readonly out: Uint8Array,
    readonly start: number,
    readonly end: number,
    /** null when the payload starts with the coder state (restart, chunk 0 of a chained stream), else the state the previous chunk ended in */
    private readonly state: number | null = null,
  ) {
    if (start < 0 || end > prior.layout.streamLength || start > end) throw new RangeError(`bad token range [${start}, ${end}) of ${prior.layout.streamLength}`);
    this.next = start;
    if (state !== null) this.setState(state);
  }

  private setState(x: number): void {
    if (x < RANS_L || x >= 2147483648) throw new MrtFormatError('coder', 'invalid coder state');
    this.x = x;
    this.ready = true;
  }

  /**
   * Decode what the first `payload.length` bytes of the payload allow. Returns the number of
   * tokens decoded so far. Throws MrtFormatError 'coder' when the bytes cannot be a coding
   * under this prior (`complete`: `payload` is the whole payload).
   */
  feed(payload: Uint8Array, complete = false): number {
    const p = payload;
    const len = p.length;
    if (len < this.pos) throw new RangeError('ChunkDecoder.feed: the payload must grow');
    if (this.next === this.start && !this.ready) {
      if (len < 4) {
        if (complete) throw new MrtFormatError('coder', 'chunk payload shorter than the coder state');
        return 0;
      }
      this.pos = 4;
      this.setState(p[0]! * 16777216 + ((p[1]! << 16) | (p[2]! << 8) | p[3]!));
    }
    const prior = this.prior;
    const out = this.out;
    const mask = M - 1;
    let x = this.x;
    let pos = this.pos;
    let i = this.next;
    // finish a renormalisation that waited for bytes
    while (!this.ready) {
      if (x >= RANS_L) this.ready = true;
      else if (pos < len) x = (x << 8) | p[pos++]!;
      else break;
    }
    while (this.ready && i < this.end) {
      const f = prior.freqs(i);
      const slot = x & mask;
      let k = 0;
      let cum = 0;
      let fk = f[0]!;
      while (cum + fk <= slot) {
        cum += fk;
        if (++k >= f.length) throw new MrtFormatError('coder', 'prior frequencies do not sum to M');
        fk = f[k]!;
      }
      x = fk * (x >>> 15) + slot - cum;
      out[i] = k;
      prior.update(i, k);
      i++;
      while (x < RANS_L) {
        if (pos >= len) {
          this.ready = false;
          break;
        }
        x = (x << 8) | p[pos++]!;
      }
    }
    this.x = x;
    this.pos = pos;
    this.next = i;
    if (complete && !this.ready) throw new MrtFormatError('coder', `payload exhausted at token ${i}`);
    return i - this.start;
  }

  /**
   * The whole payload was fed: check that it coded exactly [start, end). `last`: the coder
   * must end in its initial state (every restart chunk; the stream's last chunk when
   * chained). Returns the state the coder ended in.
   */
  finish(payloadLength: number, last: boolean): number {
    if (this.next !== this.end) throw new MrtFormatError('coder', `payload exhausted at token ${this.next}`);
    if (this.pos !== payloadLength) throw new MrtFormatError('coder', `${payloadLength - this.pos} payload bytes left over (wrong prior or model?)`);
    if (last && this.x !== RANS_L) throw new MrtFormatError('coder', 'coder did not end in its initial state (wrong prior or model?)');
    return this.x;
  }
}

/**
 * Decode tokens[start, end) from a whole `payload` (see ChunkDecoder; `state` and `last`
 * as there). Returns the state the coder ended in. Throws MrtFormatError 'coder' (offset -1;
 * the caller knows the chunk's offset) when the payload is not a valid coding under this
 * prior (e.g. the wrong model).
 */
export function decodeChunk(prior: TokenPrior, payload: Uint8Array, out: Uint8Array, start: number, end: number, state: number | null = null, last = true): number {
  const d = new ChunkDecoder(prior, out, start, end, state);
  d.feed(payload, true);
  return d.finish(payload.length, last);
}
