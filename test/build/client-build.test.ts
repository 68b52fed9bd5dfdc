// scripts/build-client.ts copies the models the browser loads into dist/: a copy that differs
// from its source is replaced even when it is the same size and newer (a stale preview.bin
// from another models folder once survived a rebuild and the browser refused its sha256).
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { buildClient } from '../../scripts/build-client.ts';

const MODELS = new URL('../../models/', import.meta.url).pathname;

it('replaces a same-size, newer but different model file in dist/', async () => {
  const out = await mkdtemp(join(tmpdir(), 'mrt-client-'));
  try {
    await buildClient({ out, jpeg: false, quiet: true, modelsDir: MODELS, minify: false, compressUpTo: 0 });
    const manifest = JSON.parse(await readFile(join(MODELS, 'manifest.json'), 'utf8'));
    const f = join(out, 'models', 'rcm.json');
    const good = await readFile(f);
    const bad = Buffer.from(good);
    bad[bad.length - 2] ^= 1;
    await writeFile(f, bad);
    const later = new Date(Date.now() + 60_000);
    await utimes(f, later, later);
    await buildClient({ out, jpeg: false, quiet: true, modelsDir: MODELS, minify: false, compressUpTo: 0 });
    const sha = createHash('sha256').update(await readFile(f)).digest('hex');
    expect(sha).toBe(manifest.files['rcm.json'].sha256);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});
