// The perceptual part of bench/rd.ts (--perceptual): SSIMULACRA 2.1, Butteraugli and LPIPS of
// MRT's paints and of each metric's own best thumbnail, per budget, as means and per-image win
// rates, the window-seam ratio (bench/lib/seams.ts), and the crops page.
import type { Rgb } from './kodak.ts';
import { meanBy } from './kodak.ts';
import { psnr } from './metrics.ts';
import { pool } from '../../src/encoder/batch.ts';
import { atLeastAsGood, LOWER_IS_BETTER, METRIC_LABEL, PERCEPTUAL_METRICS, type PerceptualMetric, type PerceptualMetrics, type PerceptualScores } from './perceptual.ts';
import { seamStats } from './seams.ts';
import { bestBy, thumbId, type BudgetThumbs } from './thumb-oracle.ts';
import { cropSection, pickRegions, type CropPanel } from './crops.ts';
import type { ThumbCandidate } from './thumbs.ts';

export interface Paint { method: string; budget: number; px: Uint8Array }

export interface PerceptualRow extends Partial<PerceptualScores> {
  img: string;
  /** mrt-blank, mrt-regen, mrt-whole, original, thumb-best-<metric> (that metric's oracle), thumb-best-psnr */
  method: string;
  budget: number;
  psnr?: number;
  /** window-boundary / elsewhere gradient ratio */
  seam: number;
  thumb?: string;
  bytes?: number;
}

const CROP_BUDGETS = [1024, 2048];

/** Scores one image's paints and thumbnails; with cropsDir, also writes its crops and returns
 *  the page section. */
export async function perceptualImage(metrics: PerceptualMetrics, name: string, src: Rgb, paints: Paint[], thumbs: Map<number, BudgetThumbs>, cropsDir?: string): Promise<{ rows: PerceptualRow[]; section?: string }> {
  const ref = metrics.forReference(src);
  const img = (px: Uint8Array) => ({ width: src.width, height: src.height, data: px });
  const seam = (px: Uint8Array) => seamStats(px, src.width, src.height).ratio;
  try {
    // every thumbnail any oracle can pick, once
    const unique = new Map<string, ThumbCandidate>();
    for (const t of thumbs.values()) for (const c of [...t.pruned, ...(t.psnrBest ? [t.psnrBest] : [])]) unique.set(thumbId(c), c);
    const jobs: { px: Uint8Array; done: (s: PerceptualScores) => void }[] = [];
    const thumbScores = new Map<string, PerceptualScores>();
    for (const [id, c] of unique) jobs.push({ px: c.px, done: (s) => thumbScores.set(id, s) });
    const paintScores = new Map<Paint, PerceptualScores>();
    for (const p of paints) jobs.push({ px: p.px, done: (s) => paintScores.set(p, s) });
    await pool(jobs, 2, async (j) => j.done(await ref.score(img(j.px))));

    const rows: PerceptualRow[] = [{ img: name, method: 'original', budget: 0, seam: seam(src.data) }];
    for (const p of paints) rows.push({ img: name, method: p.method, budget: p.budget, psnr: psnr(src.data, p.px), ...paintScores.get(p)!, seam: seam(p.px) });
    const thumbRow = (method: string, budget: number, c: ThumbCandidate): PerceptualRow =>
      ({ img: name, method, budget, psnr: c.psnr, ...thumbScores.get(thumbId(c))!, seam: seam(c.px), thumb: thumbId(c), bytes: c.bytes });
    const picked = new Map<string, ThumbCandidate>();
    for (const [b, t] of thumbs) {
      const scored = t.pruned.map((c) => ({ c, bytes: c.bytes, scores: thumbScores.get(thumbId(c))! }));
      for (const m of PERCEPTUAL_METRICS) {
        const best = bestBy(scored, m)?.c;
        if (best) { rows.push(thumbRow(`thumb-best-${m}`, b, best)); picked.set(`${m}@${b}`, best); }
      }
      if (t.psnrBest) rows.push(thumbRow('thumb-best-psnr', b, t.psnrBest));
    }

    let section: string | undefined;
    if (cropsDir) {
      const paint = (m: string, b: number) => paints.find((p) => p.method === m && p.budget === b);
      const score = (r: PerceptualRow | undefined) => r ? `SSIMULACRA2 ${r.ssimulacra2!.toFixed(1)}, BA ${r.butteraugli!.toFixed(2)}, LPIPS ${r.lpips!.toFixed(3)}, ${r.psnr!.toFixed(2)} dB` : '';
      const row = (m: string, b: number) => rows.find((r) => r.method === m && r.budget === b);
      const panels: CropPanel[] = [{ label: 'original', caption: name, px: src.data }];
      for (const b of CROP_BUDGETS) {
        const t = picked.get(`ssimulacra2@${b}`);
        if (t) panels.push({ label: `best thumbnail ≤ ${b} B (by SSIMULACRA 2.1)`, caption: `${thumbId(t)}, ${t.bytes} B; ${score(row('thumb-best-ssimulacra2', b))}`, px: t.px });
        for (const [m, what] of [['mrt-blank', 'regeneration off'], ['mrt-regen', 'regeneration on']]) {
          const p = paint(m, b);
          if (p) panels.push({ label: `MRT ${b} B, ${what}`, caption: score(row(m, b)), px: p.px });
        }
      }
      const at1k = paint('mrt-blank', 1024);
      if (at1k) section = await cropSection(cropsDir, name, src.width, src.height, panels, pickRegions(src.data, at1k.px, src.width, src.height));
    }
    return { rows, section };
  } finally {
    await ref.close();
  }
}

const fmtBudget = (b: number) => (b >= 1024 ? `${b / 1024} KB` : `${b} B`);

/** Markdown tables over all images: per metric, means and win rates against that metric's own
 *  best thumbnail; then the seam ratios. */
export function perceptualTables(rows: PerceptualRow[], images: string[], budgets: number[]): string[] {
  const get = (img: string, method: string, b: number) => rows.find((r) => r.img === img && r.method === method && r.budget === b);
  const mean = (vals: (number | undefined)[], digits: number) => {
    const v = vals.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
    return v.length ? `${meanBy(v, (x) => x).toFixed(digits)}${v.length < images.length ? ` (n=${v.length})` : ''}` : '–';
  };
  const head = (title: string) => [`| ${title} | ` + budgets.map(fmtBudget).join(' | ') + ' |', '|---|' + budgets.map(() => '---').join('|') + '|'];
  const lines: string[] = [];
  const digits: Record<PerceptualMetric, number> = { ssimulacra2: 2, butteraugli: 3, lpips: 4 };
  for (const m of PERCEPTUAL_METRICS) {
    const d = digits[m];
    lines.push('', ...head(`mean ${METRIC_LABEL[m]} (${LOWER_IS_BETTER[m] ? 'lower' : 'higher'} is better)`));
    for (const meth of ['mrt-regen', 'mrt-blank']) lines.push(`| ${meth} | ` + budgets.map((b) => mean(images.map((i) => get(i, meth, b)?.[m]), d)).join(' | ') + ' |');
    lines.push(`| best thumbnail by ${METRIC_LABEL[m]} (oracle) | ` + budgets.map((b) => mean(images.map((i) => get(i, `thumb-best-${m}`, b)?.[m]), d)).join(' | ') + ' |');
    lines.push(`| PSNR-best thumbnail | ` + budgets.map((b) => mean(images.map((i) => get(i, 'thumb-best-psnr', b)?.[m]), d)).join(' | ') + ' |');
    for (const meth of ['mrt-blank', 'mrt-regen']) {
      lines.push(`| ${meth} − best thumbnail (win rate: images where ${meth} is at least as good) | ` + budgets.map((b) => {
        const pairs = images.flatMap((i) => {
          const a = get(i, meth, b)?.[m], t = get(i, `thumb-best-${m}`, b)?.[m];
          return typeof a === 'number' && typeof t === 'number' ? [[a, t]] : [];
        });
        if (!pairs.length) return '–';
        const diff = meanBy(pairs, ([a, t]) => a - t);
        const wins = pairs.filter(([a, t]) => atLeastAsGood(m, a, t)).length;
        return `${diff >= 0 ? '+' : '−'}${Math.abs(diff).toFixed(d)} (${wins}/${pairs.length}, ${Math.round((100 * wins) / pairs.length)} %)`;
      }).join(' | ') + ' |');
    }
    if (LOWER_IS_BETTER[m]) {
      lines.push(`| mrt-blank / best thumbnail (ratio of the means) | ` + budgets.map((b) => {
        const a = images.map((i) => get(i, 'mrt-blank', b)?.[m]).filter((x): x is number => typeof x === 'number');
        const t = images.map((i) => get(i, `thumb-best-${m}`, b)?.[m]).filter((x): x is number => typeof x === 'number');
        return a.length && t.length ? (meanBy(a, (x) => x) / meanBy(t, (x) => x)).toFixed(3) : '–';
      }).join(' | ') + ' |');
    }
  }
  const origSeam = (i: string) => get(i, 'original', 0)?.seam;
  lines.push('', ...head('window seam ratio: mean abs. gradient across 32-px window boundaries / elsewhere (mean over images)'));
  lines.push(`| original | ` + budgets.map(() => mean(images.map(origSeam), 3)).join(' | ') + ' |');
  for (const meth of ['mrt-regen', 'mrt-blank']) lines.push(`| ${meth} | ` + budgets.map((b) => mean(images.map((i) => get(i, meth, b)?.seam), 3)).join(' | ') + ' |');
  lines.push(`| mrt-blank / original (per image, then mean; target ≤ 1.1) | ` + budgets.map((b) => mean(images.map((i) => { const a = get(i, 'mrt-blank', b)?.seam, o = origSeam(i); return a !== undefined && o ? a / o : undefined; }), 3)).join(' | ') + ' |');
  for (const m of ['psnr', 'ssimulacra2'] as const) lines.push(`| ${m === 'psnr' ? 'PSNR' : 'SSIMULACRA 2.1'}-best thumbnail | ` + budgets.map((b) => mean(images.map((i) => get(i, `thumb-best-${m}`, b)?.seam), 3)).join(' | ') + ' |');
  const whole = images.map((i) => rows.find((r) => r.img === i && r.method === 'mrt-whole')).filter((r): r is PerceptualRow => !!r);
  if (whole.length) lines.push('', `Whole files: SSIMULACRA 2.1 ${meanBy(whole, (r) => r.ssimulacra2!).toFixed(2)}, Butteraugli ${meanBy(whole, (r) => r.butteraugli!).toFixed(3)}, LPIPS ${meanBy(whole, (r) => r.lpips!).toFixed(4)}, seam ratio ${meanBy(whole, (r) => r.seam).toFixed(3)}.`);
  return lines;
}
