// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), table driven, no Node APIs.
import { CHUNK_CRC_BYTES } from './types.ts';
const TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** Continue a CRC over `bytes`; start with crc = 0. Returns an unsigned 32-bit value. */
export function crc32(bytes: Uint8Array, crc = 0): number {
  let c = ~crc;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/**
 * The checksum of chunk `index`: crc32 over the index as 4 little-endian bytes, then the
 * payload, continuing from `headerCrc` = crc32 of the Header and Index messages with their
 * length prefixes (`headCrc`). A chunk therefore also fails when it was moved to another
 * position or when the header or index was altered.
 */
export function chunkCrc(headerCrc: number, index: number, payload: Uint8Array): number {
  const b = new Uint8Array([index & 0xff, (index >>> 8) & 0xff, (index >>> 16) & 0xff, (index >>> 24) & 0xff]);
  return crc32(payload, crc32(b, headerCrc));
}

/** A raw-framed chunk (format 2.4): the payload followed by its chunkCrc, 4 bytes little-endian. */
export function encodeRawChunk(headerCrc: number, index: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(payload.length + CHUNK_CRC_BYTES);
  out.set(payload, 0);
  new DataView(out.buffer).setUint32(payload.length, chunkCrc(headerCrc, index, payload), true);
  return out;
}

/** Split a raw-framed chunk into payload and stored checksum (the caller checks its length >= CHUNK_CRC_BYTES). */
export function splitRawChunk(body: Uint8Array): { payload: Uint8Array; crc: number } {
  const n = body.length - CHUNK_CRC_BYTES;
  return { payload: body.subarray(0, n), crc: new DataView(body.buffer, body.byteOffset + n, CHUNK_CRC_BYTES).getUint32(0, true) };
}

/** The checksum of the final layer: crc32 of its data, continuing from `headerCrc` (as for chunks). */
export function finalCrc(headerCrc: number, data: Uint8Array): number {
  return crc32(data, headerCrc);
}
