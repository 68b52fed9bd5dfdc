// Perceptual scores of distorted images against a reference: SSIMULACRA 2.1 (higher is better),
// Butteraugli 3-norm and LPIPS-AlexNet (lower is better), each cached on disk by the content
// of both images (.cache/perceptual/scores.jsonl), so a rerun scores only what changed.
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { butteraugli3Norm } from './butteraugli.ts';
import { Lpips } from './lpips.ts';
import { Ssimulacra2, type RgbLike } from './ssimulacra2.ts';

export const PERCEPTUAL_METRICS = ['ssimulacra2', 'butteraugli', 'lpips'] as const;
export type PerceptualMetric = (typeof PERCEPTUAL_METRICS)[number];
export type PerceptualScores = Record<PerceptualMetric, number>;

export const METRIC_LABEL: Record<PerceptualMetric, string> = { ssimulacra2: 'SSIMULACRA 2.1', butteraugli: 'Butteraugli (3-norm)', lpips: 'LPIPS (AlexNet)' };
export const LOWER_IS_BETTER: Record<PerceptualMetric, boolean> = { ssimulacra2: false, butteraugli: true, lpips: true };
/** part of every cache key: a change of metric or of its settings must not reuse old scores */
const METRIC_TAG: Record<PerceptualMetric, string> = { ssimulacra2: 'ssimulacra2.1', butteraugli: 'butteraugli-3norm-80nits', lpips: 'lpips-v0.1-alex' };

const CACHE = fileURLToPath(new URL('../../.cache/perceptual/scores.jsonl', import.meta.url));

/** true when score a is at least as good as b under this metric */
export function atLeastAsGood(m: PerceptualMetric, a: number, b: number): boolean {
  return LOWER_IS_BETTER[m] ? a <= b : a >= b;
}

function contentKey(img: RgbLike): string {
  return createHash('sha256').update(`${img.width}x${img.height}:`).update(img.data).digest('hex').slice(0, 32);
}

class ScoreCache {
  private readonly map = new Map<string, number>();
  constructor(private readonly path: string) {
    if (!existsSync(path)) return;
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      if (!line) continue;
      try {
        const { k, v } = JSON.parse(line) as { k: string; v: number };
        this.map.set(k, v);
      } catch { /* a line cut short by an interrupted run */ }
    }
  }
  get(k: string): number | undefined { return this.map.get(k); }
  set(k: string, v: number): void {
    this.map.set(k, v);
    mkdirSync(dirname(this.path), { recursive: true });
    appendFileSync(this.path, JSON.stringify({ k, v }) + '\n');
  }
}

/** One LPIPS process and the score cache, shared by every reference image of a run. */
export class PerceptualMetrics {
  readonly lpips = new Lpips();
  readonly cache = new ScoreCache(process.env.MRT_PERCEPTUAL_CACHE || CACHE);
  readonly dir = mkdtemp(join(tmpdir(), 'mrt-percep-'));
  private n = 0;

  /** A PNG of img in the run's temporary folder (what the metric binaries read). */
  async png(img: RgbLike): Promise<string> {
    const p = join(await this.dir, `${this.n++}.png`);
    await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } }).png({ compressionLevel: 1 }).toFile(p);
    return p;
  }

  forReference(ref: RgbLike): PerceptualReference {
    return new PerceptualReference(this, ref);
  }

  async close(): Promise<void> {
    await this.lpips.close();
    await rm(await this.dir, { recursive: true, force: true });
  }
}

export class PerceptualReference {
  private readonly key: string;
  private readonly ssim: Ssimulacra2;
  private refPng: Promise<string> | null = null;

  constructor(private readonly owner: PerceptualMetrics, private readonly ref: RgbLike) {
    this.key = contentKey(ref);
    this.ssim = new Ssimulacra2(ref);
  }

  async score(img: RgbLike): Promise<PerceptualScores> {
    if (img.width !== this.ref.width || img.height !== this.ref.height) throw new Error(`perceptual: ${img.width}x${img.height} against a ${this.ref.width}x${this.ref.height} reference`);
    const dk = contentKey(img);
    const k = (m: PerceptualMetric) => `${METRIC_TAG[m]}:${this.key}:${dk}`;
    const out: Partial<PerceptualScores> = {};
    const missing = PERCEPTUAL_METRICS.filter((m) => (out[m] = this.owner.cache.get(k(m))) === undefined);
    if (!missing.length) return out as PerceptualScores;
    this.refPng ??= this.owner.png(this.ref);
    const ref = await this.refPng;
    const dist = missing.some((m) => m !== 'ssimulacra2') ? await this.owner.png(img) : null;
    try {
      const run: Record<PerceptualMetric, () => Promise<number>> = {
        ssimulacra2: () => this.ssim.score(img),
        butteraugli: () => butteraugli3Norm(ref, dist!),
        lpips: () => this.owner.lpips.score(ref, dist!),
      };
      const vals = await Promise.all(missing.map((m) => run[m]()));
      missing.forEach((m, i) => { out[m] = vals[i]; this.owner.cache.set(k(m), vals[i]); });
    } finally {
      if (dist) await rm(dist, { force: true });
    }
    return out as PerceptualScores;
  }

  async close(): Promise<void> {
    await this.ssim.close();
    if (this.refPng) await rm(await this.refPng, { force: true });
  }
}
