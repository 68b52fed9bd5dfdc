// Does the perceptual thumbnail oracle lose anything by choosing, per format and side, only the
// highest quality that fits (bench/lib/thumb-oracle.ts)? Scores EVERY (format, side, quality)
// of a few Kodak images with every perceptual metric and compares the oracle over all of them
// with the oracle over the pruned set, per budget.
//
//   npx tsx bench/thumb-prune-check.ts [--images kodim01.png,kodim23.png] [--out bench/out/thumb-prune-check.md]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { BUDGETS, KODAK_DIR, kodakImages, loadRgb } from './lib/kodak.ts';
import { pool } from '../src/encoder/batch.ts';
import { METRIC_LABEL, PERCEPTUAL_METRICS, PerceptualMetrics, type PerceptualScores } from './lib/perceptual.ts';
import { bestBy, highestQualityPerSide, thumbId } from './lib/thumb-oracle.ts';
import { thumbCandidates, THUMB_FORMATS, type ThumbCandidate } from './lib/thumbs.ts';

type Scored = ThumbCandidate & { scores: PerceptualScores };

async function main() {
  const { values } = parseArgs({ options: { images: { type: 'string', default: kodakImages()[0] }, out: { type: 'string', default: 'bench/out/thumb-prune-check.md' } } });
  const images = values.images!.split(',');
  const t0 = Date.now();
  const metrics = new PerceptualMetrics();
  const lines = [`# Pruning the perceptual thumbnail oracle (${new Date().toISOString()})`, '',
    `Every (format, side, quality) of WebP, AVIF and JPEG up to ${Math.max(...BUDGETS)} B (bench/lib/thumbs.ts), scored with every metric, on ${images.join(', ')}. ` +
    'Per budget and metric: the oracle over all candidates that fit against the oracle over the pruned set (per format and side the highest quality that fits). ' +
    '"groups" counts (budget, format, side) with two or more qualities that fit, and in how many of them the highest quality is also the best by the metric.', ''];
  const groupStats = Object.fromEntries(PERCEPTUAL_METRICS.map((m) => [m, { groups: 0, highestBest: 0 }]));
  lines.push('| image | budget | metric | oracle over all | oracle over pruned | loss |', '|---|---|---|---|---|---|');
  try {
    for (const name of images) {
      const src = await loadRgb(join(KODAK_DIR, name));
      const ref = metrics.forReference(src);
      const all = (await Promise.all(THUMB_FORMATS.map((f) => thumbCandidates(src, f, Math.max(...BUDGETS))))).flat();
      const scored: Scored[] = new Array(all.length);
      await pool(all, 2, async (c, i) => void (scored[i] = { ...c, px: Buffer.alloc(0), scores: await ref.score({ width: src.width, height: src.height, data: c.px }) }));
      await ref.close();
      process.stderr.write(`prune-check: ${name} ${scored.length} candidates, ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
      for (const b of BUDGETS) {
        const fit = scored.filter((c) => c.bytes <= b);
        const pruned = highestQualityPerSide(fit, b);
        for (const m of PERCEPTUAL_METRICS) {
          const a = bestBy(fit, m), p = bestBy(pruned, m);
          if (!a || !p) continue;
          const loss = Math.abs(a.scores[m] - p.scores[m]);
          lines.push(`| ${name} | ${b} | ${METRIC_LABEL[m]} | ${thumbId(a)} ${a.scores[m].toFixed(4)} | ${thumbId(p)} ${p.scores[m].toFixed(4)} | ${loss === 0 ? 'none' : loss.toFixed(4)} |`);
          for (const top of pruned) {
            const group = fit.filter((c) => c.fmt === top.fmt && c.side === top.side);
            if (group.length < 2) continue;
            groupStats[m].groups++;
            if (bestBy(group, m)!.scores[m] === top.scores[m]) groupStats[m].highestBest++;
          }
        }
      }
    }
  } finally {
    await metrics.close();
  }
  lines.push('', '| metric | groups | the highest quality is the best |', '|---|---|---|');
  for (const m of PERCEPTUAL_METRICS) lines.push(`| ${METRIC_LABEL[m]} | ${groupStats[m].groups} | ${groupStats[m].highestBest} |`);
  lines.push('', `Run time ${((Date.now() - t0) / 1000).toFixed(0)} s (scores cached in .cache/perceptual).`);
  const md = lines.join('\n') + '\n';
  mkdirSync(dirname(values.out!), { recursive: true });
  writeFileSync(values.out!, md);
  process.stdout.write(md);
}

await main();
