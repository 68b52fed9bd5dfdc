// Full-quality delivery on Kodak: what the encoder's default file (learned chunks, then an AVIF
// final) costs against the plain AVIF a site serves today at the same quality, and what its
// learned part buys: the learned prefix at its cut against the PSNR-best thumbnail of the same
// bytes (WebP, AVIF or JPEG at any side and quality: an oracle).
//
//   npx tsx bench/delivery.ts [--images N] [--quality Q] [--max-overhead PCT] [--out bench/results/delivery]
//
// Writes OUT.md and OUT.jsonl. Encode times are wall time on this machine with whatever else
// runs (printed with the load average); bench/encode-speed.ts measures speed properly.
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { decode, encode, loadModels } from '../src/encoder/index.ts';
import { describe, learnedEnd, readHeader } from '../src/format/index.ts';
import { KODAK_DIR, kodakImages, loadRgb, meanBy } from './lib/kodak.ts';
import { psnr } from './lib/metrics.ts';
import { bestWithin, thumbCandidates, THUMB_FORMATS } from './lib/thumbs.ts';

const { values } = parseArgs({ options: { images: { type: 'string' }, quality: { type: 'string', default: '50' }, 'max-overhead': { type: 'string', default: '10' }, out: { type: 'string', default: 'bench/results/delivery' } } });
const quality = Number(values.quality);
const maxOverhead = Number(values['max-overhead']) / 100;
const images = kodakImages().slice(0, values.images ? Number(values.images) : undefined);
const models = await loadModels();

interface Row {
  img: string;
  plainAvif: number;
  file: number;
  overheadPct: number;
  header: number;
  learned: number;
  /** PSNR of the learned paint at the end of the learned chunks, and of the best thumbnail of as many bytes */
  learnedPsnr: number;
  thumbPsnr: number | null;
  thumb: string | null;
  finalPsnr: number;
  encodeMs: number;
}

const rows: Row[] = [];
for (const name of images) {
  const path = join(KODAK_DIR, name);
  const src = await loadRgb(path);
  const t0 = performance.now();
  const mrt = await encode(path, { models, finalQuality: quality, maxOverhead });
  const encodeMs = performance.now() - t0;
  const plain = await sharp(src.data, { raw: { width: src.width, height: src.height, channels: 3 } }).avif({ quality, effort: 4 }).toBuffer();
  const info = readHeader(mrt);
  const d = describe(info);
  const cut = learnedEnd(info);
  const learned = await decode(mrt, { models, bytes: cut });
  const whole = await decode(mrt, { models });
  const cands = (await Promise.all(THUMB_FORMATS.map((f) => thumbCandidates(src, f, cut)))).flat();
  const best = bestWithin(cands, cut);
  const row: Row = {
    img: name.replace(/\.png$/, ''),
    plainAvif: plain.length,
    file: mrt.length,
    overheadPct: (100 * (mrt.length - plain.length)) / plain.length,
    header: d.split.header,
    learned: d.split.learned,
    learnedPsnr: psnr(src.data, learned.image.data),
    thumbPsnr: best ? best.psnr : null,
    thumb: best ? `${best.fmt} ${best.side} px q${best.q}, ${best.bytes} B` : null,
    finalPsnr: psnr(src.data, whole.image.data),
    encodeMs,
  };
  rows.push(row);
  process.stderr.write(`${row.img}: ${row.file} B vs AVIF ${row.plainAvif} B (+${row.overheadPct.toFixed(1)} %), learned ${row.learned} B at ${row.learnedPsnr.toFixed(2)} dB vs thumbnail ${row.thumbPsnr?.toFixed(2) ?? '-'} dB, ${(encodeMs / 1000).toFixed(1)} s\n`);
}

const f1 = (x: number) => x.toFixed(1);
const f2 = (x: number) => x.toFixed(2);
const beats = rows.filter((r) => r.thumbPsnr === null || r.learnedPsnr >= r.thumbPsnr).length;
const md = [
  `# Full-quality delivery on Kodak`,
  '',
  `Command: \`npx tsx bench/delivery.ts${values.images ? ` --images ${values.images}` : ''} --quality ${quality} --max-overhead ${values['max-overhead']}\` (${new Date().toISOString().slice(0, 10)}, model ${models.manifest.id}, load average ${loadavg().map((x) => x.toFixed(1)).join(' / ')} at the end).`,
  '',
  `Each file is \`mrt encode\`'s default: the learned chunks, cut where the file would pass the plain AVIF by ${values['max-overhead']} %, then an AVIF final at quality ${quality} (sharp, effort 4). "Plain AVIF" is sharp's AVIF of the same pixels at the same settings (the final layer is exactly it). "Learned" is the paint at the end of the learned chunks (Node decoder); "thumbnail" the PSNR-best WebP/AVIF/JPEG thumbnail within as many bytes as that prefix, upscaled (an oracle).`,
  '',
  `| mean | file | plain AVIF | overhead | header | learned | learned paint | best thumbnail, same bytes | final |`,
  `|---|---|---|---|---|---|---|---|---|`,
  `| ${rows.length} images | ${Math.round(meanBy(rows, (r) => r.file))} B | ${Math.round(meanBy(rows, (r) => r.plainAvif))} B | +${f1(meanBy(rows, (r) => r.overheadPct))} % (max +${f1(Math.max(...rows.map((r) => r.overheadPct)))} %) | ${Math.round(meanBy(rows, (r) => r.header))} B | ${Math.round(meanBy(rows, (r) => r.learned))} B | ${f2(meanBy(rows, (r) => r.learnedPsnr))} dB | ${f2(meanBy(rows.filter((r) => r.thumbPsnr !== null), (r) => r.thumbPsnr!))} dB | ${f2(meanBy(rows, (r) => r.finalPsnr))} dB |`,
  '',
  `The learned paint at the cut is at least as good as the best thumbnail of the same bytes on ${beats} of ${rows.length} images: the cap, not the thumbnail, ends the learned chunks there.`,
  '',
  `| image | file | plain AVIF | overhead | learned bytes | learned paint | best thumbnail (same bytes) | final | encode |`,
  `|---|---|---|---|---|---|---|---|---|`,
  ...rows.map((r) => `| ${r.img} | ${r.file} | ${r.plainAvif} | +${f1(r.overheadPct)} % | ${r.learned} | ${f2(r.learnedPsnr)} dB | ${r.thumbPsnr === null ? '-' : `${f2(r.thumbPsnr)} dB (${r.thumb})`} | ${f2(r.finalPsnr)} dB | ${(r.encodeMs / 1000).toFixed(1)} s |`),
  '',
].join('\n');
mkdirSync(dirname(values.out!), { recursive: true });
writeFileSync(`${values.out}.md`, md);
writeFileSync(`${values.out}.jsonl`, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
console.log(md);
