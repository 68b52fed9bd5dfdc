// The perceptual part of bench/rd.ts: the seam ratio, the thumbnail oracle's pruning, and the
// three metrics through their real tools (LPIPS process, ssimulacra2, butteraugli_main) with
// their disk cache.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { seamStats } from '../../bench/lib/seams.ts';
import { bestBy, highestQualityPerSide } from '../../bench/lib/thumb-oracle.ts';

function image(w: number, h: number, f: (x: number, y: number, c: number) => number): Uint8Array {
  const px = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) px[(y * w + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(f(x, y, c))));
  return px;
}

describe('seamStats', () => {
  it('is ~1 for noise, which ignores the grid, and large for 32-px blocks', () => {
    let seed = 1;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const noise = image(256, 256, () => 64 + 128 * rand());
    expect(seamStats(noise, 256, 256).ratio).toBeGreaterThan(0.95);
    expect(seamStats(noise, 256, 256).ratio).toBeLessThan(1.05);
    // flat 32-px blocks plus a one-level checkerboard: boundary steps of 10 and 20, 1 elsewhere
    const blocks = image(64, 64, (x, y) => (x >> 5) * 10 + (y >> 5) * 20 + ((x + y) % 2));
    const s = seamStats(blocks, 64, 64);
    expect(s.elsewhere).toBeCloseTo(1, 6);
    expect(s.boundary).toBeCloseTo(15, 6);
    expect(s.ratio).toBeCloseTo(15, 6);
  });
});

describe('thumbnail oracle', () => {
  const c = (fmt: 'webp' | 'avif' | 'jpeg', side: number, q: number, bytes: number, lpips: number) => ({ fmt, side, q, bytes, scores: { lpips, ssimulacra2: 0, butteraugli: 0 } });
  const cands = [c('webp', 64, 10, 300, 0.5), c('webp', 64, 20, 400, 0.45), c('webp', 64, 30, 600, 0.4), c('avif', 64, 10, 350, 0.42), c('avif', 96, 1, 900, 0.3)];
  it('keeps per format and side the highest quality that fits', () => {
    expect(highestQualityPerSide(cands, 500).map((x) => `${x.fmt}/${x.side}/${x.q}`).sort()).toEqual(['avif/64/10', 'webp/64/20']);
    expect(highestQualityPerSide(cands, 100)).toEqual([]);
  });
  it('picks the best by the metric, lower or higher as the metric says', () => {
    expect(bestBy(highestQualityPerSide(cands, 500), 'lpips')).toMatchObject({ fmt: 'avif', q: 10 });
    expect(bestBy([], 'lpips')).toBeNull();
  });
});

describe('perceptual metrics through their tools', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mrt-percep-test-'));
  process.env.MRT_PERCEPTUAL_CACHE = join(dir, 'scores.jsonl');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('scores identical and blurred images, and reads a repeat from the cache', { timeout: 120_000 }, async () => {
    const { PerceptualMetrics } = await import('../../bench/lib/perceptual.ts');
    const w = 96, h = 96;
    const ref = { width: w, height: h, data: image(w, h, (x, y, c) => 128 + 100 * Math.sign(Math.sin(x / 3 + c)) * Math.cos(y / 5)) };
    const blurred = { width: w, height: h, data: image(w, h, (x, y, c) => 128 + 40 * Math.sin(x / 3 + c) * Math.cos(y / 5)) };
    const metrics = new PerceptualMetrics();
    try {
      const r = metrics.forReference(ref);
      const same = await r.score(ref);
      expect(same.ssimulacra2).toBeGreaterThan(99.9);
      expect(same.butteraugli).toBeLessThan(0.01);
      expect(same.lpips).toBeLessThan(1e-4);
      const worse = await r.score(blurred);
      expect(worse.ssimulacra2).toBeLessThan(same.ssimulacra2 - 10);
      expect(worse.butteraugli).toBeGreaterThan(1);
      expect(worse.lpips).toBeGreaterThan(0.05);
      expect(readFileSync(process.env.MRT_PERCEPTUAL_CACHE!, 'utf8').trim().split('\n')).toHaveLength(6);
      expect(await r.score(blurred)).toEqual(worse);
      expect(readFileSync(process.env.MRT_PERCEPTUAL_CACHE!, 'utf8').trim().split('\n')).toHaveLength(6); // no new scores
      await r.close();
    } finally {
      await metrics.close();
    }
    expect(existsSync(process.env.MRT_PERCEPTUAL_CACHE!)).toBe(true);
  });
});
