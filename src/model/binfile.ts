// The small binary model files (preview.bin "MRTP", tail.bin "MRTT", decoder-lean.bin "MRTN")
// share one header: 4-byte magic, u8 version (1), then format-specific fields up to byte 12,
// little-endian; and their float16 conversions.

export const BIN_HEADER = 12;

/** Checks magic and version; returns a little-endian view of the file. */
export function openBin(bytes: Uint8Array, magic: string, name: string): { dv: DataView; bad: (why: string) => Error } {
  const bad = (why: string) => new Error(`${name}: ${why}`);
  if (bytes.length < BIN_HEADER || [...magic].some((c, i) => bytes[i] !== c.charCodeAt(0))) throw bad(`not a ${name} file (magic)`);
  if (bytes[4] !== 1) throw bad(`unsupported version ${bytes[4]}`);
  return { dv: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), bad };
}

/** IEEE 754 binary16 → number (subnormals, infinities and NaN included). */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}


/** float32 → IEEE binary16 bits, round to nearest even. */
export function floatToHalf(v: number): number {
  const f = new Float32Array([v]);
  const x = new Uint32Array(f.buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}

