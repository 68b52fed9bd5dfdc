// Byte-renormalising rANS with a 32-bit state held in JS numbers (all values < 2^31).
// Frequencies sum to M = 2^15. State interval [RANS_L, 256*RANS_L) with RANS_L = 2^23.
// A coded chunk is: the final encoder state as 4 big-endian bytes, then the renormalisation
// bytes in decoding order. The decoder must end in state RANS_L with every byte consumed.

export const PROB_BITS = 15;
export const M = 1 << PROB_BITS;
export const RANS_L = 1 << 23;

/** Encode symbols given per symbol (cumulative start, frequency), in forward (decoding) order. */
export function ransEncode(starts: Uint16Array | Int32Array, freqs: Uint16Array | Int32Array, n: number): Uint8Array {
  let buf = new Uint8Array(Math.max(16, (n >> 2) + 16));
  let len = 0; // bytes emitted (in reverse order of the output)
  let x = RANS_L;
  for (let j = n - 1; j >= 0; j--) {
    const f = freqs[j]!;
    const s = starts[j]!;
    const xmax = f * 65536; // ((RANS_L >> PROB_BITS) << 8) * f
    while (x >= xmax) {
      if (len === buf.length) {
        const b = new Uint8Array(buf.length * 2);
        b.set(buf);
        buf = b;
      }
      buf[len++] = x & 255;
      x >>>= 8;
    }
    const q = Math.floor(x / f);
    x = q * M + (x - q * f) + s;
  }
  const out = new Uint8Array(len + 4);
  out[0] = x >>> 24;
  out[1] = (x >>> 16) & 255;
  out[2] = (x >>> 8) & 255;
  out[3] = x & 255;
  for (let k = 0; k < len; k++) out[4 + k] = buf[len - 1 - k]!;
  return out;
}
