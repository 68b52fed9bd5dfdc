// The worst legal stream for the shipped model, to measure what `mrt decode` costs at the
// size limit: npx tsx bench/worst-stream.ts OUT.mrt [SIDE (default: the learned-layer limit, 1024)], then
//   /usr/bin/time -v npx mrt decode OUT.mrt -o out.png [--regenerate]
// A few dozen bytes of header claiming the largest padded learned layer (LIMITS.MAX_PIXELS, 1024x1024)
// with the most tokens it may have (T + K = 2T layers), a placeholder of the base size and no chunks:
// the decoder runs on the whole claimed image, as it would for a genuine one.
import { readFile, writeFile } from 'node:fs/promises';
import sharp from 'sharp';
import { LIMITS, readHeader } from '../src/format/index.ts';
import { claimStream } from '../test/format/hostile.ts';

const out = process.argv[2];
if (!out) throw new Error('usage: npx tsx bench/worst-stream.ts OUT.mrt');
const manifest = JSON.parse(await readFile(new URL('../models/manifest.json', import.meta.url), 'utf8')) as { modelHash: string; layout: { tokens: number; baseFactor: number } };
const side = Number(process.argv[3] ?? Math.sqrt(LIMITS.MAX_PIXELS));
if (!Number.isInteger(side / 256) || side * side > LIMITS.MAX_PIXELS) throw new Error(`SIDE must be a multiple of 256 up to ${Math.sqrt(LIMITS.MAX_PIXELS)}`);
const base = side / manifest.layout.baseFactor;
const png = await sharp({ create: { width: base, height: base, channels: 3, background: '#808080' } }).png().toBuffer();
const bytes = claimStream(side, side, {
  tokens: manifest.layout.tokens,
  coarseLayers: manifest.layout.tokens,
  modelHash: Uint8Array.from(Buffer.from(manifest.modelHash, 'hex')).subarray(0, 4),
  placeholder: { mime: 'image/png', width: base, height: base, data: new Uint8Array(png) },
});
const info = readHeader(bytes);
await writeFile(out, bytes);
console.log(`${out}: ${bytes.length} B claiming ${side}x${side}, ${info.header.totalTokens} stream symbols (MAX_TOKENS ${LIMITS.MAX_TOKENS}), no chunks`);
