/** Bytes needed for `v` (0 <= v < 2^32) as a protobuf varint. */
export function varintSize(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

export function writeVarint(out: Uint8Array, pos: number, v: number): number {
  while (v >= 128) {
    out[pos++] = (v % 128) | 128;
    v = Math.floor(v / 128);
  }
  out[pos++] = v;
  return pos;
}

/** Read a varint of at most 5 bytes (value < 2^32) at `pos`. Returns [value, next] or
 * null when `bytes` ends first; throws 'corrupt' for an over-long varint. */
export const VARINT_OVERLONG = -1;
export function readVarint(bytes: Uint8Array, pos: number): [number, number] | null | typeof VARINT_OVERLONG {
  let v = 0;
  let mul = 1;
  for (let i = 0; i < 5; i++) {
    if (pos + i >= bytes.length) return null;
    const b = bytes[pos + i]!;
    v += (b & 127) * mul;
    if (b < 128) return v > 0xffffffff ? VARINT_OVERLONG : [v, pos + i + 1];
    mul *= 128;
  }
  return VARINT_OVERLONG;
}
