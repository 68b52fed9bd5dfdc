// Regeneration measured as a visitor sees it: on Kodak, what a client paints from the first B
// bytes of one .mrt with missing tokens masked (off, today's default), filled with the RCM's
// expected values ('mean'), or drawn from the RCM at each temperature ('t0.8': sampled
// regeneration, seeded by the stream's content hash), scored by SSIMULACRA 2.1, Butteraugli,
// LPIPS-AlexNet and PSNR. Prints each variant's mean per budget and its per-image win rate
// against 'off' (a win: strictly better by that metric).
//
//   npx tsx bench/regen-perceptual.ts [--images N] [--temperatures 0.5,0.8,1] [--budgets 512,1024,2048,4096]
//       [--models DIR] [--out bench/results/regen-perceptual]
//
// Writes OUT.md and OUT.jsonl. Scores are cached in .cache/perceptual (bench/lib/perceptual.ts).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { decode, encode, loadModels } from '../src/encoder/index.ts';
import type { Regeneration } from '../src/codec/index.ts';
import { KODAK_DIR, kodakImages, loadRgb, meanBy } from './lib/kodak.ts';
import { psnr } from './lib/metrics.ts';
import { atLeastAsGood, METRIC_LABEL, PERCEPTUAL_METRICS, PerceptualMetrics, type PerceptualMetric } from './lib/perceptual.ts';

interface Row { img: string; variant: string; budget: number; psnr: number; ssimulacra2: number; butteraugli: number; lpips: number; ms: number }

const { values } = parseArgs({
  options: {
    images: { type: 'string' },
    temperatures: { type: 'string', default: '0.5,0.8,1' },
    budgets: { type: 'string', default: '512,1024,2048,4096' },
    models: { type: 'string' },
    out: { type: 'string', default: 'bench/results/regen-perceptual' },
  },
});
const list = (s: string) => s.split(',').map(Number).filter((x) => x > 0);
const budgets = list(values.budgets!);
const temps = list(values.temperatures!);
const variants: [string, Regeneration][] = [['off', false], ['mean', true], ...temps.map((t): [string, Regeneration] => [`t${t}`, { temperature: t }])];
const images = kodakImages().slice(0, values.images ? Number(values.images) : undefined);
const models = await loadModels(values.models);
const metrics = new PerceptualMetrics();
const rows: Row[] = [];
const t0 = Date.now();
mkdirSync(dirname(values.out!), { recursive: true });
try {
  for (const name of images) {
    const src = await loadRgb(join(KODAK_DIR, name));
    const mrt = await encode(join(KODAK_DIR, name), { models, final: 'none' });
    const ref = metrics.forReference(src);
    try {
      for (const budget of budgets) {
        for (const [variant, regenerate] of variants) {
          const t = performance.now();
          const r = await decode(mrt, { models, bytes: budget, regenerate });
          const ms = performance.now() - t;
          const s = await ref.score(r.image);
          rows.push({ img: name, variant, budget, psnr: psnr(src.data, r.image.data), ...s, ms });
        }
      }
    } finally {
      await ref.close();
    }
    writeFileSync(`${values.out}.jsonl`, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    process.stderr.write(`regen-perceptual: ${name} (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
  }
} finally {
  await metrics.close();
}

const fmtB = (b: number) => (b >= 1024 ? `${b / 1024} KB` : `${b} B`);
const at = (v: string, b: number) => rows.filter((r) => r.variant === v && r.budget === b);
const lines = [
  `# Regeneration on Kodak (${images.length} images, ${new Date().toISOString()})`,
  '',
  `\`npx tsx bench/regen-perceptual.ts${process.argv.slice(2).length ? ' ' + process.argv.slice(2).join(' ') : ''}\`; model ${models.manifest.id}; one default .mrt per image without a final (as bench/rd.ts), decoded from its first B bytes by the Node decoder (deblocked). off: missing tokens masked (the default); mean: filled with the RCM's expected values; tT: drawn from the RCM at temperature T, seeded by the stream's content hash. Each cell: the mean over images, then (for the other variants) the images on which it is strictly better than off. Decode time: the mean of \`decode()\` per paint, one process, on a machine shared with a training run.`,
  '',
];
const metricCols: { key: keyof Row; label: string; lower: boolean; digits: number }[] = [
  ...PERCEPTUAL_METRICS.map((m: PerceptualMetric) => ({ key: m as keyof Row, label: METRIC_LABEL[m], lower: !atLeastAsGood(m, 1, 0), digits: m === 'lpips' ? 3 : 2 })),
  { key: 'psnr', label: 'RGB PSNR (dB)', lower: false, digits: 2 },
  { key: 'ms', label: 'decode time (ms)', lower: true, digits: 0 },
];
for (const c of metricCols) {
  lines.push(`| ${c.label}${c.lower ? ' (lower is better)' : ''} | ${budgets.map(fmtB).join(' | ')} |`, `|---|${budgets.map(() => '---').join('|')}|`);
  for (const [v] of variants) {
    const cells = budgets.map((b) => {
      const rs = at(v, b);
      if (!rs.length) return '–';
      const m = meanBy(rs, (r) => r[c.key] as number).toFixed(c.digits);
      if (v === 'off' || c.key === 'ms') return m;
      const off = new Map(at('off', b).map((r) => [r.img, r[c.key] as number]));
      const wins = rs.filter((r) => (c.lower ? (r[c.key] as number) < off.get(r.img)! : (r[c.key] as number) > off.get(r.img)!)).length;
      return `${m} (${wins}/${rs.length})`;
    });
    lines.push(`| ${v} | ${cells.join(' | ')} |`);
  }
  lines.push('');
}
lines.push(`Run time ${((Date.now() - t0) / 60000).toFixed(1)} min.`);
writeFileSync(`${values.out}.md`, lines.join('\n') + '\n');
console.log(lines.join('\n'));
