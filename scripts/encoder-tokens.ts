// The tokens the real encoder writes (placeholder, network, closed-loop tail: everything
// `mrt encode` does), for images listed by training/train_rcm.py --encoder-tokens: the RCM
// is then trained on exactly the token statistics it will code.
//
//   npx tsx scripts/encoder-tokens.ts --list LIST.json --out TOKENS.bin [--models DIR] [--bases BASES.bin]
//
// LIST.json: [{ "path": "...jpg", "width": W, "height": H }, ...] (the size to resize to).
// TOKENS.bin: per image, little-endian uint32 T, gh, gw, then T·gh·gw uint8 tokens in
// stream order (layer-major: token t of window (y, x) at t·gh·gw + y·gw + x).
// BASES.bin (optional): per image, uint32 width, height, then the decoded placeholder as RGB
// bytes: the base the decoder gets with those tokens (training/train.py --real-tokens).
import { openSync, readFileSync, writeSync, closeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { encode, loadModels } from '../src/encoder/index.ts';
import { modelHashBytes } from '../src/encoder/models.ts';
import { decodeMrt } from '../src/codec/index.ts';
import { decodePlaceholder } from '../src/encoder/placeholder.ts';

async function main() {
  const { values } = parseArgs({ options: { list: { type: 'string' }, out: { type: 'string' }, models: { type: 'string' }, bases: { type: 'string' } } });
  if (!values.list || !values.out) throw new Error('usage: encoder-tokens.ts --list LIST.json --out TOKENS.bin [--models DIR]');
  const list = JSON.parse(readFileSync(values.list, 'utf8')) as { path: string; width: number; height: number }[];
  const models = await loadModels(values.models);
  const fd = openSync(values.out, 'w');
  const fdBases = values.bases ? openSync(values.bases, 'w') : null;
  const t0 = Date.now();
  try {
    for (const [i, item] of list.entries()) {
      const png = await sharp(item.path).removeAlpha().resize(item.width, item.height, { kernel: 'lanczos3', fit: 'fill' }).png({ compressionLevel: 1 }).toBuffer();
      const mrt = await encode(new Uint8Array(png.buffer, png.byteOffset, png.byteLength), { models, final: 'none' });
      const d = decodeMrt(mrt, { rcm: models.rcm, modelHash: modelHashBytes(models.manifest) });
      if (!d.complete || !d.header) throw new Error(`${item.path}: the encoded stream did not decode completely (${d.error?.message ?? 'incomplete'})`);
      const { gridW, gridH, tokensPerWindow } = d.header.layout;
      const head = new Uint8Array(new Uint32Array([tokensPerWindow, gridH, gridW]).buffer);
      writeSync(fd, head);
      writeSync(fd, d.tokens.subarray(0, tokensPerWindow * gridH * gridW));
      if (fdBases !== null) {
        const ph = d.header.placeholder;
        if (!ph) throw new Error(`${item.path}: the stream has no placeholder`);
        writeSync(fdBases, new Uint8Array(new Uint32Array([ph.width, ph.height]).buffer));
        writeSync(fdBases, await decodePlaceholder(ph.bytes, ph.width, ph.height));
      }
      if ((i + 1) % 20 === 0 || i + 1 === list.length) {
        process.stderr.write(`encoder-tokens: ${i + 1}/${list.length} images, ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
      }
    }
  } finally {
    closeSync(fd);
    if (fdBases !== null) closeSync(fdBases);
  }
}

main().catch((e) => {
  process.stderr.write(`encoder-tokens: ${(e as Error).message}\n`);
  process.exit(1);
});
