// What sharp's AVIF effort does at one quality setting: bytes and whole-image RGB PSNR per
// effort, per Kodak image (the final layer's effort, src/encoder/effort.ts).
//
//   npx tsx bench/avif-effort.ts [--quality 50] [--images kodim23,kodim01,...] [--efforts 2,3,4]
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { KODAK_DIR, loadRgb } from './lib/kodak.ts';
import { psnr } from './lib/metrics.ts';

const { values } = parseArgs({ options: { quality: { type: 'string', default: '50' }, images: { type: 'string', default: 'kodim23,kodim01,kodim05,kodim13,kodim19' }, efforts: { type: 'string', default: '2,3,4' } } });
const quality = Number(values.quality);
const efforts = values.efforts!.split(',').map(Number);
console.log(`| image | ${efforts.map((e) => `effort ${e}`).join(' | ')} |\n|---|${efforts.map(() => '---|').join('')}`);
for (const name of values.images!.split(',')) {
  const src = await loadRgb(join(KODAK_DIR, `${name}.png`));
  const cells: string[] = [];
  for (const effort of efforts) {
    const t0 = performance.now();
    const enc = await sharp(src.data, { raw: { width: src.width, height: src.height, channels: 3 } }).avif({ quality, effort }).toBuffer();
    const ms = performance.now() - t0;
    const dec = await sharp(enc).removeAlpha().raw().toBuffer();
    cells.push(`${enc.length} B, ${psnr(src.data, dec).toFixed(2)} dB, ${Math.round(ms)} ms`);
  }
  console.log(`| ${name} | ${cells.join(' | ')} |`);
}
