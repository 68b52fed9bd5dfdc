// A corpus of hostile streams for the Node decoder (test/encoder/hostile.test.ts, bench/fuzz.ts):
// tiny headers claiming huge sizes, a token-count bomb, placeholder and final bombs, lying
// chunk tables, a layout that is not the model's. Each names the outcome decode() must give.
import sharp from 'sharp';
import { LIMITS, readHeader } from '../../src/format/index.ts';
import { encodeChunkSizes } from '../../src/format/table.ts';
import { modelHashPrefix, type Manifest } from '../../src/encoder/models.ts';
import { claimStream, patchHead } from '../format/hostile.ts';
import { pngBomb, rewrite } from './bombs.ts';

export interface HostileCase {
  name: string;
  bytes: Uint8Array;
  /** decode() rejects with a DecodeError whose message matches */
  refused?: RegExp;
  /** decode() paints an image of the header's size and reports this stream error */
  painted?: RegExp;
}

/** `real`: a genuine stream of the model (a small image), the base of the bombs. */
export async function hostileCorpus(manifest: Manifest, real: Uint8Array): Promise<HostileCase[]> {
  const hash = modelHashPrefix(manifest);
  const { tokens } = manifest.layout;
  const h = readHeader(real).header;
  const bomb = pngBomb(16000, 16000);
  // the model's base size, and half of it: a legal placeholder size that is not the base
  const [bw, bh] = [Math.ceil(h.width / 32) * 2, Math.ceil(h.height / 32) * 2];
  const [sw, sh] = [Math.ceil(bw / 2), Math.ceil(bh / 2)];
  const small = new Uint8Array(await sharp({ create: { width: sw, height: sh, channels: 3, background: '#808080' } }).png().toBuffer());
  // a placeholder of the right size whose pixel data ends early: its header reads, its pixels do not
  const noise = Buffer.from(Array.from({ length: bw * bh * 3 }, (_, i) => (i * 7919) % 256));
  const cut = new Uint8Array(await sharp(noise, { raw: { width: bw, height: bh, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer()).subarray(0, 200);
  const over = `exceeds the size limit`;
  return [
    { name: 'a 40-byte header claiming 5792x5792', bytes: claimStream(5792, 5792, { modelHash: hash, tokens, coarseLayers: 192 }), refused: new RegExp(`5792x5792 .* ${over}`) },
    { name: 'a header claiming 16384x16384', bytes: claimStream(16384, 16384, { modelHash: hash, tokens }), refused: new RegExp(`16384x16384 .* ${over}`) },
    { name: 'a header claiming 16385x1', bytes: claimStream(16385, 1, { modelHash: hash, tokens }), refused: new RegExp(`16385x1 .* ${over}`) },
    { name: 'a token-count bomb: 1024x1024 with 4096 tokens per window', bytes: claimStream(1024, 1024, { modelHash: hash, tokens: 4096 }), refused: /more than MAX_TOKENS/ },
    { name: 'a header claiming a 16384x12288 image over a 1024x768 learned layer', bytes: claimStream(1024, 768, { modelHash: hash, tokens, image: [16384, 12288], final: { mime: 'image/avif', byteLength: 1000 } }), refused: new RegExp(`16384x12288 .* ${over}`) },
    { name: "a layout that is not the model's, under its hash", bytes: claimStream(h.width, h.height, { modelHash: hash, tokens: 8, baseFactor: 8 }), refused: /layout does not match the model's manifest/ },
    { name: 'a header whose placeholder is larger than the image', bytes: claimStream(768, 512, { modelHash: hash, tokens, placeholder: { width: 16000, height: 16000, data: bomb } }), refused: /placeholder 16000x16000 is larger than the padded image/ },
    { name: 'a final layer of 16000x16000 in 31 KB', bytes: rewrite(real, { final: { mime: 'image/png', bytes: bomb } }), refused: new RegExp(`final layer is 16000x16000, the header says ${h.width}x${h.height}`) },
    {
      name: 'a final layer that is an SVG of the header size (any cost to render)',
      bytes: rewrite(real, { final: { mime: 'image/svg+xml', bytes: new TextEncoder().encode(`<svg xmlns="http://www.w3.org/2000/svg" width="${h.width}" height="${h.height}"><filter id="f"><feGaussianBlur stdDeviation="999"/></filter><rect width="100%" height="100%" filter="url(#f)"/></svg>`) } }),
      refused: /final layer is svg, not an image format a stream may embed/,
    },
    { name: 'a placeholder of 16000x16000 in 31 KB', bytes: rewrite(real, { placeholder: { mime: 'image/png', width: bw, height: bh, bytes: bomb } }), refused: /placeholder is 16000x16000/ },
    { name: "a placeholder of a legal size that is not the model's base", bytes: rewrite(real, { placeholder: { mime: 'image/png', width: sw, height: sh, bytes: small } }), refused: /the model's base/ },
    { name: 'a placeholder that is not an image', bytes: rewrite(real, { placeholder: { mime: 'image/png', width: bw, height: bh, bytes: small.subarray(0, 40) } }), refused: /cannot read the placeholder/ },
    { name: 'a placeholder whose pixel data ends early', bytes: rewrite(real, { placeholder: { mime: 'image/png', width: bw, height: bh, bytes: cut } }), refused: /cannot decode the placeholder: .*read error/ },
    {
      name: 'a chunk table announcing more than MAX_TOTAL_BYTES',
      bytes: patchHead(real, (_hd, x) => {
        // 20 one-layer chunks of MAX_CHUNK_BYTES each: 320 MiB announced in a few bytes
        x.chunkRule = 0;
        x.chunkCount = 20;
        x.chunkLayers = Array(20).fill(1);
        x.chunkSizes = encodeChunkSizes(Array(20).fill(LIMITS.MAX_CHUNK_BYTES));
      }),
      painted: /MAX_TOTAL_BYTES/,
    },
    {
      name: 'a chunk table whose first chunk is 1 MiB (the stream ends inside it)',
      bytes: patchHead(real, (_hd, x) => {
        x.chunkSizes = encodeChunkSizes([1 << 20, ...Array(x.chunkCount - 1).fill(100)]);
      }),
      painted: /ends inside the chunk 0/,
    },
    {
      name: 'a chunk table that shifts every chunk by one byte',
      bytes: patchHead(real, (_hd, x) => {
        const sizes = h.chunks.map((c) => c.byteLength);
        sizes[0]! += 1;
        sizes[sizes.length - 1]! -= 1;
        x.chunkSizes = encodeChunkSizes(sizes);
      }),
      painted: /checksum/,
    },
  ];
}
