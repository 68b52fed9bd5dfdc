// Chunk coding: the coder restarts per chunk, the prior's state carries over.
import { MrtFormatError } from '../format/errors.ts';
import { M, RANS_L, ransEncode } from './rans.ts';
import type { TokenPrior } from './prior.ts';

/**
 * Entropy-code tokens[start, end) (stream order) with `prior`, which must be positioned
 * at `start`; afterwards it is positioned at `end`.
 */
export function encodeChunk(prior: TokenPrior, tokens: ArrayLike<number>, start: number, end: number): Uint8Array {
  const n = end - start;
  if (!(n >= 0) || start < 0 || end > prior.layout.total) throw new RangeError(`bad token range [${start}, ${end}) of ${prior.layout.total}`);
  const L = prior.layout.levels;
  const starts = new Int32Array(n);
  const freqs = new Int32Array(n);
  for (let i = start; i < end; i++) {
    const k = tokens[i]!;
    if (!(k >= 0 && k < L && Number.isInteger(k))) throw new RangeError(`token ${i} = ${k} is not in [0, ${L})`);
    const f = prior.freqs(i);
    if (!(f[k]! >= 1)) throw new RangeError(`prior gives token ${i} = ${k} frequency ${f[k]}`);
    let cum = 0;
    for (let j = 0; j < k; j++) cum += f[j]!;
    starts[i - start] = cum;
    freqs[i - start] = f[k]!;
    prior.update(i, k);
  }
  return ransEncode(starts, freqs, n);
}

/**
 * Decode tokens[start, end) from `payload` into `out` with `prior` positioned at `start`.
 * Throws MrtFormatError 'coder' (offset -1; the caller knows the chunk's offset) when the
 * payload is not a valid coding under this prior (e.g. the wrong model).
 */
export function decodeChunk(prior: TokenPrior, payload: Uint8Array, out: Uint8Array, start: number, end: number): void {
  if (start < 0 || end > prior.layout.total || start > end) throw new RangeError(`bad token range [${start}, ${end}) of ${prior.layout.total}`);
  const p = payload;
  const len = p.length;
  if (len < 4) throw new MrtFormatError('coder', 'chunk payload shorter than the coder state');
  let x = p[0]! * 16777216 + ((p[1]! << 16) | (p[2]! << 8) | p[3]!);
  if (x < RANS_L || x >= 2147483648) throw new MrtFormatError('coder', 'invalid coder state');
  let pos = 4;
  const L = prior.layout.levels;
  const mask = M - 1;
  for (let i = start; i < end; i++) {
    const f = prior.freqs(i);
    const slot = x & mask;
    let k = 0;
    let cum = 0;
    let fk = f[0]!;
    while (cum + fk <= slot) {
      cum += fk;
      if (++k >= L) throw new MrtFormatError('coder', 'prior frequencies do not sum to M');
      fk = f[k]!;
    }
    x = fk * (x >>> 15) + slot - cum;
    while (x < RANS_L) {
      if (pos >= len) throw new MrtFormatError('coder', `payload exhausted at token ${i}`);
      x = (x << 8) | p[pos++]!;
    }
    out[i] = k;
    prior.update(i, k);
  }
  if (x !== RANS_L || pos !== len) throw new MrtFormatError('coder', 'coder did not end in its initial state (wrong prior or model?)');
}
