// A file encoded with a model that is no longer the page's default (an earlier shipped
// model, in models/<hash prefix>/ of the build): <mrt-img> loads that model for it alone and
// paints its learned pixels beside an image of the default model on the same page; when that
// model cannot be had, the image stops at what it has with an error event naming the hash.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildClient, hashedName } from '../../scripts/build-client.ts';
import { decodeMrt, REGENERATE_BY_DEFAULT } from '../../src/codec/index.ts';
import { decode, encode, loadModels, type Models } from '../../src/encoder/index.ts';
import { decoderInputs } from '../../src/encoder/decode.ts';
import { runDecoder } from '../../src/encoder/models.ts';
import { chwToPixels } from '../../src/model/io.ts';
import { makeAltModel, makeModelsRoot, MODELS_DIR, type AltModel } from '../models/alt-model.ts';
import { haveKodak, haveModels } from './fixtures.ts';
import { KODAK, launchChromium, psnr, startServer, testPage, type BrowserHandle, type TestServer } from './harness.ts';

if (!haveModels() || !haveKodak()) throw new Error('prerequisites missing (models/ or ../shared/data/kodak): see README');

const SIZE = 64;

describe('a file of an earlier model', () => {
  let work: string;
  let alt: AltModel;
  let altModels: Models;
  let defaults: Models;
  let altMrt: Uint8Array;
  let defMrt: Uint8Array;
  let srv: TestServer;
  let browser: BrowserHandle;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'mrt-browser-versions-'));
    alt = await makeAltModel(join(work, 'alt'));
    const root = await makeModelsRoot(join(work, 'models'), alt);
    // the client as a deployment builds it once the default changed: the earlier model in models/<prefix>/
    const out = await buildClient({ out: join(work, 'client'), modelsDir: root, jpeg: false, ort: false, compressUpTo: 0, quiet: true });
    [altModels, defaults] = await Promise.all([loadModels(alt.dir), loadModels()]);
    const png = new Uint8Array(await sharp(join(KODAK, 'kodim23.png')).extract({ left: 200, top: 100, width: SIZE, height: SIZE }).png().toBuffer());
    altMrt = await encode(png, { models: altModels, final: 'none' });
    defMrt = await encode(png, { models: defaults, final: 'none' });
    srv = await startServer({ root: out });
    srv.mounts.set('/other-models/', join(out, 'models') + '/');
    srv.streams.set('/i/alt.mrt', { bytes: altMrt });
    srv.streams.set('/i/def.mrt', { bytes: defMrt });
    browser = await launchChromium();
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await srv?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** Loads a page with one element per src; returns each one's paints, errors, final state and canvas pixels. */
  async function run(name: string, srcs: string[], config: Record<string, unknown> = {}): Promise<Record<string, { paints: any[]; errors: any[]; state: string | null; pixels: number[] | null }>> {
    const els = srcs.map((s, i) => `<mrt-img id="m${i}" src="${s}" width="${SIZE}" height="${SIZE}" alt="t" budget="full"></mrt-img>`).join('');
    srv.streams.set(`/t/${name}.html`, {
      bytes: new TextEncoder().encode(
        testPage(
          `${els}<script type="module">
            window.rec = {};
            document.querySelectorAll('mrt-img').forEach((m) => {
              const r = (window.rec[m.getAttribute('src')] = { paints: [], errors: [], done: false, pixels: null });
              m.addEventListener('paint', (e) => r.paints.push(e.detail));
              m.addEventListener('error', (e) => { r.errors.push(e.detail); r.done = true; });
              m.addEventListener('load', () => {
                const c = m.canvasElement;
                r.pixels = Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data);
                r.done = true;
              });
            });
          </script>`,
          `<script type="module">customElements.whenDefined('mrt-img').then(() => customElements.get('mrt-img').configure(${JSON.stringify({ backend: 'wasm', ...config })}));</script>`,
        ),
      ),
    });
    const page = await browser.context.newPage();
    try {
      await page.goto(`${srv.url}/t/${name}.html`);
      await page.waitForFunction(() => Object.values((window as any).rec).every((r: any) => r.done), null, { timeout: 120_000 });
      await page.waitForTimeout(300);
      const rec = await page.evaluate(() => (window as any).rec);
      const out: Record<string, any> = {};
      for (const [i, s] of srcs.entries()) out[s] = { ...rec[s], state: await page.evaluate((id) => document.getElementById(id)!.getAttribute('data-state'), `m${i}`) };
      expect(await page.evaluate(() => (window as any).__rejections)).toEqual([]);
      return out;
    } finally {
      await page.close();
    }
  }

  /** What a decoder paints from the whole stream's tokens, as RGB. */
  async function nodePaint(m: Models, mrt: Uint8Array): Promise<Uint8Array> {
    const sd = decodeMrt(mrt, { rcm: m.rcm });
    const { g, z, mask, base } = await decoderInputs(m, sd.header!, sd, REGENERATE_BY_DEFAULT);
    return Uint8Array.from(chwToPixels(await runDecoder(m, z, mask, base, g), g.paddedW, g.paddedH, g.width, g.height, 3));
  }

  it('paints learned pixels of its own model, beside an image of the default model on the same page', async () => {
    const r = await run('two-models', ['/i/alt.mrt', '/i/def.mrt']);
    for (const s of ['/i/alt.mrt', '/i/def.mrt']) {
      expect(r[s]!.errors, s).toEqual([]);
      expect(r[s]!.paints.some((p) => p.kind === 'ml'), s).toBe(true);
    }
    const px = r['/i/alt.mrt']!.pixels!;
    const own = (await decode(altMrt, { models: altModels })).image.data;
    // the same tokens through the default model's decoder: what a wrong decode would paint
    const wrong = await nodePaint(defaults, altMrt);
    const pOwn = psnr(px, 4, own, 3, SIZE * SIZE);
    const pWrong = psnr(px, 4, wrong, 3, SIZE * SIZE);
    console.log(`[model-versions] the earlier model's image: PSNR ${pOwn.toFixed(2)} dB against its model in Node, ${pWrong.toFixed(2)} dB against the default decoder on its tokens`);
    expect(pOwn).toBeGreaterThan(35);
    expect(pOwn - pWrong).toBeGreaterThan(10);
    // and the default model's image is the default model's
    expect(psnr(r['/i/def.mrt']!.pixels!, 4, (await decode(defMrt, { models: defaults })).image.data, 3, SIZE * SIZE)).toBeGreaterThan(35);
    // the earlier model's files came from the build's pinned copies of models/<prefix>/
    const manifest = new Uint8Array(await readFile(join(alt.dir, 'manifest.json')));
    expect(srv.log.some((e) => e.path === `/${hashedName(`models/${alt.prefix}/manifest.json`, manifest)}` && e.status === 200)).toBe(true);
  }, 180_000);

  it('its model missing (404): the placeholder paints, then no learned paint and one fatal error event naming the hash (the element falls back as for any unavailable model)', async () => {
    const manifest = new Uint8Array(await readFile(join(alt.dir, 'manifest.json')));
    const path = `/${hashedName(`models/${alt.prefix}/manifest.json`, manifest)}`;
    srv.missing.add(path);
    try {
      const r = (await run('missing-model', ['/i/alt.mrt']))['/i/alt.mrt']!;
      expect(r.paints.map((p) => p.kind)).toEqual(['placeholder']);
      expect(r.state).toBe('fallback');
      expect(r.errors).toEqual([
        expect.objectContaining({ code: 'model-hash', fatal: true, message: expect.stringMatching(new RegExp(`^stream needs model with hash ${alt.prefix}, not the page's model ${defaults.manifest.id} \\(hash differs\\), and that model cannot be loaded from .*/models/${alt.prefix}/: .*HTTP 404`)) }),
      ]);
    } finally {
      srv.missing.delete(path);
    }
  }, 180_000);

  it('a model folder outside the build: the earlier model is checked against the integrity the page sets for <prefix>/manifest.json', async () => {
    const sri = (b: Uint8Array) => `sha256-${createHash('sha256').update(b).digest('base64')}`;
    const pins = { 'manifest.json': sri(new Uint8Array(await readFile(join(MODELS_DIR, 'manifest.json')))) };
    const altPin = sri(new Uint8Array(await readFile(join(alt.dir, 'manifest.json'))));
    const good = (await run('pinned-elsewhere', ['/i/alt.mrt'], { modelBase: '/other-models/', integrity: { ...pins, [`${alt.prefix}/manifest.json`]: altPin } }))['/i/alt.mrt']!;
    expect(good.errors).toEqual([]);
    expect(good.paints.some((p) => p.kind === 'ml')).toBe(true);
    const bad = (await run('mispinned-elsewhere', ['/i/alt.mrt'], { modelBase: '/other-models/', integrity: { ...pins, [`${alt.prefix}/manifest.json`]: pins['manifest.json'] } }))['/i/alt.mrt']!;
    expect(bad.paints.some((p) => p.kind === 'ml')).toBe(false);
    expect(bad.errors).toEqual([
      expect.objectContaining({ code: 'model-hash', fatal: true, message: expect.stringMatching(new RegExp(`cannot be loaded from .*/other-models/${alt.prefix}/: ${alt.prefix}/manifest\\.json \\(.*\\) does not match the digest pinned by the page settings`)) }),
    ]);
  }, 180_000);
});
