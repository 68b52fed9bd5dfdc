// Window-grid deblocking (src/model/deblock.ts) on Kodak: what the Node decoder paints from the
// first B bytes of one .mrt per image (default options, regeneration off, as bench/rd.ts's
// mrt-blank), without deblocking and with each filter setting, the same streams and decoder runs
// otherwise. PSNR and the window seam ratio per image over the original's (bench/lib/seams.ts;
// the target is ≤ 1.1); with --perceptual also SSIMULACRA 2.1, Butteraugli (3-norm) and LPIPS
// (scores cached in .cache/perceptual, as bench/rd.ts --perceptual).
//
//   npx tsx bench/deblock.ts [--images kodim01,kodim05 | N] [--budgets 512,1024,...]
//     [--settings default | 'maxStep,maxActivity,radius,texture;...'] [--perceptual] [--out bench/out/deblock]
//
// Writes OUT.md (the table) and OUT.jsonl (rows).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { decode, loadModels } from '../src/encoder/index.ts';
import { DEBLOCK_DEFAULT, type DeblockParams } from '../src/model/deblock.ts';
import { kodakMrt } from './lib/kodak-mrt.ts';
import { KODAK_DIR, kodakImages, loadRgb, meanBy } from './lib/kodak.ts';
import { psnr } from './lib/metrics.ts';
import { LOWER_IS_BETTER, METRIC_LABEL, PERCEPTUAL_METRICS, PerceptualMetrics, type PerceptualScores } from './lib/perceptual.ts';
import { seamStats } from './lib/seams.ts';

const { values } = parseArgs({ options: {
  images: { type: 'string' }, budgets: { type: 'string', default: '512,1024,2048,4096,8192' },
  settings: { type: 'string', default: 'default' }, perceptual: { type: 'boolean' }, out: { type: 'string', default: 'bench/out/deblock' },
} });
const all = kodakImages();
const images = !values.images ? all : /^\d+$/.test(values.images) ? all.slice(0, Number(values.images)) : values.images.split(',').map((s) => `${s.replace(/\.png$/, '')}.png`);
const budgets = values.budgets!.split(',').map(Number);
const label = (p: DeblockParams) => `${p.maxStep},${p.maxActivity},${p.radius},${p.texture}`;
const settings: DeblockParams[] = values.settings!.split(';').map((s) => {
  if (s === 'default') return DEBLOCK_DEFAULT;
  const [maxStep, maxActivity, radius, texture] = s.split(',').map(Number);
  return { maxStep, maxActivity, radius, texture };
});
const methods = ['off', ...settings.map((p) => (p === DEBLOCK_DEFAULT ? `default (${label(p)})` : label(p)))];

interface Row extends Partial<PerceptualScores> { img: string; budget: number; method: string; psnr: number; seam: number }
const rows: Row[] = [];
const models = await loadModels();
const perceptual = values.perceptual ? new PerceptualMetrics() : null;
const t0 = Date.now();
for (const name of images) {
  const src = await loadRgb(join(KODAK_DIR, name));
  const origSeam = seamStats(src.data, src.width, src.height).ratio;
  const mrt = await kodakMrt(models, name);
  const ref = perceptual?.forReference(src);
  for (const budget of budgets) {
    for (const [i, method] of methods.entries()) {
      const r = await decode(mrt, { models, bytes: budget, regenerate: false, deblock: i === 0 ? false : settings[i - 1] });
      const px = r.image.data;
      const scores = ref ? await ref.score({ width: src.width, height: src.height, data: px }) : {};
      rows.push({ img: name, budget, method, psnr: psnr(src.data, px), seam: seamStats(px, src.width, src.height).ratio / origSeam, ...scores });
    }
  }
  await ref?.close();
  process.stderr.write(`deblock: ${name} (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
}
await perceptual?.close();

const fmtB = (b: number) => (b >= 1024 ? `${b / 1024} KB` : `${b} B`);
const mean = (m: string, b: number, f: (r: Row) => number | undefined) => meanBy(rows.filter((r) => r.method === m && r.budget === b), (r) => f(r)!);
const lines = [
  `# Window-grid deblocking on Kodak (${images.length} images, model ${models.manifest.id})`, '',
  `Command: \`npx tsx bench/deblock.ts ${process.argv.slice(2).join(' ')}\`. Node decoder, regeneration off, first B bytes of one default .mrt per image; settings are maxStep,maxActivity,radius,texture (src/model/deblock.ts), 'off' the decoder's output as is. Means over images; Δ against 'off' on the same images.`, '',
];
const table = (title: string, f: (r: Row) => number | undefined, digits: number, delta: boolean) => {
  lines.push(`| ${title} | ` + budgets.map(fmtB).join(' | ') + ' |', '|---|' + budgets.map(() => '---').join('|') + '|');
  for (const m of methods) {
    lines.push(`| ${m} | ` + budgets.map((b) => {
      const v = mean(m, b, f);
      const d = v - mean('off', b, f);
      return m !== 'off' && delta ? `${v.toFixed(digits)} (${d >= 0 ? '+' : '−'}${Math.abs(d).toFixed(digits)})` : v.toFixed(digits);
    }).join(' | ') + ' |');
  }
  lines.push('');
};
table('PSNR (dB)', (r) => r.psnr, 3, true);
table('seam ratio / original (per image; target ≤ 1.1)', (r) => r.seam, 3, false);
if (perceptual) for (const m of PERCEPTUAL_METRICS) table(`${METRIC_LABEL[m]} (${LOWER_IS_BETTER[m] ? 'lower' : 'higher'} is better)`, (r) => r[m], m === 'ssimulacra2' ? 2 : 3, true);
lines.push(`Whole run ${((Date.now() - t0) / 1000).toFixed(0)} s.`);
const md = lines.join('\n') + '\n';
mkdirSync(dirname(values.out!), { recursive: true });
writeFileSync(`${values.out}.md`, md);
writeFileSync(`${values.out}.jsonl`, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
process.stdout.write(md);
