// Encoder throughput on Kodak (768x512 and 512x768): images per second with 1 and 2 jobs,
// beside a baseline in the same run (sharp: PNG decode + WebP q80 encode of the same image,
// 1 job), so that the ratio survives a noisy shared machine.
//
//   npx tsx bench/encode-speed.ts [--images N] [--rounds R]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { pool } from '../src/encoder/batch.ts';
import { encode, loadModels } from '../src/encoder/index.ts';
import { KODAK_DIR, kodakImages } from './lib/kodak.ts';

const { values } = parseArgs({ options: { images: { type: 'string', default: '12' }, rounds: { type: 'string', default: '2' } } });
const names = kodakImages().slice(0, Number(values.images));
const sources = names.map((n) => new Uint8Array(readFileSync(join(KODAK_DIR, n))));
const models = await loadModels();
sharp.concurrency(1);

async function timed(label: string, jobs: number, work: (src: Uint8Array) => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await pool(sources, jobs, async (src) => {
    await work(src);
  });
  const s = (performance.now() - t0) / 1000;
  const ips = sources.length / s;
  console.log(`${label.padEnd(34)} ${sources.length} images in ${s.toFixed(2)} s = ${ips.toFixed(2)} images/s`);
  return ips;
}

await encode(sources[0], { models }); // warm-up: first ONNX runs allocate
const results: Record<string, number[]> = { base: [], j1: [], j2: [] };
for (let r = 0; r < Number(values.rounds); r++) {
  results.base.push(await timed('baseline sharp PNG→WebP q80, 1 job', 1, (src) => sharp(src).webp({ quality: 80 }).toBuffer()));
  results.j1.push(await timed('mrt encode, --jobs 1', 1, (src) => encode(src, { models })));
  results.j2.push(await timed('mrt encode, --jobs 2', 2, (src) => encode(src, { models })));
}
const best = (xs: number[]) => Math.max(...xs);
console.log(`\nbest of ${values.rounds} rounds: mrt ${best(results.j1).toFixed(2)} images/s (1 job), ${best(results.j2).toFixed(2)} images/s (2 jobs); ` +
  `baseline ${best(results.base).toFixed(2)} images/s; ratio mrt(1 job)/baseline = ${(best(results.j1) / best(results.base)).toFixed(2)}`);
console.log(`target (issue 3): >= 2 images/s for 768x512 on this machine -> ${Math.max(best(results.j1), best(results.j2)) >= 2 ? 'met' : 'NOT met'}`);
console.log(`model ${models.manifest.id}; machine load while running: ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}`);
