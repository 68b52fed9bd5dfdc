// Writes the fixture of a file stored with an earlier default model: a 128×96 crop of kodim23
// encoded by the default model of the time (no final), and its whole-file paint. Run once,
// while that model is the default (it was mrt-v0.13, models/a5fcce48/ since):
//   npx tsx test/golden/previous-model.ts
// test/encoder/model-versions.test.ts decodes it with the shipped models.
import { readFile, writeFile } from 'node:fs/promises';
import sharp from 'sharp';
import { decode, encode, loadModels } from '../../src/encoder/index.ts';

const here = new URL('./', import.meta.url).pathname;
const models = await loadModels();
const png = await sharp(await readFile(new URL('../../../shared/data/kodak/kodim23.png', import.meta.url).pathname))
  .extract({ left: 200, top: 100, width: 128, height: 96 })
  .png()
  .toBuffer();
const mrt = await encode(new Uint8Array(png), { models, final: 'none' });
const { image } = await decode(mrt, { models });
const name = `${models.manifest.id}-kodim23-128x96`;
await writeFile(`${here}${name}.mrt`, mrt);
await writeFile(`${here}${name}.png`, await sharp(Buffer.from(image.data), { raw: { width: image.width, height: image.height, channels: 3 } }).png().toBuffer());
console.log(`${name}.mrt: ${mrt.length} bytes, model ${models.manifest.modelHash.slice(0, 8)}`);
