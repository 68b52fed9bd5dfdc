// A build with an earlier model beside the default (models/<hash prefix>/): the client build
// copies and pins it, and the edge Worker serves every shipped model at /models/<prefix>/FILE.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildClient, hashedName } from '../../scripts/build-client.ts';
import worker from '../../src/edge/worker.ts';
import { makeAltModel, makeModelsRoot, MODELS_DIR, type AltModel } from '../models/alt-model.ts';

let work: string;
let out: string;
let alt: AltModel;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'mrt-build-versions-'));
  alt = await makeAltModel(join(work, 'alt'));
  out = await buildClient({ out: join(work, 'client'), modelsDir: await makeModelsRoot(join(work, 'models'), alt), jpeg: false, ort: false, compressUpTo: 0, quiet: true });
}, 300_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** The Workers static-assets binding over the build folder. */
const ASSETS = {
  fetch: async (input: Request | string) => {
    const path = normalize(decodeURIComponent(new URL(typeof input === 'string' ? input : input.url).pathname));
    const file = join(out, path);
    return existsSync(file) && file.startsWith(out) ? new Response(new Uint8Array(await readFile(file))) : new Response('not found', { status: 404 });
  },
};

describe('an earlier model in the build and on the edge', () => {
  it('is copied to models/<prefix>/ and pinned in the worker bundle by its hashed names', async () => {
    const manifest = new Uint8Array(await readFile(join(alt.dir, 'manifest.json')));
    expect(new Uint8Array(await readFile(join(out, 'models', alt.prefix, 'manifest.json')))).toEqual(manifest);
    const lean = alt.manifest.lean!.file;
    expect(existsSync(join(out, 'models', alt.prefix, lean))).toBe(true);
    expect(existsSync(join(out, 'models', alt.prefix, 'encoder.onnx'))).toBe(false);
    const bundle = await readFile(join(out, 'mrt-worker.js'), 'utf8');
    expect(bundle).toContain(`"models/${alt.prefix}/manifest.json":"${hashedName(`models/${alt.prefix}/manifest.json`, manifest)}"`);
    expect(await readFile(join(out, '_headers'), 'utf8')).toMatch(/\/models\/:hash\/\*\n {2}Cache-Control: public, max-age=31536000, immutable/);
  });

  it('the Worker serves every shipped model at /models/<prefix>/FILE (the default too), immutable; another prefix is a 404', async () => {
    const def = JSON.parse(await readFile(join(MODELS_DIR, 'manifest.json'), 'utf8'));
    for (const [prefix, m] of [[alt.prefix, alt.manifest], [def.modelHash.slice(0, 8), def]] as const) {
      const res = await worker.fetch(new Request(`http://edge/models/${prefix}/manifest.json`), { ASSETS, IMAGES: null as never });
      expect(res.status, prefix).toBe(200);
      expect(res.headers.get('Cache-Control')).toBe('public, max-age=31536000, immutable');
      expect(((await res.json()) as { modelHash: string }).modelHash).toBe(m.modelHash);
    }
    const rcm = await worker.fetch(new Request(`http://edge/models/${alt.prefix}/rcm.json`), { ASSETS, IMAGES: null as never });
    expect(rcm.status).toBe(200);
    expect((await worker.fetch(new Request('http://edge/models/00000000/manifest.json'), { ASSETS, IMAGES: null as never })).status).toBe(404);
  });
});
