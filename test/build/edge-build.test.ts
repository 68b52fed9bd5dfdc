// `wrangler deploy --dry-run` must build the edge Worker offline (what a deploy would upload).
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url).pathname;

it('builds the Worker bundle offline with wrangler deploy --dry-run', async () => {
  const out = await mkdtemp(join(tmpdir(), 'mrt-worker-'));
  try {
    await promisify(execFile)('node', ['scripts/dev-edge.mjs', '--prepare-only'], { cwd: ROOT });
    const { stdout, stderr } = await promisify(execFile)('npx', ['wrangler', 'deploy', '--dry-run', '--outdir', out], {
      cwd: ROOT, env: { ...process.env, WRANGLER_SEND_METRICS: 'false' }, maxBuffer: 1 << 24,
    });
    expect(`${stdout}${stderr}`).toMatch(/--dry-run: exiting now/);
    const files = await readdir(out);
    const js = files.filter((f) => f.endsWith('.js'));
    expect(js.length).toBeGreaterThan(0);
    // The bundle holds the app (Hono routes and the shared container parser).
    expect((await stat(join(out, js[0]))).size).toBeGreaterThan(10_000);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});
