// Integrity of the model and runtime files (src/client/integrity.ts): the build's own files
// are pinned by their content-hashed names; another model folder or a CDN copy of the
// runtime is pinned by the page's `integrity` setting; a file that does not match its pin
// is never used (fatal error event, the fallback shows).
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFixture, ensureClient, haveKodak, haveModels, MODELS, type FixtureSpec } from './fixtures.ts';
import { DIST, launchChromium, ROOT, startServer, testPage, type BrowserHandle, type TestServer } from './harness.ts';

const ready = haveModels() && haveKodak();
const TINY: FixtureSpec = { name: 'kodim01', crop: [0, 0, 64, 64], layersPerChunk: 64 };
const sri = (b: Uint8Array) => `sha256-${createHash('sha256').update(b).digest('base64')}`;

if (!ready) throw new Error('prerequisites missing (models/ or ../shared/data/kodak): see README');
describe('model and runtime integrity', () => {
  let srv: TestServer;
  let browser: BrowserHandle;
  let manifest: Uint8Array;

  beforeAll(async () => {
    await ensureClient();
    srv = await startServer();
    srv.streams.set('/i/tiny.mrt', { bytes: await encodeFixture(TINY) });
    manifest = new Uint8Array(await readFile(join(MODELS, 'manifest.json')));
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await srv?.close();
  });

  /** The element's events and the console warnings of a page with these settings. */
  async function run(name: string, config: Record<string, unknown>): Promise<{ ev: any[]; state: string | null; warnings: string[] }> {
    srv.streams.set(`/t/${name}.html`, {
      bytes: new TextEncoder().encode(
        testPage(
          `<mrt-img id="m" src="/i/tiny.mrt" width="64" height="64" alt="tiny" budget="full"></mrt-img>
           <script type="module">const m = document.getElementById('m'); window.ev = [];
             for (const t of ['paint', 'load', 'error']) m.addEventListener(t, (e) => window.ev.push({ type: t, ...e.detail }));</script>`,
          `<script type="module">customElements.whenDefined('mrt-img').then(() => customElements.get('mrt-img').configure(${JSON.stringify({ backend: 'wasm', ...config })}));</script>`,
        ),
      ),
    });
    const page = await browser.context.newPage();
    const warnings: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'warning') warnings.push(m.text());
    });
    try {
      await page.goto(`${srv.url}/t/${name}.html`);
      await page.waitForFunction(() => (window as any).ev.some((e: any) => e.type === 'load' || e.type === 'error'), null, { timeout: 90_000 });
      return { ev: await page.evaluate(() => (window as any).ev), state: await page.evaluate(() => document.getElementById('m')!.getAttribute('data-state')), warnings };
    } finally {
      await page.close();
    }
  }

  const hashed = async (prefix: string, ext: string) => (await readdir(join(DIST, 'assets'))).find((f) => f.startsWith(prefix + '.') && f.endsWith(ext) && f.split('.').length === prefix.split('.').length + 2)!;

  it("the build's own files: a manifest.json that is not the one the build named is refused", async () => {
    const name = await hashed('manifest', '.json');
    const tampered = JSON.parse(new TextDecoder().decode(manifest));
    tampered.id = 'tampered';
    srv.streams.set(`/assets/${name}`, { bytes: new TextEncoder().encode(JSON.stringify(tampered)) });
    try {
      const r = await run('own-manifest', {});
      expect(r.ev.filter((e) => e.type === 'error')).toEqual([
        expect.objectContaining({ code: 'model-hash', fatal: true, message: expect.stringMatching(/^manifest\.json \(.*\) does not match the digest pinned by this build: got sha256 [0-9a-f]{64}, expected [0-9a-f]{64}$/) }),
      ]);
      expect(r.ev.some((e) => e.kind === 'ml')).toBe(false);
      expect(r.state).toBe('fallback');
    } finally {
      srv.streams.delete(`/assets/${name}`);
    }
  });

  for (const [runtime, file] of [['lean', 'mrt-kernels'], ['ort', 'ort-wasm-simd-threaded']] as const) {
    it(`the build's own files: a runtime .wasm that is not the one the build named never runs (runtime '${runtime}')`, async () => {
      const name = await hashed(file, '.wasm');
      const wasm = new Uint8Array(await readFile(join(DIST, 'assets', name)));
      wasm[wasm.length - 1] ^= 1;
      srv.streams.set(`/assets/${name}`, { bytes: wasm });
      try {
        const r = await run(`own-wasm-${runtime}`, { runtime });
        expect(r.ev.filter((e) => e.type === 'error')).toEqual([
          expect.objectContaining({ code: 'runtime', fatal: true, message: expect.stringMatching(new RegExp(`^${file.replace(/\./g, '\\.')}\\.wasm \\(.*\\) does not match the digest pinned`)) }),
        ]);
        expect(r.ev.some((e) => e.kind === 'ml')).toBe(false);
      } finally {
        srv.streams.delete(`/assets/${name}`);
      }
    });
  }

  /** onnxruntime-web module `bytes` with a first line that, if it ever runs, asks the server for /tampered-ran/`file`. */
  const beaconed = (bytes: Uint8Array, file: string) => new Uint8Array([...new TextEncoder().encode(`fetch('/tampered-ran/${file}');\n`), ...bytes]);
  const beacons = (from: number) => srv.log.slice(from).filter((e) => e.path.startsWith('/tampered-ran/')).map((e) => e.path);

  for (const file of ['ort.wasm.min', 'ort-wasm-simd-threaded'] as const) {
    it(`the build's own files: an onnxruntime-web module (${file}.mjs) that is not the one the build named never runs (runtime 'ort')`, async () => {
      const name = await hashed(file, '.mjs');
      const from = srv.log.length;
      srv.streams.set(`/assets/${name}`, { bytes: beaconed(new Uint8Array(await readFile(join(DIST, 'assets', name))), `${file}.mjs`) });
      try {
        const r = await run(`own-mjs-${file}`, { runtime: 'ort' });
        expect(r.ev.filter((e) => e.type === 'error')).toEqual([
          expect.objectContaining({
            code: 'runtime',
            fatal: true,
            message: expect.stringMatching(new RegExp(`^${file.replace(/\./g, '\\.')}\\.mjs \\(.*/assets/${name.replace(/\./g, '\\.')}\\) does not match the digest pinned by this build: got sha256 [0-9a-f]{64}, expected [0-9a-f]{64}$`)),
          }),
        ]);
        expect(r.ev.some((e) => e.kind === 'ml')).toBe(false);
        expect(beacons(from)).toEqual([]);
      } finally {
        srv.streams.delete(`/assets/${name}`);
      }
    });
  }

  it('another model folder and a CDN copy of the lean runtime: checked against the digests the page sets', async () => {
    srv.mounts.set('/cdn-lean/', DIST + '/');
    srv.mounts.set('/other-models/', MODELS + '/');
    const kernels = new Uint8Array(await readFile(join(DIST, 'mrt-kernels.wasm')));
    const bases = { ortBase: '/cdn-lean/', modelBase: '/other-models/' };
    const good = await run('pinned-lean', { ...bases, integrity: { 'manifest.json': sri(manifest), 'mrt-kernels.wasm': sri(kernels) } });
    expect(good.ev.filter((e) => e.type === 'error')).toEqual([]);
    expect(good.ev).toContainEqual(expect.objectContaining({ type: 'paint', kind: 'ml' }));
    expect(good.warnings.filter((w) => /not pinned/.test(w))).toEqual([]);

    const bad = await run('mispinned-lean', { ...bases, integrity: { 'manifest.json': sri(manifest), 'mrt-kernels.wasm': sri(new TextEncoder().encode('other kernels')) } });
    expect(bad.ev.filter((e) => e.type === 'error')).toEqual([
      expect.objectContaining({ code: 'runtime', fatal: true, message: expect.stringMatching(/^mrt-kernels\.wasm \(.*\/cdn-lean\/mrt-kernels\.wasm\) does not match the digest pinned by the page settings/) }),
    ]);

    const unpinned = await run('unpinned-lean', bases);
    expect(unpinned.ev).toContainEqual(expect.objectContaining({ type: 'paint', kind: 'ml' }));
    expect(unpinned.warnings.some((w) => /mrt-kernels\.wasm \(.*\/cdn-lean\/.*\) is not pinned/.test(w))).toBe(true);
  }, 180_000);

  it('another model folder and a CDN copy of onnxruntime-web (runtime ort): checked against the digests the page sets', async () => {
    srv.mounts.set('/cdn-ort/', join(ROOT, 'node_modules/onnxruntime-web/dist/'));
    srv.mounts.set('/other-models/', MODELS + '/');
    const ortFile = (f: string) => readFile(join(ROOT, 'node_modules/onnxruntime-web/dist', f)).then((b) => new Uint8Array(b));
    const runtimeFiles = ['ort.wasm.min.mjs', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm'];
    const pins = Object.fromEntries(await Promise.all(runtimeFiles.map(async (f) => [f, sri(await ortFile(f))])));
    const bases = { runtime: 'ort', ortBase: '/cdn-ort/', modelBase: '/other-models/' };
    const good = await run('pinned', { ...bases, integrity: { 'manifest.json': sri(manifest), ...pins } });
    expect(good.ev.filter((e) => e.type === 'error')).toEqual([]);
    expect(good.ev).toContainEqual(expect.objectContaining({ type: 'paint', kind: 'ml' }));
    expect(good.warnings.filter((w) => /not pinned/.test(w))).toEqual([]);

    // a module that is not the pinned one: refused before it runs, named with both digests
    const mjs = await ortFile('ort.wasm.min.mjs');
    const from = srv.log.length;
    srv.streams.set('/cdn-ort/ort.wasm.min.mjs', { bytes: beaconed(mjs, 'ort.wasm.min.mjs') });
    try {
      const swapped = await run('swapped-mjs', { ...bases, integrity: { 'manifest.json': sri(manifest), ...pins } });
      expect(swapped.ev.filter((e) => e.type === 'error')).toEqual([
        expect.objectContaining({ code: 'runtime', fatal: true, message: expect.stringMatching(/^ort\.wasm\.min\.mjs \(.*\/cdn-ort\/ort\.wasm\.min\.mjs\) does not match the digest pinned by the page settings \(integrity\): got sha256 [0-9a-f]{64}, expected [0-9a-f]{64}$/) }),
      ]);
      expect(swapped.ev.some((e) => e.kind === 'ml')).toBe(false);
      expect(beacons(from)).toEqual([]);
      // the same file unpinned runs (with a warning): the beacon above would have been seen
      const unpinnedMjs = await run('unpinned-mjs', bases);
      expect(unpinnedMjs.ev).toContainEqual(expect.objectContaining({ type: 'paint', kind: 'ml' }));
      expect(unpinnedMjs.warnings.some((w) => /ort\.wasm\.min\.mjs \(.*\/cdn-ort\/.*\) is not pinned/.test(w))).toBe(true);
      expect(beacons(from)).toEqual(['/tampered-ran/ort.wasm.min.mjs']);
    } finally {
      srv.streams.delete('/cdn-ort/ort.wasm.min.mjs');
    }

    const bad = await run('mispinned', { ...bases, integrity: { 'manifest.json': sri(new TextEncoder().encode('another manifest')) } });
    expect(bad.ev.filter((e) => e.type === 'error')).toEqual([
      expect.objectContaining({ code: 'model-hash', fatal: true, message: expect.stringMatching(/^manifest\.json \(.*\/other-models\/manifest\.json\) does not match the digest pinned by the page settings/) }),
    ]);
    expect(bad.state).toBe('fallback');

    const unpinned = await run('unpinned', bases);
    expect(unpinned.ev).toContainEqual(expect.objectContaining({ type: 'paint', kind: 'ml' }));
    expect(unpinned.warnings.some((w) => /manifest\.json \(.*\/other-models\/manifest\.json\) is not pinned/.test(w))).toBe(true);
    for (const f of runtimeFiles) expect(unpinned.warnings.some((w) => w.includes(`${f} (${srv.url}/cdn-ort/${f}) is not pinned`))).toBe(true);

    const malformed = await run('malformed', { ...bases, integrity: { 'manifest.json': 'md5-abc' } });
    expect(malformed.ev.filter((e) => e.type === 'error')).toEqual([expect.objectContaining({ code: 'model', fatal: true, message: expect.stringMatching(/integrity for manifest\.json is not a sha256/) })]);
  }, 180_000);
});
