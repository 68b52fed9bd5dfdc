// Encoder speed and quality per effort level (src/encoder/effort.ts), on Kodak (768x512 and
// 512x768): megapixels per second with one job (in-process, as `mrt encode`) and with two
// (worker threads, as `mrt encode -j 2`), a full-quality AVIF final (default quality) included;
// beside a baseline in the same run (sharp: PNG decode + WebP q80 encode of the same images,
// one job) so that the ratio survives a noisy shared machine. Then the RD cost of each level
// against effort 9 (the full closed loop): mean RGB PSNR of what the Node decoder paints from
// the first B bytes of the learned stream (no final; the tokens of a partly received chunk
// included, no regeneration, as bench/rd.ts's mrt-blank) and of the whole file. Last, encode()
// timed on two large photos made from a Kodak image in a temp folder.
//
//   npx tsx bench/encode-speed.ts [--images N] [--efforts 1,5,9] [--rd-step K] [--no-large] [--out bench/results/encode-speed.md]
//
// --images: the first N Kodak images for the speed runs (default 12); --rd-step: every K-th
// Kodak image for the RD runs (default 3: 8 images); --efforts: the levels measured (default
// all; 9 is always added, the RD reference).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { pool } from '../src/encoder/batch.ts';
import { contentHash, decode, encode, loadModels, normaliseOptions, type EncodeOptions } from '../src/encoder/index.ts';
import { DEFAULT_EFFORT, EFFORT_LEVELS, MAX_EFFORT, MIN_EFFORT } from '../src/encoder/effort.ts';
import { EncodeWorkers } from '../src/encoder/workers.ts';
import { BUDGETS, KODAK_DIR, kodakImages, loadRgb } from './lib/kodak.ts';
import { psnr } from './lib/metrics.ts';

const { values } = parseArgs({
  options: {
    images: { type: 'string', default: '12' },
    efforts: { type: 'string' },
    'rd-step': { type: 'string', default: '3' },
    'no-large': { type: 'boolean' },
    out: { type: 'string', default: 'bench/results/encode-speed.md' },
  },
});
const allEfforts = Array.from({ length: MAX_EFFORT - MIN_EFFORT + 1 }, (_, i) => MIN_EFFORT + i);
const efforts = [...new Set([...(values.efforts ? values.efforts.split(',').map(Number) : allEfforts), MAX_EFFORT])].sort((a, b) => a - b);
for (const e of efforts) if (!allEfforts.includes(e)) throw new Error(`--efforts: ${e} is not a level (${MIN_EFFORT}..${MAX_EFFORT})`);
const speedNames = kodakImages().slice(0, Number(values.images));
const rdNames = kodakImages().filter((_, i) => i % Number(values['rd-step']) === 0);
const sources = speedNames.map((n) => new Uint8Array(readFileSync(join(KODAK_DIR, n))));
const models = await loadModels();
sharp.concurrency(1);
const MP = async (src: Uint8Array) => {
  const m = await sharp(src).metadata();
  return (m.width! * m.height!) / 1e6;
};
const megapixels = (await Promise.all(sources.map(MP))).reduce((a, b) => a + b, 0);
const options = (effort: number): EncodeOptions => ({ models, effort, final: 'avif' });
const loads: string[] = [];
const noteLoad = () => loads.push(loadavg().map((x) => x.toFixed(2)).join(' '));
const out: string[] = [];
const log = (line = '') => {
  console.log(line);
  out.push(line);
};

/** CPU seconds of this process (every thread: sharp's, onnxruntime's, the workers'). */
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
let lastCpu = 0;
/** Wall seconds of `work`; lastCpu: its CPU seconds. */
async function wall(work: () => Promise<unknown>): Promise<number> {
  const [t0, c0] = [performance.now(), cpu()];
  await work();
  lastCpu = cpu() - c0;
  return (performance.now() - t0) / 1000;
}

// speed: the baseline before each level's runs (its ratio is the number to compare across runs)
const workers = new EncodeWorkers(2, undefined);
const inWorkers = (effort: number) => {
  const opts = normaliseOptions(models, options(effort));
  return pool(sources, 2, async (src) => {
    await workers.encode(src, opts, contentHash(src, opts, models));
  });
};
await encode(sources[0]!, options(DEFAULT_EFFORT)); // warm-up: first ONNX runs allocate, the Gram matrices are cached
await inWorkers(DEFAULT_EFFORT); // the workers load their models
noteLoad();
const speed: { effort: number; base: number; j1: number; j2: number; cpu1: number; cpu2: number; bytes: number }[] = [];
for (const effort of efforts) {
  const base = megapixels / (await wall(() => pool(sources, 1, async (src) => {
    await sharp(src).webp({ quality: 80 }).toBuffer();
  })));
  let bytes = 0;
  const j1 = megapixels / (await wall(() => pool(sources, 1, async (src) => {
    bytes += (await encode(src, options(effort))).length;
  })));
  const cpu1 = lastCpu;
  const j2 = megapixels / (await wall(() => inWorkers(effort)));
  speed.push({ effort, base, j1, j2, cpu1: cpu1 / sources.length, cpu2: lastCpu / sources.length, bytes: bytes / sources.length });
  console.error(`effort ${effort}: ${j1.toFixed(2)} MP/s (1 job), ${j2.toFixed(2)} MP/s (2 jobs), baseline ${base.toFixed(2)} MP/s`);
}
noteLoad();
await workers.close();

// RD against effort 9, learned stream only
const rd = new Map<number, number[]>();
const sizes = new Map<number, number>();
const refs = await Promise.all(rdNames.map((n) => loadRgb(join(KODAK_DIR, n))));
for (const effort of efforts) {
  const sums = new Array(BUDGETS.length + 1).fill(0);
  let size = 0;
  for (const [i, name] of rdNames.entries()) {
    const mrt = await encode(join(KODAK_DIR, name), { models, effort, final: 'none' });
    size += mrt.length / rdNames.length;
    for (const [k, bytes] of [...BUDGETS, undefined].entries()) {
      const r = await decode(mrt, { models, bytes, regenerate: false });
      sums[k] += psnr(refs[i]!.data, r.image.data) / rdNames.length;
    }
  }
  rd.set(effort, sums);
  sizes.set(effort, size);
  console.error(`effort ${effort}: RD ${sums.map((x) => x.toFixed(3)).join(' ')}`);
}
noteLoad();

log(`# Encoder speed per effort (${new Date().toISOString()})`);
log();
log(`\`npx tsx bench/encode-speed.ts${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(' ')}` : ''}\`; model ${models.manifest.id}; machine load averages (1/5/15 min) at the start, after the speed runs and after the RD runs: ${loads.join('; ')}.`);
log();
log(`## Speed: ${speedNames.length} Kodak images (${megapixels.toFixed(2)} MP), AVIF final at its default quality`);
log();
log('One job: `encode()` in this process, one image after another (as `mrt encode`); two jobs: two worker threads (as `mrt encode -j 2`). Baseline: sharp PNG → WebP q80, one job, measured just before each level. CPU s/image: the process\'s CPU time (all threads) per image; "2 free cores" is 2 × MP / CPU time with two jobs, what two otherwise idle cores would reach if the jobs scale (the wall-time columns suffer from the other load on the machine).');
log();
log('| effort | MP/s, 1 job | MP/s, 2 jobs | Kodak images/s, 2 jobs | baseline MP/s | 2 jobs / baseline | CPU s/image, 1 job | CPU s/image, 2 jobs | MP/s on 2 free cores | mean file (B) |');
log('|---|---|---|---|---|---|---|---|---|---|');
const perImage = megapixels / sources.length;
for (const s of speed) {
  log(`| ${s.effort}${s.effort === DEFAULT_EFFORT ? ' (default)' : ''} | ${s.j1.toFixed(2)} | ${s.j2.toFixed(2)} | ${((s.j2 * sources.length) / megapixels).toFixed(2)} | ${s.base.toFixed(2)} | ${(s.j2 / s.base).toFixed(3)} | ${s.cpu1.toFixed(2)} | ${s.cpu2.toFixed(2)} | ${((2 * perImage) / s.cpu2).toFixed(2)} | ${s.bytes.toFixed(0)} |`);
}
log();
log(`## RD cost against effort ${MAX_EFFORT}: ${rdNames.length} Kodak images (one image in ${values['rd-step']}), learned stream only (no final)`);
log();
log(`Mean RGB PSNR (dB) of what the Node decoder paints from the first B bytes (no regeneration), and of the whole file; effort ${MAX_EFFORT}'s row is absolute, the others are differences to it.`);
log();
log(`| effort | ${BUDGETS.map((b) => (b >= 1024 ? `${b / 1024} KB` : `${b} B`)).join(' | ')} | whole file | worst | mean file (B) |`);
log(`|---|${BUDGETS.map(() => '---').join('|')}|---|---|---|`);
const ref = rd.get(MAX_EFFORT)!;
for (const effort of efforts) {
  const r = rd.get(effort)!;
  const cells = effort === MAX_EFFORT ? r.map((x) => x.toFixed(3)) : r.map((x, k) => `${x - ref[k]! >= 0 ? '+' : '−'}${Math.abs(x - ref[k]!).toFixed(3)}`);
  const worst = Math.min(...r.map((x, k) => x - ref[k]!));
  log(`| ${effort}${effort === DEFAULT_EFFORT ? ' (default)' : ''} | ${cells.join(' | ')} | ${effort === MAX_EFFORT ? '–' : `${worst >= 0 ? '+' : '−'}${Math.abs(worst).toFixed(3)}`} | ${sizes.get(effort)!.toFixed(0)} |`);
}
log();
log('Levels (src/encoder/effort.ts):');
log();
log('| effort | closed loop before the split: layers per decoder run | tail passes | placeholder AVIF effort, search | final AVIF effort |');
log('|---|---|---|---|---|');
for (const e of allEfforts) {
  const l = EFFORT_LEVELS[e]!;
  log(`| ${e} | ${l.earlyGroup || 'off'} | ${l.tailPasses || 'off'} | ${l.placeholderEffort}, ${l.placeholderSearch} | ${l.finalEffort} |`);
}
const d = speed.find((s) => s.effort === DEFAULT_EFFORT);
const dr = rd.get(DEFAULT_EFFORT);
if (d && dr) {
  const worst = Math.min(...dr.map((x, k) => x - ref[k]!));
  log();
  log(`Targets (issue 28) for the default effort ${DEFAULT_EFFORT}: >= 0.8 MP/s with 2 jobs, final included: ${d.j2.toFixed(2)} MP/s measured (${d.j2 >= 0.8 ? 'met' : 'NOT met'}), ${((2 * perImage) / d.cpu2).toFixed(2)} MP/s on 2 free cores by CPU time (${(2 * perImage) / d.cpu2 >= 0.8 ? 'met' : 'NOT met'}); loses <= 0.05 dB against effort ${MAX_EFFORT} at every budget: worst ${worst.toFixed(3)} dB, ${worst >= -0.05 ? 'met' : 'NOT met'}.`);
}

// large photos: encode() on what a camera gives, made from kodim23 in a temp folder
if (!values['no-large']) {
  log();
  log(`## Large photos, effort ${DEFAULT_EFFORT}, AVIF final, one job`);
  log();
  log('`encode()` on a PNG made from kodim23: upscaled to 4000x3000 (Lanczos), and tiled to 4240x2832 (12.0 MP).');
  log();
  log('| input | encode (s) | MP/s | file (B) | peak RSS (MB) |');
  log('|---|---|---|---|---|');
  const dir = mkdtempSync(join(tmpdir(), 'mrt-large-'));
  try {
    const kodim = join(KODAK_DIR, 'kodim23.png');
    const up = join(dir, 'upscaled-4000x3000.png');
    await sharp(kodim).resize(4000, 3000, { fit: 'fill', kernel: 'lanczos3' }).png({ compressionLevel: 1 }).toFile(up);
    const tiled = join(dir, 'tiled-4240x2832.png');
    const tile = await sharp(kodim).png().toBuffer();
    const composite = [];
    for (let y = 0; y < 2832; y += 512) for (let x = 0; x < 4240; x += 768) composite.push({ input: tile, left: x, top: y });
    await sharp({ create: { width: 4240, height: 2832, channels: 3, background: '#000' } }).composite(composite).png({ compressionLevel: 1 }).toFile(tiled);
    for (const [label, path, mp] of [['4000x3000, upscaled', up, 12.0], ['4240x2832, tiled', tiled, (4240 * 2832) / 1e6]] as const) {
      try {
        const t0 = performance.now();
        const mrt = await encode(path, options(DEFAULT_EFFORT));
        const s = (performance.now() - t0) / 1000;
        log(`| ${label} | ${s.toFixed(1)} | ${(mp / s).toFixed(2)} | ${mrt.length} | ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} |`);
      } catch (e) {
        log(`| ${label} | failed: ${(e as Error).message} | | | |`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  noteLoad();
  log();
  log(`Load averages after the large photos: ${loads.at(-1)}.`);
}
writeFileSync(values.out!, `${out.join('\n')}\n`);
console.error(`wrote ${values.out}`);
