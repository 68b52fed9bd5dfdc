// The small binary model files (preview.bin "MRTP", tail.bin "MRTT") share one header:
// 4-byte magic, u8 version (1), then format-specific fields up to byte 12, little-endian.

export const BIN_HEADER = 12;

/** Checks magic and version; returns a little-endian view of the file. */
export function openBin(bytes: Uint8Array, magic: string, name: string): { dv: DataView; bad: (why: string) => Error } {
  const bad = (why: string) => new Error(`${name}: ${why}`);
  if (bytes.length < BIN_HEADER || [...magic].some((c, i) => bytes[i] !== c.charCodeAt(0))) throw bad(`not a ${name} file (magic)`);
  if (bytes[4] !== 1) throw bad(`unsupported version ${bytes[4]}`);
  return { dv: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), bad };
}
