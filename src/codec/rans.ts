// Byte-renormalising rANS with a 32-bit state held in JS numbers (all values < 2^31).
// Frequencies sum to M = 2^15. State interval [RANS_L, 256*RANS_L) with RANS_L = 2^23.
// Chunk layouts (restart / chained) are in chunk.ts; this is the coder itself.

export const PROB_BITS = 15;
export const M = 1 << PROB_BITS;
export const RANS_L = 1 << 23;

/**
 * Encode symbols [from, to) given per symbol (cumulative start, frequency), in forward
 * (decoding) order, starting the encoder in state `x0` (the state the decoder must end in).
 * Returns the renormalisation bytes in decoding order and the final encoder state (the
 * state the decoder must start in).
 */
export function ransEncode(
  starts: Uint16Array | Int32Array,
  freqs: Uint16Array | Int32Array,
  from: number,
  to: number,
  x0: number = RANS_L,
): { bytes: Uint8Array; state: number } {
  let buf = new Uint8Array(Math.max(16, ((to - from) >> 2) + 16));
  let len = 0; // bytes emitted (in reverse order of the output)
  let x = x0;
  for (let j = to - 1; j >= from; j--) {
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
  const bytes = new Uint8Array(len);
  for (let k = 0; k < len; k++) bytes[k] = buf[len - 1 - k]!;
  return { bytes, state: x };
}

/** The 4-byte big-endian state a coded stream starts with. */
export function stateBytes(x: number): Uint8Array {
  return Uint8Array.of(x >>> 24, (x >>> 16) & 255, (x >>> 8) & 255, x & 255);
}
