// Streams built from raw Header and Index messages, past the writer's checks: what a hostile
// or broken writer could send. Shared by the format, encoder and edge tests.
import { readHeader } from '../../src/format/index.ts';
import { mrt } from '../../src/format/gen/mrt.js';
import { readVarint, writeVarint, varintSize } from '../../src/format/varint.ts';

/** "MRT" 2.`minor`, the Header and Index messages, then `rest` (chunks, final) as given. */
export function rawStream(header: mrt.IHeader, index: mrt.IIndex, rest: Uint8Array = new Uint8Array(0), minor = 10): Uint8Array {
  return framedStream(new Uint8Array([0x4d, 0x52, 0x54, 2, minor]), mrt.Header.encode(header).finish(), mrt.Index.encode(index).finish(), rest);
}

/** preamble, then the Header and Index messages with their length prefixes, then `rest` as is */
export function framedStream(preamble: Uint8Array, headerMsg: Uint8Array, indexMsg: Uint8Array, rest: Uint8Array): Uint8Array {
  const out = new Uint8Array(preamble.length + varintSize(headerMsg.length) + headerMsg.length + varintSize(indexMsg.length) + indexMsg.length + rest.length);
  out.set(preamble);
  let p = writeVarint(out, preamble.length, headerMsg.length);
  out.set(headerMsg, p);
  p = writeVarint(out, p + headerMsg.length, indexMsg.length);
  out.set(indexMsg, p);
  out.set(rest, p + indexMsg.length);
  return out;
}

/**
 * A stream claiming `width` x `height` with the given layout and no chunks: a few dozen
 * bytes that, read naively, make a decoder allocate for the whole claimed image.
 */
export function claimStream(
  width: number, height: number,
  o: { tokens?: number; coarseLayers?: number; levels?: number; baseFactor?: number; window?: number; modelHash?: Uint8Array; placeholder?: mrt.IPlaceholder; image?: [number, number]; final?: mrt.IFinalInfo } = {},
): Uint8Array {
  const K = o.coarseLayers ?? 0;
  return rawStream(
    { width, height, window: o.window ?? 32, placeholder: o.placeholder, ...(o.image ? { imageWidth: o.image[0], imageHeight: o.image[1] } : {}) },
    {
      modelHash: o.modelHash ?? new Uint8Array(4),
      layout: { tokens: o.tokens ?? 512, levels: o.levels ?? 9, baseFactor: o.baseFactor ?? 16, ...(K ? { order: 1, coarseLayers: K } : {}) },
      prior: 0,
      chunkCount: 0,
      ...(o.final ? { final: o.final } : {}),
    },
    undefined,
    o.image ? 11 : 10,
  );
}

/** The stream with its Header and/or Index messages patched (decoded, changed, re-encoded); the bytes after them as they were. */
export function patchHead(bytes: Uint8Array, patch: (header: mrt.Header, index: mrt.Index) => void): Uint8Array {
  const info = readHeader(bytes);
  const [, hStart] = readVarint(bytes, 5) as [number, number];
  const [, iStart] = readVarint(bytes, info.firstPaintEnd) as [number, number];
  const header = mrt.Header.decode(bytes.subarray(hStart, info.firstPaintEnd));
  const index = mrt.Index.decode(bytes.subarray(iStart, info.headerEnd));
  patch(header, index);
  return rawStream(header, index, bytes.subarray(info.headerEnd), bytes[4]);
}
