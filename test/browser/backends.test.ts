// The lean runtime (the default: our WASM SIMD kernels, int8 weights) and onnxruntime-web's
// WASM and WebGPU backends (runtime: 'ort') all produce the image, and it matches the Node
// decoder (onnxruntime-node, float32 weights) on the same stream. WebGPU in headless Chromium
// is SwiftShader (a CPU emulation, ~100x slower): a 64x64 image, correctness only.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFixture, ensureClient, haveKodak, haveModels, MODELS, type FixtureSpec } from './fixtures.ts';
import { capturePage, launchChromium, psnr, ROOT, startServer, testPage, type BrowserHandle, type TestServer } from './harness.ts';

const ready = haveModels() && haveKodak();
const TINY: FixtureSpec = { name: 'kodim01', crop: [0, 0, 64, 64], layersPerChunk: 64 };

async function nodeDecode(mrt: Uint8Array): Promise<Uint8Array> {
  const { decode, loadModels } = await import('../../src/encoder/index.ts');
  const models = await loadModels(MODELS.endsWith('/') ? MODELS : MODELS + '/');
  const r = await decode(mrt, { models });
  return r.image.data;
}

// Missing prerequisites fail the file loudly: these tests never skip themselves into green.
if (!ready) throw new Error('prerequisites missing (models/, ../shared/data/kodak, or the edge scripts): see README');
describe('ONNX backends in Chromium', () => {
  let srv: TestServer;
  let tiny: Uint8Array;
  let reference: Uint8Array;

  beforeAll(async () => {
    await ensureClient();
    tiny = await encodeFixture(TINY);
    reference = await nodeDecode(tiny);
    srv = await startServer();
    srv.streams.set('/i/tiny.mrt', { bytes: tiny });
  });
  afterAll(async () => {
    await srv?.close();
  });

  async function decodeIn(backend: 'wasm' | 'webgpu', runtime: 'lean' | 'ort' = 'ort'): Promise<{ backend: string; paints: any[]; pixels: number[]; errors: any[]; requests: string[] }> {
    const from = srv.log.length;
    const b: BrowserHandle = await launchChromium({ webgpu: backend === 'webgpu' });
    try {
      const page = await b.context.newPage();
      page.on('console', (m) => {
        if (m.type() === 'warning' || m.type() === 'error') console.log(`[${backend} page] ${m.text()}`);
      });
      srv.streams.set(
        `/t/${runtime}-${backend}.html`,
        {
          bytes: new TextEncoder().encode(
            capturePage(
              '/i/tiny.mrt',
              64,
              `<script type="module">customElements.whenDefined('mrt-img').then(() => customElements.get('mrt-img').configure({ backend: '${backend}', runtime: '${runtime}' }));</script>`,
            ),
          ),
        },
      );
      await page.goto(`${srv.url}/t/${runtime}-${backend}.html`);
      await page.waitForFunction(() => (window as any).pixels || (window as any).errors.length, null, { timeout: 240_000, polling: 250 });
      const r = await page.evaluate(() => ({ backend: (window as any).backend, paints: (window as any).paints, pixels: (window as any).pixels ?? [], errors: (window as any).errors }));
      return { ...r, requests: srv.log.slice(from).map((e) => e.path) };
    } finally {
      await b.close();
    }
  }

  it('the lean runtime (default) decodes the image on WASM, close to the Node decoder, and loads none of onnxruntime-web', async () => {
    const r = await decodeIn('wasm', 'lean');
    expect(r.errors).toEqual([]);
    expect(r.backend).toBe('wasm');
    const ml = r.paints.filter((p) => p.kind === 'ml');
    expect(ml.length).toBeGreaterThanOrEqual(1);
    // the last learned paint has the tail basis (an interim one does not)
    expect(ml[ml.length - 1].interim).toBeUndefined();
    // int8 weights against float32 ones: close, not equal (bench/lean-decoder.ts measures the cost)
    const q = psnr(r.pixels, 4, reference, 3, 64 * 64);
    console.log(`[lean] PSNR vs onnxruntime-node: ${q.toFixed(2)} dB`);
    expect(q).toBeGreaterThan(35);
    expect(r.requests.some((p) => /mrt-kernels\.[0-9a-f]+\.wasm$/.test(p))).toBe(true);
    expect(r.requests.some((p) => /decoder-lean\.[0-9a-f]+\.bin$/.test(p))).toBe(true);
    expect(r.requests.filter((p) => /ort|\.onnx/.test(p))).toEqual([]);
  });

  it('onnxruntime-web WASM decodes the image (matches the Node decoder)', async () => {
    const r = await decodeIn('wasm');
    expect(r.errors).toEqual([]);
    expect(r.backend).toBe('wasm');
    const ml = r.paints.filter((p) => p.kind === 'ml');
    expect(ml.length).toBeGreaterThanOrEqual(1);
    expect(ml[ml.length - 1].backend).toBe('wasm');
    const q = psnr(r.pixels, 4, reference, 3, 64 * 64);
    console.log(`[wasm] PSNR vs onnxruntime-node: ${q.toFixed(2)} dB`);
    expect(q).toBeGreaterThan(35);
  });

  it('onnxruntime-web WebGPU (SwiftShader) decodes the same image', async () => {
    const r = await decodeIn('webgpu');
    expect(r.errors).toEqual([]);
    expect(r.backend).toBe('webgpu');
    const ml = r.paints.filter((p) => p.kind === 'ml');
    expect(ml.length).toBeGreaterThanOrEqual(1);
    expect(ml[ml.length - 1].backend).toBe('webgpu');
    const q = psnr(r.pixels, 4, reference, 3, 64 * 64);
    console.log(`[webgpu] PSNR vs onnxruntime-node: ${q.toFixed(2)} dB`);
    expect(q).toBeGreaterThan(35);
  }, 300_000);

  /**
   * Paints the tiny stream in a fresh Chromium (no WebGPU adapter) with `config`, from `on`
   * (default: the test server): backend, paints, errors, console warnings, the page's workers' URLs.
   */
  async function paintWith(
    name: string,
    config: object,
    launch: { webgpu?: boolean } = {},
    on: TestServer = srv,
  ): Promise<{ backend: string; isolated: boolean; paints: any[]; errors: any[]; warnings: string[]; workers: string[] }> {
    const b = await launchChromium(launch);
    try {
      const page = await b.context.newPage();
      const warnings: string[] = [];
      const workers: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'warning') warnings.push(m.text());
      });
      page.on('worker', (w) => workers.push(w.url()));
      on.streams.set(`/t/${name}.html`, {
        bytes: new TextEncoder().encode(
          testPage(
            `<mrt-img id="m" src="/i/tiny.mrt" width="64" height="64" alt="tiny" budget="full"></mrt-img>
             <script type="module">
               const m = document.getElementById('m');
               window.paints = []; window.errors = [];
               window.isolated = crossOriginIsolated;
               m.addEventListener('paint', (e) => window.paints.push(e.detail));
               m.addEventListener('error', (e) => window.errors.push(e.detail));
               m.addEventListener('load', () => (window.loaded = true));
               customElements.get('mrt-img').backend().then((x) => (window.backend = x));
             </script>`,
            `<script type="module">customElements.whenDefined('mrt-img').then(() => customElements.get('mrt-img').configure(${JSON.stringify(config)}));</script>`,
          ),
        ),
      });
      await page.goto(`${on.url}/t/${name}.html`);
      await page.waitForFunction(() => (window as any).loaded || (window as any).errors.length, null, { timeout: 60_000 });
      const r = await page.evaluate(() => ({ backend: (window as any).backend, isolated: (window as any).isolated, paints: (window as any).paints, errors: (window as any).errors }));
      return { ...r, warnings, workers };
    } finally {
      await b.close();
    }
  }

  it('backend "webgpu" without an adapter falls back to WASM and still paints', async () => {
    const r = await paintWith('gpu-fallback', { backend: 'webgpu', runtime: 'ort' });
    expect(r.errors).toEqual([]);
    expect(r.backend).toBe('wasm');
    expect(r.paints.some((p: any) => p.kind === 'ml' && p.backend === 'wasm')).toBe(true);
  });

  it('wasmThreads above 1 on a page that is not cross-origin isolated: 1 thread, a console warning saying why, and the image still paints', async () => {
    const r = await paintWith('threads', { backend: 'wasm', wasmThreads: 2, runtime: 'ort' });
    expect(r.isolated).toBe(false);
    expect(r.errors).toEqual([]);
    expect(r.paints.some((p: any) => p.kind === 'ml' && p.backend === 'wasm')).toBe(true);
    expect(r.warnings.some((w) => /wasmThreads 2 needs a cross-origin isolated page/.test(w))).toBe(true);
  });

  it('wasmThreads 2 on a cross-origin isolated page: onnxruntime-web starts its thread worker from the checked glue (a blob: URL) and paints', async () => {
    const iso = await startServer({ isolate: true });
    try {
      iso.streams.set('/i/tiny.mrt', { bytes: tiny });
      const r = await paintWith('threads-isolated', { backend: 'wasm', wasmThreads: 2, runtime: 'ort' }, {}, iso);
      expect(r.isolated).toBe(true);
      expect(r.errors).toEqual([]);
      expect(r.paints.some((p: any) => p.kind === 'ml' && p.backend === 'wasm')).toBe(true);
      // the decode worker, and one thread worker besides the calling thread
      // the decode worker; its one-line probe that blob: workers may start; onnxruntime-web's thread worker
      const blob = expect.stringMatching(new RegExp(`^blob:${iso.url}/`));
      expect(r.workers).toEqual([`${iso.url}/mrt-worker.js`, blob, blob]);
      expect(r.warnings.filter((w) => /thread/i.test(w))).toEqual([]);
    } finally {
      await iso.close();
    }
  });

  it('backend "auto" with only a software WebGPU adapter (SwiftShader) uses WASM and says why on the console', async () => {
    // --enable-unsafe-webgpu gives headless Chromium SwiftShader: minutes per 768x512 run
    const r = await paintWith('auto-swiftshader', { backend: 'auto', runtime: 'ort' }, { webgpu: true });
    expect(r.errors).toEqual([]);
    expect(r.backend).toBe('wasm');
    expect(r.paints.some((p: any) => p.kind === 'ml' && p.backend === 'wasm')).toBe(true);
    expect(r.paints.some((p: any) => p.backend === 'webgpu')).toBe(false);
    expect(r.warnings.some((w) => /webgpu skipped: the WebGPU adapter is a (fallback adapter|software renderer) \(.*swiftshader.*\).*decoding on wasm/i.test(w))).toBe(true);
  });

  it('ortBase and modelBase on other folders (a CDN copy of onnxruntime-web, another model folder): the plain names there, nothing from assets/', async () => {
    srv.mounts.set('/cdn-ort/', join(ROOT, 'node_modules/onnxruntime-web/dist/'));
    srv.mounts.set('/other-models/', MODELS + '/');
    const from = srv.log.length;
    const r = await paintWith('other-bases', { backend: 'wasm', runtime: 'ort', ortBase: '/cdn-ort/', modelBase: '/other-models/' });
    expect(r.errors).toEqual([]);
    expect(r.paints.some((p: any) => p.kind === 'ml' && p.backend === 'wasm')).toBe(true);
    const paths = srv.log.slice(from).map((e) => e.path);
    for (const p of ['/cdn-ort/ort.wasm.min.mjs', '/cdn-ort/ort-wasm-simd-threaded.mjs', '/cdn-ort/ort-wasm-simd-threaded.wasm', '/other-models/manifest.json', '/other-models/rcm.json']) expect(paths).toContain(p);
    expect(paths.filter((p) => p.startsWith('/assets/') || p.startsWith('/models/') || /^\/ort[.-]/.test(p))).toEqual([]);
  });

  it('the lean runtime with WebGPU asked for where the browser has no adapter: paints on WASM and says why', async () => {
    // (WebGPU on SwiftShader, 'auto' with it, and a lost device: test/browser/lean-webgpu.test.ts)
    const r = await paintWith('lean-webgpu', { backend: 'webgpu' });
    expect(r.errors).toEqual([]);
    expect(r.backend).toBe('wasm');
    expect(r.paints.some((p: any) => p.kind === 'ml' && p.backend === 'wasm')).toBe(true);
    expect(r.warnings.some((w) => /webgpu failed \(decoder-lean\.bin\): the browser gives no WebGPU adapter; decoding on wasm/.test(w))).toBe(true);
  });

  it('a lost WebGPU device: the page switches to WASM, says why, and the image goes on painting', async () => {
    const b = await launchChromium({ webgpu: true });
    try {
      const page = await b.context.newPage();
      const warnings: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'warning') warnings.push(m.text());
      });
      srv.streams.set('/t/lost.html', {
        bytes: new TextEncoder().encode(
          testPage(
            `<mrt-img id="m" src="/i/tiny.mrt" width="64" height="64" alt="tiny" budget="q1" refine="none"></mrt-img>
             <script type="module">
               const m = document.getElementById('m');
               window.paints = []; window.errors = []; window.loads = 0;
               m.addEventListener('paint', (e) => window.paints.push(e.detail));
               m.addEventListener('error', (e) => window.errors.push(e.detail));
               m.addEventListener('load', () => window.loads++);
             </script>`,
            // the decode worker, for the test hook that destroys its GPU device
            `<script>const W = Worker; window.Worker = class extends W { constructor(...a) { super(...a); window.decodeWorker = this; } };</script>
             <script type="module">customElements.whenDefined('mrt-img').then(() => customElements.get('mrt-img').configure({ backend: 'webgpu', runtime: 'ort' }));</script>`,
          ),
        ),
      });
      await page.goto(`${srv.url}/t/lost.html`);
      await page.waitForFunction(() => (window as any).loads === 1 || (window as any).errors.length, null, { timeout: 120_000 });
      const before = await page.evaluate(() => (window as any).paints.filter((p: any) => p.kind === 'ml'));
      expect(before.length).toBeGreaterThanOrEqual(1);
      expect(before.every((p: any) => p.backend === 'webgpu')).toBe(true);
      await page.evaluate(() => (window as any).decodeWorker.postMessage({ type: 'lose-device' }));
      await expect.poll(() => warnings.some((w) => /GPU device was lost.*decoding on wasm/.test(w)), { timeout: 10_000 }).toBe(true);
      await page.evaluate(() => (document.getElementById('m') as any).refine());
      await page.waitForFunction(() => (window as any).loads === 2 || (window as any).errors.length, null, { timeout: 60_000 });
      const r = await page.evaluate(() => ({ paints: (window as any).paints, errors: (window as any).errors }));
      expect(r.errors).toEqual([]);
      const after = r.paints.filter((p: any) => p.kind === 'ml').slice(before.length);
      expect(after.length).toBeGreaterThanOrEqual(1);
      expect(after.every((p: any) => p.backend === 'wasm')).toBe(true);
    } finally {
      await b.close();
    }
  }, 180_000);

  it('backend "auto" without a WebGPU adapter uses WASM', async () => {
    // Chromium without --enable-unsafe-webgpu exposes no adapter in headless mode.
    const b = await launchChromium();
    try {
      const page = await b.context.newPage();
      srv.streams.set('/t/auto.html', {
        bytes: new TextEncoder().encode(
          testPage(`<mrt-img id="m" src="/i/tiny.mrt" width="64" height="64" alt="tiny" budget="full"></mrt-img>
            <script type="module">customElements.get('mrt-img').backend().then((x) => (window.backend = x));
              window.gpu = !!(navigator.gpu && await navigator.gpu.requestAdapter().catch(() => null));</script>`),
        ),
      });
      await page.goto(`${srv.url}/t/auto.html`);
      await page.waitForFunction(() => (window as any).backend !== undefined, null, { timeout: 60_000 });
      const r = await page.evaluate(() => ({ backend: (window as any).backend, gpu: (window as any).gpu }));
      expect(r.gpu).toBe(false);
      expect(r.backend).toBe('wasm');
    } finally {
      await b.close();
    }
  });
});
