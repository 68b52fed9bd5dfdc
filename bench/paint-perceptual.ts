// What a client paints from the first B bytes of one .mrt on Kodak, under one or more models
// and regeneration modes, scored by SSIMULACRA 2.1, Butteraugli, LPIPS-AlexNet and PSNR: each
// variant's mean per budget and its per-image win rate against the first variant (a win:
// strictly better by that metric). An A/B of paints, without the thumbnails of bench/rd.ts
// --perceptual (minutes instead of an hour).
//
//   npx tsx bench/paint-perceptual.ts [--models DIR[,DIR...]] [--regen off,mean,t0.5] [--images N]
//       [--budgets 512,1024,2048,4096] [--out bench/out/paint-perceptual]
//
// --models: model folders (default: the shipped default model); each image is encoded once per
// model (default options, no final, as bench/rd.ts) and decoded by the Node decoder (deblocked).
// --regen: off (missing tokens masked, the default), mean (the RCM's expected values), tT (drawn
// from the RCM at temperature T, seeded by the stream's content hash).
// Writes OUT.md and OUT.jsonl; scores are cached in .cache/perceptual (bench/lib/perceptual.ts).
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { decode, encode, loadModels } from '../src/encoder/index.ts';
import type { Regeneration } from '../src/codec/index.ts';
import { KODAK_DIR, kodakImages, loadRgb, meanBy } from './lib/kodak.ts';
import { psnr } from './lib/metrics.ts';
import { atLeastAsGood, METRIC_LABEL, PERCEPTUAL_METRICS, PerceptualMetrics, type PerceptualMetric } from './lib/perceptual.ts';

interface Row { img: string; variant: string; budget: number; psnr: number; ssimulacra2: number; butteraugli: number; lpips: number; ms: number }

const { values } = parseArgs({
  options: {
    models: { type: 'string' },
    regen: { type: 'string', default: 'off,mean,t0.5' },
    images: { type: 'string' },
    budgets: { type: 'string', default: '512,1024,2048,4096' },
    out: { type: 'string', default: 'bench/out/paint-perceptual' },
  },
});

function regenOf(s: string): Regeneration {
  if (s === 'off') return false;
  if (s === 'mean') return true;
  const t = /^t(\d+(?:\.\d+)?)$/.exec(s);
  if (t && Number(t[1]) > 0) return { temperature: Number(t[1]) };
  throw new Error(`--regen: '${s}' is not off, mean or tT (a temperature > 0, e.g. t0.5)`);
}

const budgets = values.budgets!.split(',').map(Number);
if (!budgets.length || budgets.some((b) => !(b > 0))) throw new Error(`--budgets: byte counts > 0, got ${values.budgets}`);
const modes = values.regen!.split(',').map((s) => [s, regenOf(s)] as const);
const dirs = values.models ? values.models.split(',') : [undefined];
const models = await Promise.all(dirs.map((d) => loadModels(d)));
const modelName = (i: number) => (dirs.length > 1 ? `${models[i]!.manifest.id} (${basename(dirs[i] ?? 'models')})` : '');
const variants = models.flatMap((m, i) => modes.map(([s, regenerate]) => ({ name: [modelName(i), s].filter(Boolean).join(' '), models: m, regenerate })));
const images = kodakImages().slice(0, values.images ? Number(values.images) : undefined);
const metrics = new PerceptualMetrics();
const rows: Row[] = [];
const t0 = Date.now();
mkdirSync(dirname(values.out!), { recursive: true });
try {
  for (const name of images) {
    const src = await loadRgb(join(KODAK_DIR, name));
    const files = await Promise.all(models.map((m) => encode(join(KODAK_DIR, name), { models: m, final: 'none' })));
    const ref = metrics.forReference(src);
    try {
      for (const budget of budgets) {
        for (const v of variants) {
          const t = performance.now();
          const r = await decode(files[models.indexOf(v.models)]!, { models: v.models, bytes: budget, regenerate: v.regenerate });
          const ms = performance.now() - t;
          rows.push({ img: name, variant: v.name, budget, psnr: psnr(src.data, r.image.data), ...(await ref.score(r.image)), ms });
        }
      }
    } finally {
      await ref.close();
    }
    writeFileSync(`${values.out}.jsonl`, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    process.stderr.write(`paint-perceptual: ${name} (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
  }
} finally {
  await metrics.close();
}

const fmtB = (b: number) => (b >= 1024 ? `${b / 1024} KB` : `${b} B`);
const at = (v: string, b: number) => rows.filter((r) => r.variant === v && r.budget === b);
const base = variants[0]!.name;
const lines = [
  `# Paints on Kodak by perceptual metrics (${images.length} images, ${new Date().toISOString()})`,
  '',
  `\`npx tsx bench/paint-perceptual.ts${process.argv.length > 2 ? ' ' + process.argv.slice(2).join(' ') : ''}\`; model${models.length > 1 ? 's' : ''} ${models.map((m, i) => `${m.manifest.id}${dirs[i] ? ` (${dirs[i]})` : ''}`).join(', ')}. One default .mrt per image and model, without a final (as bench/rd.ts), decoded from its first B bytes by the Node decoder (deblocked). Regeneration: off, missing tokens masked (the default); mean, the RCM's expected values; tT, drawn from the RCM at temperature T, seeded by the stream's content hash. Each cell: the mean over images, then (for the other variants) the images on which it is strictly better than ${base}. Decode time: the mean of \`decode()\` per paint, one process, on a shared machine.`,
  '',
];
const cols: { key: keyof Row; label: string; lower: boolean; digits: number }[] = [
  ...PERCEPTUAL_METRICS.map((m: PerceptualMetric) => ({ key: m as keyof Row, label: METRIC_LABEL[m], lower: !atLeastAsGood(m, 1, 0), digits: m === 'lpips' ? 3 : 2 })),
  { key: 'psnr', label: 'RGB PSNR (dB)', lower: false, digits: 2 },
  { key: 'ms', label: 'decode time (ms)', lower: true, digits: 0 },
];
for (const c of cols) {
  lines.push(`| ${c.label}${c.lower ? ' (lower is better)' : ''} | ${budgets.map(fmtB).join(' | ')} |`, `|---|${budgets.map(() => '---').join('|')}|`);
  for (const v of variants) {
    const cells = budgets.map((b) => {
      const rs = at(v.name, b);
      if (!rs.length) return '–';
      const m = meanBy(rs, (r) => r[c.key] as number).toFixed(c.digits);
      if (v.name === base || c.key === 'ms') return m;
      const ref = new Map(at(base, b).map((r) => [r.img, r[c.key] as number]));
      const wins = rs.filter((r) => (c.lower ? (r[c.key] as number) < ref.get(r.img)! : (r[c.key] as number) > ref.get(r.img)!)).length;
      return `${m} (${wins}/${rs.length})`;
    });
    lines.push(`| ${v.name} | ${cells.join(' | ')} |`);
  }
  lines.push('');
}
lines.push(`Run time ${((Date.now() - t0) / 60000).toFixed(1)} min.`);
writeFileSync(`${values.out}.md`, lines.join('\n') + '\n');
console.log(lines.join('\n'));
