// Hostile images inside valid streams: a PNG that claims a huge size in a few KB, and a
// rewrite of a real stream with another placeholder or final layer (checksums recomputed).
import { deflateSync } from 'node:zlib';
import { crc32, parseMrt, readHeader, writeMrt, type MrtChunkInput, type MrtFinalInput, type MrtPlaceholder } from '../../src/format/index.ts';

function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  v.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** A 1-bit greyscale PNG of `width` x `height` zeros: ~31 KB for 16000 x 16000 (32 MB of rows). */
export function pngBomb(width: number, height: number): Uint8Array {
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr.set([1, 0, 0, 0, 0], 8); // bit depth 1, greyscale, deflate, filter 0, no interlace
  const rows = new Uint8Array(height * (1 + Math.ceil(width / 8)));
  const parts = [Uint8Array.from([137, 80, 78, 71, 13, 10, 26, 10]), pngChunk('IHDR', ihdr), pngChunk('IDAT', deflateSync(rows, { level: 9 })), pngChunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * `mrt` with its placeholder and/or final layer replaced, and (`image`, 2.11) the image size its
 * learned layer stands for; everything else (tokens, model hash) as it was.
 */
export function rewrite(mrt: Uint8Array, o: { placeholder?: MrtPlaceholder; final?: MrtFinalInput; image?: [number, number] }): Uint8Array {
  const h = readHeader(mrt).header;
  const chunks: MrtChunkInput[] = [];
  for (const e of parseMrt(mrt)) if (e.type === 'chunk') chunks.push({ tokenStart: e.tokenStart, tokenEnd: e.tokenEnd, payload: e.payload });
  const image = o.image ? { imageWidth: o.image[0], imageHeight: o.image[1] } : {};
  return writeMrt({ ...h, ...image, compact: true, omitDefaults: true, placeholder: o.placeholder ?? h.placeholder }, chunks, o.final);
}
