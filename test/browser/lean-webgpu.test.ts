// The lean decoder on WebGPU (src/model/lean/gpu.ts, WGSL kernels): in headless Chromium the
// only adapter is SwiftShader (a CPU emulation, ~100x slower than a GPU), so GPU runs are
// small images, for correctness only; no speed is measured here.
//   (a) LeanGpuDecoder in a page matches the WASM LeanDecoder and onnxruntime-web on the same
//       dequantised weights (the parity oracle) on real decoder inputs, 64x64 and 96x64
//   (b) backend 'webgpu' paints through the element on WebGPU, matching the WASM paint
//   (c) 'auto' with only the software adapter decodes on WASM and says why
//   (d) a lost device: the page repaints on the lean WASM runtime
//   (e) 'auto' at 768x512 with the software adapter paints as soon as without WebGPU
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeMrt, REGENERATE_BY_DEFAULT } from '../../src/codec/index.ts';
import { decoderInputs } from '../../src/encoder/decode.ts';
import { loadModels, type Models } from '../../src/encoder/index.ts';
import { TailSynthesis } from '../../src/model/tail.ts';
import * as ort from 'onnxruntime-web';
import { loadParityDecoders, type ParityDecoders } from '../../bench/lib/lean-parity.ts';
import { encodeFixture, ensureClient, haveKodak, haveModels, MODELS, type FixtureSpec } from './fixtures.ts';
import { launchChromium, psnr, ROOT, startServer, testPage, type TestServer } from './harness.ts';

const ready = haveModels() && haveKodak();
if (!ready) throw new Error('prerequisites missing (models/, ../shared/data/kodak): see README');

const SMALL: FixtureSpec[] = [
  { name: 'kodim01', crop: [0, 0, 64, 64], layersPerChunk: 64 },
  { name: 'kodim23', crop: [200, 100, 96, 64], layersPerChunk: 64 },
];
const BIG: FixtureSpec = { name: 'kodim23', layersPerChunk: 64 };

/** The page script of (a): LeanGpuDecoder on the page's adapter, fed the inputs it is given. */
const GPU_ENTRY = `
import { LeanGpuDecoder } from './src/model/lean/gpu.ts';
import { parsePreview } from './src/model/preview.ts';
window.runGpu = async (sets) => {
  const adapter = await navigator.gpu.requestAdapter();
  const device = await adapter.requestDevice();
  const get = async (u) => new Uint8Array(await (await fetch(u)).arrayBuffer());
  const t0 = performance.now();
  const d = await LeanGpuDecoder.create(await get('/models/decoder-lean.bin'), device, { preview: parsePreview(await get('/models/preview.bin')) });
  const createMs = performance.now() - t0;
  const out = [];
  for (const feeds of sets) {
    const f = Object.fromEntries(Object.entries(feeds).map(([n, v]) => [n, { data: new Float32Array(v.data), dims: v.dims }]));
    const t1 = performance.now();
    const r = await d.run(f);
    out.push({ data: Array.from(r.data), dims: r.dims, ms: performance.now() - t1 });
  }
  const info = adapter.info ? [adapter.info.vendor, adapter.info.architecture, adapter.info.description].join(' ') : '';
  d.destroy();
  // a device whose storage buffers are too small for a 768x512 run (not for the weights):
  // the run fails with the numbers before anything is allocated or dispatched
  const limits = { ...Object.fromEntries(Object.keys(Object.getPrototypeOf(device.limits)).map((k) => [k, device.limits[k]])), maxStorageBufferBindingSize: 8 << 20 };
  const small = new Proxy(device, { get: (t, k) => (k === 'limits' ? limits : typeof t[k] === 'function' ? t[k].bind(t) : t[k]) });
  const d2 = await LeanGpuDecoder.create(await get('/models/decoder-lean.bin'), small, { preview: parsePreview(await get('/models/preview.bin')) });
  const zeros = (dims) => ({ data: new Float32Array(dims.reduce((a, b) => a * b, 1)), dims });
  let limitError = '';
  try {
    await d2.run({ z: zeros([1, 512, 16, 24]), mask: zeros([1, 512, 16, 24]), base: zeros([1, 3, 32, 48]), tail: zeros([1, 3072, 16, 24]) });
  } catch (e) {
    limitError = e.message;
  }
  d2.destroy();
  device.destroy();
  return { out, createMs, info, limitError };
};
`;

type Feeds = Record<string, { data: Float32Array; dims: number[] }>;

async function inputsOf(models: Models, d: ParityDecoders, mrt: Uint8Array): Promise<Feeds> {
  const sd = decodeMrt(mrt, { rcm: models.rcm, ended: true });
  const { g, z, mask, base } = await decoderInputs(models, sd.header!, sd, REGENERATE_BY_DEFAULT);
  const T = models.manifest.layout.tokens;
  const cells = g.gridW * g.gridH;
  const tail = new TailSynthesis(d.tailI8, cells).update(z).slice();
  return {
    z: { data: z, dims: [1, T, g.gridH, g.gridW] },
    mask: { data: mask, dims: [1, T, g.gridH, g.gridW] },
    base: { data: base, dims: [1, 3, g.baseH, g.baseW] },
    tail: { data: tail, dims: [1, tail.length / cells, g.gridH, g.gridW] },
  };
}

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

describe('the lean decoder on WebGPU (SwiftShader in headless Chromium)', () => {
  let srv: TestServer;
  let streams: Uint8Array[];
  let big: Uint8Array;

  beforeAll(async () => {
    await ensureClient();
    srv = await startServer();
    streams = await Promise.all(SMALL.map(encodeFixture));
    big = await encodeFixture(BIG);
    srv.streams.set('/i/big.mrt', { bytes: big });
    streams.forEach((s, i) => srv.streams.set(`/i/small${i}.mrt`, { bytes: s }));
    const js = await build({ stdin: { contents: GPU_ENTRY, resolveDir: ROOT, loader: 'js' }, bundle: true, format: 'esm', write: false, platform: 'browser', logLevel: 'silent' });
    srv.streams.set('/t/lean-gpu.js', { bytes: js.outputFiles[0]!.contents });
    srv.streams.set('/t/lean-gpu.html', { bytes: new TextEncoder().encode('<!doctype html><meta charset="utf-8"><script type="module" src="/t/lean-gpu.js"></script>') });
  });
  afterAll(async () => {
    await srv?.close();
  });

  it('(a) LeanGpuDecoder matches the WASM LeanDecoder and onnxruntime-web on the same dequantised weights within 1e-2 (64x64, 96x64)', async () => {
    const models = await loadModels(MODELS.endsWith('/') ? MODELS : MODELS + '/');
    const d = await loadParityDecoders(models);
    const sets = await Promise.all(streams.map((s) => inputsOf(models, d, s)));
    const wasm = sets.map((f) => d.lean.run(f));
    const oracle = await Promise.all(
      sets.map(async (f) => (await d.oracle.run(Object.fromEntries(Object.entries(f).map(([n, v]) => [n, new ort.Tensor('float32', v.data, v.dims)])))).image!.data as Float32Array),
    );
    const b = await launchChromium({ webgpu: true });
    try {
      const page = await b.context.newPage();
      page.on('console', (m) => {
        if (m.type() === 'warning' || m.type() === 'error') console.log(`[page] ${m.text()}`);
      });
      await page.goto(`${srv.url}/t/lean-gpu.html`);
      await page.waitForFunction(() => typeof (window as any).runGpu === 'function');
      const plain = sets.map((f) => Object.fromEntries(Object.entries(f).map(([n, v]) => [n, { data: Array.from(v.data), dims: v.dims }])));
      const r = await page.evaluate((s) => (window as any).runGpu(s), plain);
      console.log(`[lean-webgpu] adapter: ${r.info}; create ${r.createMs.toFixed(0)} ms`);
      r.out.forEach((o: { data: number[]; dims: number[]; ms: number }, i: number) => {
        expect(o.dims).toEqual(wasm[i]!.dims);
        const vsWasm = maxAbs(o.data, wasm[i]!.data);
        const vsOrt = maxAbs(o.data, oracle[i]!);
        console.log(`[lean-webgpu] ${o.dims.join('x')}: max |gpu - wasm| ${vsWasm.toExponential(2)}, max |gpu - onnxruntime-web| ${vsOrt.toExponential(2)}, run ${o.ms.toFixed(0)} ms (SwiftShader)`);
        expect(vsWasm).toBeLessThanOrEqual(1e-2);
        expect(vsOrt).toBeLessThanOrEqual(1e-2);
      });
      console.log(`[lean-webgpu] 768x512 on a device with 8 MiB storage buffers: ${r.limitError}`);
      expect(r.limitError).toMatch(/WebGPU: the activations of this run \(1x3x512x768 output\) need \d+ bytes, more than the device's storage buffer limit of 8388608/);
    } finally {
      await b.close();
    }
  }, 180_000);

  interface Painted {
    backend: string;
    paints: any[];
    errors: any[];
    warnings: string[];
    pixels: number[];
    /** ms from navigation to the first learned paint, and to `load`. */
    firstMl: number;
    loaded: number;
  }

  /** Paints `src` in a fresh Chromium with `config` (and WebGPU's software adapter with `launch.webgpu`). */
  async function paintWith(name: string, src: string, w: number, h: number, config: object, launch: { webgpu?: boolean }, budget = 'full'): Promise<Painted> {
    const b = await launchChromium(launch);
    try {
      const page = await b.context.newPage();
      const warnings: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'warning') warnings.push(m.text());
      });
      srv.streams.set(`/t/${name}.html`, {
        bytes: new TextEncoder().encode(
          testPage(
            `<mrt-img id="m" src="${src}" width="${w}" height="${h}" alt="test" budget="${budget}"></mrt-img>
             <script type="module">
               const m = document.getElementById('m');
               window.paints = []; window.errors = [];
               m.addEventListener('paint', (e) => window.paints.push({ ...e.detail, t: performance.now() }));
               m.addEventListener('error', (e) => window.errors.push(e.detail));
               m.addEventListener('load', () => {
                 const c = m.canvasElement;
                 // small images only: a 768x512 array takes half a minute to pass to Node
                 if (c.width * c.height <= 65536) window.pixels = Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data);
                 window.loaded = performance.now();
               });
               customElements.get('mrt-img').backend().then((x) => (window.backend = x));
             </script>`,
            `<script type="module">customElements.whenDefined('mrt-img').then(() => customElements.get('mrt-img').configure(${JSON.stringify(config)}));</script>`,
          ),
        ),
      });
      await page.goto(`${srv.url}/t/${name}.html`);
      await page.waitForFunction(() => (window as any).loaded || (window as any).errors.length, null, { timeout: 120_000, polling: 100 });
      const r = await page.evaluate(() => {
        const w = window as any;
        const ml = w.paints.find((p: any) => p.kind === 'ml');
        return { backend: w.backend, paints: w.paints, errors: w.errors, pixels: w.pixels ?? [], firstMl: ml ? ml.t : NaN, loaded: w.loaded ?? NaN };
      });
      return { ...r, warnings };
    } finally {
      await b.close();
    }
  }

  it("(b) backend 'webgpu' on SwiftShader paints learned images on WebGPU, matching the WASM paint (PSNR > 40 dB)", async () => {
    const gpu = await paintWith('b-gpu', '/i/small1.mrt', 96, 64, { backend: 'webgpu' }, { webgpu: true });
    const cpu = await paintWith('b-wasm', '/i/small1.mrt', 96, 64, { backend: 'wasm' }, {});
    expect(gpu.errors).toEqual([]);
    expect(cpu.errors).toEqual([]);
    expect(gpu.backend).toBe('webgpu');
    expect(gpu.warnings.filter((w) => /webgpu/i.test(w))).toEqual([]);
    const ml = gpu.paints.filter((p) => p.kind === 'ml');
    expect(ml.length).toBeGreaterThanOrEqual(1);
    expect(ml.every((p) => p.backend === 'webgpu')).toBe(true);
    expect(cpu.paints.filter((p) => p.kind === 'ml').every((p) => p.backend === 'wasm')).toBe(true);
    const q = psnr(gpu.pixels, 4, cpu.pixels, 4, 96 * 64);
    console.log(`[lean-webgpu] element paint 96x64, WebGPU vs WASM: ${q.toFixed(2)} dB; runs ${ml.map((p) => p.runMs.toFixed(0)).join(', ')} ms (SwiftShader)`);
    expect(q).toBeGreaterThan(40);
  }, 120_000);

  it("(c) 'auto' with only the software adapter: the lean runtime decodes on WASM and the console says why", async () => {
    const r = await paintWith('c-auto', '/i/small0.mrt', 64, 64, { backend: 'auto' }, { webgpu: true });
    expect(r.errors).toEqual([]);
    expect(r.backend).toBe('wasm');
    expect(r.paints.some((p) => p.kind === 'ml' && p.backend === 'wasm')).toBe(true);
    expect(r.paints.some((p) => p.backend === 'webgpu')).toBe(false);
    expect(r.warnings.some((w) => /webgpu skipped: the WebGPU adapter is a (fallback adapter|software renderer) \(.*swiftshader.*\).*decoding on wasm/i.test(w))).toBe(true);
  }, 60_000);

  it('(d) a lost WebGPU device under the lean runtime: the page says why and repaints on the lean WASM runtime', async () => {
    const b = await launchChromium({ webgpu: true });
    try {
      const page = await b.context.newPage();
      const warnings: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'warning') warnings.push(m.text());
      });
      srv.streams.set('/t/d-lost.html', {
        bytes: new TextEncoder().encode(
          testPage(
            `<mrt-img id="m" src="/i/small0.mrt" width="64" height="64" alt="tiny" budget="q1" refine="none"></mrt-img>
             <script type="module">
               const m = document.getElementById('m');
               window.paints = []; window.errors = []; window.loads = 0;
               m.addEventListener('paint', (e) => window.paints.push(e.detail));
               m.addEventListener('error', (e) => window.errors.push(e.detail));
               m.addEventListener('load', () => window.loads++);
             </script>`,
            // the decode worker, for the test hook that destroys its GPU device
            `<script>const W = Worker; window.Worker = class extends W { constructor(...a) { super(...a); window.decodeWorker = this; } };</script>
             <script type="module">customElements.whenDefined('mrt-img').then(() => customElements.get('mrt-img').configure({ backend: 'webgpu' }));</script>`,
          ),
        ),
      });
      const from = srv.log.length;
      await page.goto(`${srv.url}/t/d-lost.html`);
      await page.waitForFunction(() => (window as any).loads === 1 || (window as any).errors.length, null, { timeout: 60_000 });
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
      // the lean runtime's own WASM build: never onnxruntime-web
      expect(srv.log.slice(from).map((e) => e.path).filter((p) => /ort|\.onnx/.test(p))).toEqual([]);
    } finally {
      await b.close();
    }
  }, 120_000);

  it("(e) 'auto' at 768x512 with only the software adapter: the learned paint comes as soon as without WebGPU (+2 s), never hanging on SwiftShader", async () => {
    const gpu = await paintWith('e-auto-gpu', '/i/big.mrt', 768, 512, { backend: 'auto' }, { webgpu: true });
    const none = await paintWith('e-auto-none', '/i/big.mrt', 768, 512, { backend: 'auto' }, {});
    expect(gpu.errors).toEqual([]);
    expect(none.errors).toEqual([]);
    expect(gpu.backend).toBe('wasm');
    expect(gpu.paints.some((p) => p.backend === 'webgpu')).toBe(false);
    console.log(`[lean-webgpu] 768x512 'auto': first learned paint ${gpu.firstMl.toFixed(0)} ms with the SwiftShader adapter, ${none.firstMl.toFixed(0)} ms without WebGPU; load ${gpu.loaded.toFixed(0)} / ${none.loaded.toFixed(0)} ms`);
    expect(gpu.firstMl).toBeLessThanOrEqual(none.firstMl + 2000);
    expect(gpu.loaded).toBeLessThanOrEqual(none.loaded + 2000);
  }, 120_000);
});
