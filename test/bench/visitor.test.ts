// bench/visitor.ts --quick end to end: the local edge, throttled Chromium, the screencast and
// the scoring. Checks what the run must show whatever the machine's speed (no timing targets).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../browser/harness.ts';
import { haveKodak, haveModels } from '../browser/fixtures.ts';

describe('visitor benchmark, quick mode', () => {
  it('scores MRT and AVIF + placeholder, cold and warm, on one throttle', { timeout: 420_000 }, () => {
    expect(haveModels() && haveKodak(), 'models/ and ../shared/data/kodak are needed').toBe(true);
    const out = join(tmpdir(), `visitor-quick-${process.pid}`);
    const r = spawnSync('npx', ['tsx', 'bench/visitor.ts', '--quick', '--out', out], { cwd: ROOT, encoding: 'utf8', timeout: 400_000 });
    expect(r.status, r.stderr.slice(-3000)).toBe(0);
    // the table is printed, with one row per configuration
    expect(r.stdout).toMatch(/\| hero \| mrt \| 10Mbps-40ms \| cold \|/);
    expect(r.stdout).toMatch(/\| hero \| avif \| 10Mbps-40ms \| warm \|/);
    const rows = (JSON.parse(readFileSync(`${out}.json`, 'utf8')) as { results: unknown[] }).results as {
      method: string; cache: string; timedOut: boolean; firstPaint: number | null; t25: number | null;
      final: { t: number; psnr: number }; bytes: number; timeline: { points: { t: number; psnr: number; painted: boolean }[] }; errors: string[];
    }[];
    expect(rows.map((x) => `${x.method}/${x.cache}`).sort()).toEqual(['avif/cold', 'avif/warm', 'mrt/cold', 'mrt/warm']);
    for (const x of rows) {
      expect(x.errors, `${x.method}/${x.cache}`).toEqual([]);
      expect(x.timedOut, `${x.method}/${x.cache} timed out`).toBe(false);
      expect(x.firstPaint, `${x.method}/${x.cache}`).not.toBeNull();
      // the timeline starts blank and ends on the final image
      expect(x.timeline.points[0]!.painted).toBe(false);
      expect(x.final.psnr).toBeGreaterThan(25);
      expect(x.t25).not.toBeNull();
    }
    const by = (m: string, c: string) => rows.find((x) => x.method === m && x.cache === c)!;
    // what the browser shows at the end is what Node decodes from the whole file (same target for AVIF)
    const mrtFinal = by('mrt', 'cold').final.psnr;
    expect(Math.abs(by('mrt', 'warm').final.psnr - mrtFinal)).toBeLessThan(0.05);
    expect(by('avif', 'cold').final.psnr).toBeGreaterThanOrEqual(mrtFinal - 0.3);
    // (no order of paints here: at 10 Mbit/s both visits take the parts path, where the final may
    // be shown before the placeholder part is decoded, which is then skipped; the browser tests
    // check the paints of each path: test/browser/direct-final.test.ts, first-visit.test.ts)
    // a warm visit does not download the runtime and model again
    expect(by('mrt', 'warm').bytes).toBeLessThan(by('mrt', 'cold').bytes / 10);
    for (const f of [`${out}.json`, `${out}.md`, join(tmpdir(), 'visitor-hero-10Mbps-40ms.svg')]) if (existsSync(f)) rmSync(f);
  });
});
