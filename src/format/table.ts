// Compact chunk-size table (Header.chunk_sizes, see proto/mrt.proto):
// byte 0 = Rice parameter r, then for every chunk zigzag(size[k] - size[k-1]) Rice-coded:
// q = v >> r one-bits, one zero bit, then the r low bits of v (LSB first). Bits are packed
// LSB-first within each byte. Typical cost: 5-7 bits per chunk.
import { MrtFormatError } from './errors.ts';
import { LIMITS } from './limits.ts';

const MAX_RICE = 24;

function zigzag(d: number): number {
  return d >= 0 ? 2 * d : -2 * d - 1;
}

function riceBits(values: number[], r: number): number {
  const p = 2 ** r;
  let bits = 0;
  for (const v of values) bits += Math.floor(v / p) + 1 + r;
  return bits;
}

export function encodeChunkSizes(sizes: readonly number[]): Uint8Array {
  if (sizes.length === 0) return new Uint8Array(0);
  const values: number[] = [];
  let prev = 0;
  for (const s of sizes) {
    values.push(zigzag(s - prev));
    prev = s;
  }
  let best = 0;
  let bestBits = Infinity;
  for (let r = 0; r <= MAX_RICE; r++) {
    const b = riceBits(values, r);
    if (b < bestBits) {
      bestBits = b;
      best = r;
    }
  }
  const out = new Uint8Array(1 + Math.ceil(bestBits / 8));
  out[0] = best;
  let bit = 8;
  const put = (b: number) => {
    if (b) out[bit >> 3]! |= 1 << (bit & 7);
    bit++;
  };
  const p = 2 ** best;
  for (const v of values) {
    const q = Math.floor(v / p);
    for (let i = 0; i < q; i++) put(1);
    put(0);
    let low = v % p;
    for (let i = 0; i < best; i++) {
      put(low & 1);
      low = Math.floor(low / 2);
    }
  }
  return out;
}

/** Decode `count` chunk sizes. `offset` (for errors) is where the header starts. */
export function decodeChunkSizes(bytes: Uint8Array, count: number, offset: number): number[] {
  const sizes: number[] = [];
  if (count === 0) return sizes;
  if (bytes.length === 0) throw new MrtFormatError('corrupt', 'chunk table is empty', offset);
  const r = bytes[0]!;
  if (r > MAX_RICE) throw new MrtFormatError('corrupt', `chunk table Rice parameter ${r} > ${MAX_RICE}`, offset);
  const p = 2 ** r;
  const maxQ = Math.floor((2 * LIMITS.MAX_CHUNK_BYTES + 1) / p) + 1;
  const nbits = bytes.length * 8;
  let bit = 8;
  let prev = 0;
  const fail = () => new MrtFormatError('corrupt', 'chunk table ends early', offset);
  for (let k = 0; k < count; k++) {
    let q = 0;
    for (;;) {
      if (bit >= nbits) throw fail();
      const b = (bytes[bit >> 3]! >> (bit & 7)) & 1;
      bit++;
      if (!b) break;
      if (++q > maxQ) throw new MrtFormatError('limit', `chunk ${k} size exceeds MAX_CHUNK_BYTES`, offset);
    }
    if (bit + r > nbits) throw fail();
    let low = 0;
    let m = 1;
    for (let i = 0; i < r; i++) {
      low += ((bytes[bit >> 3]! >> (bit & 7)) & 1) * m;
      m *= 2;
      bit++;
    }
    const v = q * p + low;
    const d = v % 2 === 0 ? v / 2 : -(v + 1) / 2;
    const s = prev + d;
    if (s < 0) throw new MrtFormatError('corrupt', `chunk ${k} has negative size`, offset);
    if (s > LIMITS.MAX_CHUNK_BYTES) throw new MrtFormatError('limit', `chunk ${k} size ${s} exceeds MAX_CHUNK_BYTES`, offset);
    sizes.push(s);
    prev = s;
  }
  return sizes;
}
