// scripts/build-client.ts writes every runtime and model file the worker fetches a second
// time under a content-hashed name in assets/, with brotli and gzip variants, and the worker
// bundle carries the plain → hashed map; a changed file gets a new name and the old one goes.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile, cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { expect, it } from 'vitest';
import { buildClient, ORT_FILES } from '../../scripts/build-client.ts';

const MODELS = new URL('../../models/', import.meta.url).pathname;
const sha16 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex').slice(0, 16);

it('hashed copies of the runtime and model files, precompressed, named in the worker bundle; a changed file replaces its old copy', async () => {
  const out = await mkdtemp(join(tmpdir(), 'mrt-client-'));
  const models = await mkdtemp(join(tmpdir(), 'mrt-models-'));
  try {
    await cp(MODELS, models, { recursive: true, filter: (src) => !src.endsWith('encoder.onnx') && !/\.(pt|pth)$/.test(src) });
    // precompress only the small files: brotli 11 of the runtime's .wasm takes a minute
    await buildClient({ out, jpeg: false, quiet: true, modelsDir: models, minify: false, compressUpTo: 100_000 });
    const worker = await readFile(join(out, 'mrt-worker.js'), 'utf8');
    const manifest = JSON.parse(await readFile(join(out, 'models/manifest.json'), 'utf8'));
    const browserFiles = [...ORT_FILES, 'models/manifest.json', ...Object.keys(manifest.files).filter((f) => f !== 'encoder.onnx' && !(manifest.splitDecoder && f === 'decoder.onnx')).map((f) => `models/${f}`)];
    for (const rel of browserFiles) {
      const bytes = await readFile(join(out, rel));
      const file = rel.split('/').pop()!;
      const dot = file.lastIndexOf('.');
      const name = `assets/${file.slice(0, dot)}.${sha16(bytes)}${file.slice(dot)}`;
      expect(existsSync(join(out, name)), name).toBe(true);
      expect(worker).toContain(`"${rel}": "${name}"`);
      if (bytes.length <= 100_000) {
        expect(brotliDecompressSync(await readFile(join(out, `${name}.br`)))).toEqual(bytes);
        expect(gunzipSync(await readFile(join(out, `${name}.gz`)))).toEqual(bytes);
      } else {
        expect(existsSync(join(out, `${name}.br`))).toBe(false);
      }
    }
    // another manifest (the same model, one more key): a new hashed name; the old one is gone
    // (each shipped model has its manifest: the default's and those of models/<hash prefix>/)
    const hashedManifest = async () => `manifest.${sha16(await readFile(join(out, 'models/manifest.json')))}.json`;
    const before = (await readdir(join(out, 'assets'))).filter((f) => f.startsWith('manifest.'));
    const old = await hashedManifest();
    expect(before).toContain(old);
    await writeFile(join(models, 'manifest.json'), JSON.stringify({ ...JSON.parse(await readFile(join(models, 'manifest.json'), 'utf8')), note: 'rebuilt' }));
    await buildClient({ out, jpeg: false, quiet: true, modelsDir: models, minify: false, compressUpTo: 100_000 });
    const after = (await readdir(join(out, 'assets'))).filter((f) => f.startsWith('manifest.'));
    expect(after).toHaveLength(before.length); // NAME, NAME.br, NAME.gz of each
    expect(after.filter((f) => f.startsWith(old))).toEqual([]);
    expect(after).toContain(await hashedManifest());
  } finally {
    await rm(out, { recursive: true, force: true });
    await rm(models, { recursive: true, force: true });
  }
}, 120_000);
