// <mrt-img> in headless Debian Chromium (WASM backend): progressive paints, events, lazy
// loading, layout, budgets + refine, the no-JS fallback and bad input.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { budgetFor, hintsFromNavigator } from '../../src/format/budget.ts';
import { prefixLength, readHeader } from '../../src/format/index.ts';
import sharp from 'sharp';
import { rewrite } from '../encoder/bombs.ts';
import { encodeFixture, ensureClient, haveKodak, haveModels, MODELS, sourcePng, type FixtureSpec } from './fixtures.ts';
import { launchChromium, startServer, testPage, type BrowserHandle, type TestServer } from './harness.ts';

const ready = haveModels() && haveKodak();
if (!ready) console.warn('[browser tests] skipped: models/ (or MRT_MODELS_DIR) or the Kodak images are missing');

// Small crops keep the ONNX runs short on this 2-core machine.
const SMALL: FixtureSpec = { name: 'kodim23', crop: [256, 128, 256, 192], layersPerChunk: 1 };
/** Chunks (= token layers) streamed in the progressive test: the early layers carry most of the gain. */
const PROGRESSIVE_CHUNKS = 10;
const SMALL2: FixtureSpec = { name: 'kodim05', crop: [0, 0, 192, 128], layersPerChunk: 16 };
const FINAL: FixtureSpec = { name: 'kodim05', crop: [0, 0, 192, 128], layersPerChunk: 16, final: 'webp' };

/** In-page helpers: event log, PSNR of the element's canvas against a reference image. */
const PAGE_HELPERS = `
<script>
  window.log = [];
  window.track = (el, name) => {
    for (const t of ['progress', 'paint', 'load', 'error'])
      el.addEventListener(t, (e) => window.log.push({ el: name, type: t, t: performance.now(), detail: e.detail }));
  };
  // what the element shows: the final layer's <img> once it replaced the canvas, else the canvas
  window.canvasPixels = (el) => {
    const f = el.finalElement;
    if (f) {
      const o = new OffscreenCanvas(f.naturalWidth, f.naturalHeight);
      const x = o.getContext('2d');
      x.drawImage(f, 0, 0);
      return x.getImageData(0, 0, o.width, o.height).data;
    }
    const c = el.canvasElement;
    return c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  };
  window.refPixels = async (url) => {
    const bm = await createImageBitmap(await (await fetch(url)).blob(), { colorSpaceConversion: 'none' });
    const c = new OffscreenCanvas(bm.width, bm.height);
    const x = c.getContext('2d');
    x.drawImage(bm, 0, 0);
    return x.getImageData(0, 0, bm.width, bm.height).data;
  };
  window.psnr = (a, b) => {
    let se = 0, n = 0;
    for (let i = 0; i < a.length; i += 4) for (let c = 0; c < 3; c++) { const d = a[i + c] - b[i + c]; se += d * d; n++; }
    return se === 0 ? 99 : 10 * Math.log10(255 * 255 / (se / n));
  };
</script>`;

// Missing prerequisites fail the file loudly: these tests never skip themselves into green.
if (!ready) throw new Error('prerequisites missing (models/, ../shared/data/kodak, or the edge scripts): see README');
describe('<mrt-img> in Chromium (WASM)', () => {
  let srv: TestServer;
  let browser: BrowserHandle;
  let small: Uint8Array;
  let small2: Uint8Array;

  beforeAll(async () => {
    await ensureClient();
    [small, small2] = await Promise.all([encodeFixture(SMALL), encodeFixture(SMALL2)]);
    srv = await startServer();
    srv.streams.set('/ref/small.png', { bytes: await sourcePng(SMALL) });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await srv?.close();
  });

  async function open(path: string, body: string, head = ''): Promise<Page> {
    srv.streams.set(path, { bytes: new TextEncoder().encode(testPage(body, PAGE_HELPERS + head)) });
    const page = await browser.context.newPage();
    const worker: string[] = [];
    workerErrors.set(page, worker);
    page.on('console', (m) => {
      if (m.text().includes('unhandled rejection')) worker.push(m.text());
    });
    await page.goto(srv.url + path);
    return page;
  }

  const workerErrors = new WeakMap<Page, string[]>();
  /** Unhandled rejections on the page and in the decode worker. */
  const rejections = async (page: Page) => [
    ...(await page.evaluate(() => (window as unknown as { __rejections: string[] }).__rejections)),
    ...(workerErrors.get(page) ?? []),
  ];

  it('paints the placeholder first, then a better image after each chunk (PSNR to the original improves)', async () => {
    const info = readHeader(small);
    // The server sends one chunk (one token layer) at a time, 400 ms apart; the runtime is
    // warmed first so that every chunk gets its own ML paint.
    srv.streams.set('/i/prog.mrt', { bytes: small, boundaries: [info.firstPaintEnd, info.headerEnd, ...info.chunkEnds], pieceDelayMs: 400 });
    const page = await open(
      '/t/progressive.html',
      `<div id="slot"></div>
       <script type="module">
         const M = customElements.get('mrt-img');
         M.warm();
         await M.backend();
         const ref = await window.refPixels('/ref/small.png');
         window.scores = [];
         const m = document.createElement('mrt-img');
         for (const [k, v] of Object.entries({ id: 'm', src: '/i/prog.mrt', width: 256, height: 192, alt: 'kodim23 crop', budget: 'q${PROGRESSIVE_CHUNKS}', refine: 'none' })) m.setAttribute(k, v);
         window.track(m, 'm');
         m.addEventListener('paint', (e) => window.scores.push({ kind: e.detail.kind, tokens: e.detail.tokens, psnr: window.psnr(window.canvasPixels(m), ref) }));
         document.getElementById('slot').append(m);
       </script>`,
    );
    await page.waitForFunction(() => (window as any).log.some((e: any) => e.type === 'load' || e.type === 'error'), null, { timeout: 90_000 });
    const scores = (await page.evaluate(() => (window as any).scores)) as { kind: string; tokens: number; psnr: number }[];
    const log = (await page.evaluate(() => (window as any).log)) as { type: string; detail: any }[];
    console.log('[progressive]', scores.map((s) => `${s.kind}:${s.tokens}:${s.psnr.toFixed(2)}`).join(' '));
    expect(scores[0].kind).toBe('placeholder');
    // The placeholder painted from the Header message alone, before the Index arrived.
    expect(log.find((e) => e.type === 'paint')!.detail).toMatchObject({ kind: 'placeholder', bytes: info.firstPaintEnd });
    const ml = scores.filter((s) => s.kind === 'ml');
    // One ML paint per chunk.
    expect(ml.length).toBe(PROGRESSIVE_CHUNKS);
    const perLayer = info.header.layout.gridW * info.header.layout.gridH;
    expect(ml.map((s) => s.tokens)).toEqual(Array.from({ length: PROGRESSIVE_CHUNKS }, (_, i) => (i + 1) * perLayer));
    // The canvas changes after each chunk ...
    for (let i = 1; i < ml.length; i++) expect(ml[i].psnr).not.toBe(ml[i - 1].psnr);
    // ... and gets closer to the original (small dips allowed: the model is not monotone per layer).
    expect(ml[0].psnr).toBeGreaterThan(scores[0].psnr);
    expect(ml[ml.length - 1].psnr).toBeGreaterThan(ml[0].psnr);
    for (let i = 1; i < ml.length; i++) expect(ml[i].psnr).toBeGreaterThan(ml[i - 1].psnr - 0.1);
    expect(log.filter((e) => e.type === 'error')).toHaveLength(0);
    expect(log.filter((e) => e.type === 'load')).toHaveLength(1);
    expect(await rejections(page)).toEqual([]);
    await page.close();
  });

  it('token preview: while the decoder downloads, each chunk paints a preview from preview.bin; then the decoder takes over', async () => {
    const info = readHeader(small);
    srv.streams.set('/i/preview.mrt', { bytes: small, boundaries: [info.headerEnd, ...info.chunkEnds.slice(0, 5)], pieceDelayMs: 150 });
    srv.streams.set('/ref/preview.png', { bytes: await sourcePng(SMALL) });
    srv.mounts.set('/slow-models/', MODELS);
    // the decoder graph (the lean runtime's, the default) arrives in two pieces 2.5 s apart:
    // the first five chunks come before it
    const manifest = JSON.parse(await readFile(join(MODELS, 'manifest.json'), 'utf8'));
    for (const f of [manifest.lean?.file ?? manifest.splitDecoder?.file ?? 'decoder.onnx']) {
      srv.streams.set(`/slow-models/${f}`, { bytes: new Uint8Array(await readFile(join(MODELS, f))), boundaries: [1024], pieceDelayMs: 2500 });
    }
    const page = await open(
      '/t/preview.html',
      `<mrt-img id="m" src="/i/preview.mrt" width="256" height="192" alt="preview" budget="full"></mrt-img>
       <script type="module">
         const m = document.getElementById('m');
         const ref = await window.refPixels('/ref/preview.png');
         window.scores = [];
         m.addEventListener('paint', (e) => window.scores.push({ kind: e.detail.kind, tokens: e.detail.tokens, runMs: e.detail.runMs, psnr: window.psnr(window.canvasPixels(m), ref) }));
         window.track(m, 'm');
       </script>`,
      `<script type="module">customElements.whenDefined('mrt-img').then(() => customElements.get('mrt-img').configure({ modelBase: '/slow-models/' }));</script>`,
    );
    await page.waitForFunction(() => (window as any).log.some((e: any) => e.type === 'load' || e.type === 'error'), null, { timeout: 60_000 });
    const scores = (await page.evaluate(() => (window as any).scores)) as { kind: string; tokens: number; runMs?: number; psnr: number }[];
    console.log('[preview]', scores.map((s) => `${s.kind}:${s.tokens}:${s.psnr.toFixed(2)}`).join(' '));
    const log = (await page.evaluate(() => (window as any).log)) as { type: string; detail: any }[];
    expect(log.filter((e) => e.type === 'error')).toHaveLength(0);
    expect(scores[0].kind).toBe('placeholder');
    const firstMl = scores.findIndex((s) => s.kind === 'ml');
    expect(firstMl).toBeGreaterThan(0);
    const previews = scores.slice(0, firstMl).filter((s) => s.kind === 'preview');
    // one preview per chunk that arrived before the decoder (at least 4 of the 5)
    expect(previews.length).toBeGreaterThanOrEqual(4);
    expect(scores.slice(firstMl).some((s) => s.kind === 'preview')).toBe(false);
    for (let i = 1; i < previews.length; i++) expect(previews[i].tokens).toBeGreaterThan(previews[i - 1].tokens);
    for (const p of previews) expect(p.runMs).toBeGreaterThanOrEqual(0);
    // the previews sharpen with tokens, past the placeholder; the decoder is better still
    const last = previews[previews.length - 1];
    expect(last.psnr).toBeGreaterThan(previews[0].psnr);
    expect(last.psnr).toBeGreaterThan(scores[0].psnr);
    // the decoder's first paint uses every token received while it loaded (never an older state)
    expect(scores[firstMl].tokens).toBeGreaterThanOrEqual(last.tokens);
    expect(scores[firstMl].psnr).toBeGreaterThan(last.psnr);
    expect(scores[scores.length - 1].kind).toBe('ml');
    expect(await rejections(page)).toEqual([]);
    await page.close();
  });

  it('fires progress (bytes, chunks, tokens) per chunk, then exactly one load; reserves its box before loading', async () => {
    const evInfo = readHeader(small2);
    srv.streams.set('/i/ev.mrt', { bytes: small2, boundaries: [evInfo.headerEnd, ...evInfo.chunkEnds], pieceDelayMs: 60 });
    const page = await open(
      '/t/events.html',
      `<div id="wrap" style="width:600px"><mrt-img id="m" src="/i/ev.mrt" width="192" height="128" alt="events" budget="full" refine="none"></mrt-img><p id="after">after</p></div>
       <script type="module">
         const m = document.getElementById('m');
         window.track(m, 'm');
         window.boxAtStart = JSON.stringify(m.getBoundingClientRect());
         window.afterTop = document.getElementById('after').getBoundingClientRect().top;
       </script>`,
    );
    await page.waitForFunction(() => (window as any).log.some((e: any) => e.type === 'load' || e.type === 'error'), null, { timeout: 60_000 });
    await page.waitForTimeout(300);
    const log = (await page.evaluate(() => (window as any).log)) as { type: string; detail: any }[];
    const box = JSON.parse(await page.evaluate(() => (window as any).boxAtStart));
    expect(box.width).toBe(192);
    expect(box.height).toBe(128);
    // No layout shift: the paragraph after the image has not moved.
    const afterNow = await page.evaluate(() => document.getElementById('after')!.getBoundingClientRect().top);
    expect(afterNow).toBe(await page.evaluate(() => (window as any).afterTop));
    const progress = log.filter((e) => e.type === 'progress').map((e) => e.detail);
    const total = readHeader(small2).chunkEnds.length;
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress[progress.length - 1]).toMatchObject({ bytes: small2.length, chunks: total });
    // one per read that completes tokens (a read may end inside a chunk: its tokens count, the chunk not yet)
    for (let i = 1; i < progress.length; i++) {
      expect(progress[i].bytes).toBeGreaterThanOrEqual(progress[i - 1].bytes);
      expect(progress[i].chunks).toBeGreaterThanOrEqual(progress[i - 1].chunks);
      expect(progress[i].tokens).toBeGreaterThan(progress[i - 1].tokens);
    }
    const loads = log.filter((e) => e.type === 'load');
    expect(loads).toHaveLength(1);
    expect(loads[0].detail.complete).toBe(true);
    expect(log.findIndex((e) => e.type === 'load')).toBeGreaterThan(log.findIndex((e) => e.type === 'paint' && e.detail.kind === 'ml'));
    expect(log.filter((e) => e.type === 'error')).toHaveLength(0);
    // Accessibility: the host is an image with the alt text as its label.
    expect(await page.evaluate(() => [document.getElementById('m')!.getAttribute('role'), document.getElementById('m')!.getAttribute('aria-label')])).toEqual(['img', 'events']);
    expect(await rejections(page)).toEqual([]);
    await page.close();
  });

  it('a final layer is decoded natively and replaces the token image', async () => {
    const withFinal = await encodeFixture(FINAL);
    expect(readHeader(withFinal).header.final?.mime).toBe('image/webp');
    srv.streams.set('/i/final.mrt', { bytes: withFinal, pieceBytes: 400, pieceDelayMs: 50 });
    srv.streams.set('/ref/final.png', { bytes: await sourcePng(FINAL) });
    const page = await open(
      '/t/final.html',
      `<mrt-img id="m" src="/i/final.mrt" width="192" height="128" alt="final" budget="full"></mrt-img>
       <script type="module">
         const m = document.getElementById('m');
         window.track(m, 'm');
         const ref = await window.refPixels('/ref/final.png');
         m.addEventListener('paint', (e) => { if (e.detail.kind === 'final') window.finalPsnr = window.psnr(window.canvasPixels(m), ref); });
       </script>`,
    );
    await page.waitForFunction(() => (window as any).log.some((e: any) => e.type === 'load' || e.type === 'error'), null, { timeout: 60_000 });
    await page.waitForTimeout(500);
    const log = (await page.evaluate(() => (window as any).log)) as { type: string; detail: any }[];
    const paints = log.filter((e) => e.type === 'paint').map((e) => e.detail.kind);
    expect(paints[0]).toBe('placeholder');
    expect(paints[paints.length - 1]).toBe('final');
    expect(log.find((e) => e.type === 'load')!.detail.complete).toBe(true);
    expect(await page.evaluate(() => document.getElementById('m')!.getAttribute('data-state'))).toBe('final');
    // The WebP final layer (quality 80) is far closer to the source than any token image.
    expect(await page.evaluate(() => (window as any).finalPsnr)).toBeGreaterThan(28);
    await page.close();
  });

  it('(2.11) a learned layer smaller than the image: the canvas paints it at its own size, then the full-size final is a real <img> (currentSrc, LCP)', async () => {
    // the small stream's tokens stand for a 384x256 image whose final layer is an AVIF of that size
    const src = await sourcePng(SMALL2);
    const big = new Uint8Array(await sharp(src).resize(384, 256).avif({ quality: 60 }).toBuffer());
    const bytes = rewrite(small2, { image: [384, 256], final: { mime: 'image/avif', bytes: big } });
    expect(readHeader(bytes).header.version.minor).toBe(11);
    srv.streams.set('/i/large.mrt', { bytes, pieceBytes: 400, pieceDelayMs: 40 });
    const page = await open(
      '/t/large.html',
      `<mrt-img id="m" src="/i/large.mrt" alt="large" budget="full" style="width: 384px"></mrt-img>
       <script type="module">
         const m = document.getElementById('m');
         window.track(m, 'm');
         window.lcp = [];
         new PerformanceObserver((l) => { for (const e of l.getEntries()) window.lcp.push(e.url); }).observe({ type: 'largest-contentful-paint', buffered: true });
         m.addEventListener('paint', (e) => { if (e.detail.kind !== 'final') window.canvasSize = [m.canvasElement.width, m.canvasElement.height]; });
       </script>`,
    );
    await page.waitForFunction(() => (window as any).log.some((e: any) => e.type === 'load' || e.type === 'error'), null, { timeout: 60_000 });
    await page.waitForTimeout(500);
    const r = await page.evaluate(() => {
      const m = document.getElementById('m') as any;
      const f = m.finalElement as HTMLImageElement | null;
      const box = m.getBoundingClientRect();
      const fbox = f?.getBoundingClientRect();
      return {
        kinds: (window as any).log.filter((e: any) => e.type === 'paint').map((e: any) => e.detail.kind),
        errors: (window as any).log.filter((e: any) => e.type === 'error').length,
        canvas: (window as any).canvasSize,
        natural: [m.naturalWidth, m.naturalHeight],
        final: f ? [f.naturalWidth, f.naturalHeight, getComputedStyle(f).display, getComputedStyle(m.canvasElement).display] : null,
        sameBox: !!fbox && Math.abs(fbox.width - box.width) < 1 && Math.abs(fbox.height - box.height) < 1,
        aspect: box.width / box.height,
        currentSrc: m.currentSrc,
        lcp: (window as any).lcp,
      };
    });
    expect(r.errors).toBe(0);
    expect(r.kinds[0]).toBe('placeholder');
    expect(r.kinds.at(-1)).toBe('final');
    expect(r.canvas).toEqual([192, 128]);
    expect(r.natural).toEqual([384, 256]);
    expect(r.final).toEqual([384, 256, 'block', 'none']);
    expect(r.sameBox).toBe(true);
    expect(r.aspect).toBeCloseTo(1.5, 2);
    expect(r.currentSrc).toMatch(/^blob:/);
    // the final <img> is a largest-contentful-paint candidate (a canvas never is)
    expect(r.lcp).toContain(r.currentSrc);
    expect(await rejections(page)).toEqual([]);
    await page.close();
  });

  it('several images share one worker and all load; changing src restarts with the new stream', async () => {
    srv.streams.set('/i/s1.mrt', { bytes: small2, pieceBytes: 200, pieceDelayMs: 20 });
    srv.streams.set('/i/s2.mrt', { bytes: small, pieceBytes: 200, pieceDelayMs: 20 });
    srv.streams.set('/i/s3.mrt', { bytes: small2 });
    const page = await open(
      '/t/many.html',
      `<mrt-img id="a" src="/i/s1.mrt" width="192" height="128" alt="a" budget="full" fetchpriority="low"></mrt-img>
       <mrt-img id="b" src="/i/s2.mrt" width="256" height="192" alt="b" budget="full" fetchpriority="high"></mrt-img>
       <mrt-img id="c" src="/i/s3.mrt" width="192" height="128" alt="c" budget="full"></mrt-img>
       <script type="module">for (const id of ['a', 'b', 'c']) window.track(document.getElementById(id), id);</script>`,
    );
    await page.waitForFunction(() => ['a', 'b', 'c'].every((id) => (window as any).log.some((e: any) => e.el === id && e.type === 'load')), null, { timeout: 60_000 });
    // One worker for the page.
    expect(page.workers().filter((w) => w.url().endsWith('/mrt-worker.js'))).toHaveLength(1);
    await page.evaluate(() => {
      const c = document.getElementById('c')!;
      (window as any).log.length = 0;
      c.setAttribute('src', '/i/s2.mrt');
      c.setAttribute('width', '256');
      c.setAttribute('height', '192');
    });
    await page.waitForFunction(() => (window as any).log.some((e: any) => e.el === 'c' && e.type === 'load'), null, { timeout: 60_000 });
    const log = (await page.evaluate(() => (window as any).log)) as { el: string; type: string; detail: any }[];
    expect(log.find((e) => e.el === 'c' && e.type === 'load')!.detail).toMatchObject({ complete: true, bytes: small.length });
    expect(await page.evaluate(() => [(document.getElementById('c') as any).naturalWidth, (document.getElementById('c') as any).canvasElement.width])).toEqual([256, 256]);
    expect(log.filter((e) => e.type === 'error')).toEqual([]);
    expect(await rejections(page)).toEqual([]);
    await page.close();
  });

  it('loading="lazy" fetches nothing until the element nears the viewport', async () => {
    srv.streams.set('/i/lazy.mrt', { bytes: small2 });
    const page = await open(
      '/t/lazy.html',
      `<div style="height:3000px">spacer</div>
       <mrt-img id="m" src="/i/lazy.mrt" width="192" height="128" alt="lazy" loading="lazy" budget="full"></mrt-img>
       <script type="module">window.track(document.getElementById('m'), 'm');</script>`,
    );
    await page.waitForTimeout(800);
    expect(srv.log.filter((r) => r.path === '/i/lazy.mrt')).toHaveLength(0);
    await page.evaluate(() => document.getElementById('m')!.scrollIntoView());
    await page.waitForFunction(() => (window as any).log.some((e: any) => e.type === 'load'), null, { timeout: 60_000 });
    expect(srv.log.filter((r) => r.path === '/i/lazy.mrt').length).toBeGreaterThanOrEqual(1);
    await page.close();
  });

  it('a byte budget paints a prefix; a click refines it with a Range request', async () => {
    srv.streams.set('/i/budget.mrt', { bytes: small2 });
    const info = readHeader(small2);
    const budget = info.chunkEnds[0] + 10;
    // a model base of its own (nothing in the HTTP cache): which decoder graphs load when
    srv.mounts.set('/budget-models/', MODELS);
    const manifest = JSON.parse(await readFile(join(MODELS, 'manifest.json'), 'utf8'));
    const page = await open(
      '/t/budget.html',
      `<mrt-img id="m" src="/i/budget.mrt" width="192" height="128" alt="budget" budget="${budget}" refine="click"></mrt-img>
       <script type="module">window.track(document.getElementById('m'), 'm');</script>`,
      `<script type="module">customElements.whenDefined('mrt-img').then(() => customElements.get('mrt-img').configure({ modelBase: '/budget-models/' }));</script>`,
    );
    await page.waitForFunction(() => (window as any).log.some((e: any) => e.type === 'load'), null, { timeout: 60_000 });
    let log = (await page.evaluate(() => (window as any).log)) as { type: string; detail: any }[];
    // raw chunk framing: the budget is cut exactly, and the 10 bytes of chunk 1 paint the tokens they complete
    const firstLoad = log.find((e) => e.type === 'load')!.detail;
    expect(firstLoad).toMatchObject({ complete: false, bytes: budget, chunks: 1 });
    expect(firstLoad.tokens).toBeGreaterThan(info.header.chunks[0].tokenEnd);
    const first = srv.log.filter((r) => r.path === '/i/budget.mrt');
    expect(first).toHaveLength(1);
    expect(first[0].sent).toBe(budget);
    // the budget is held on the wire by Range as well as ?bytes= (a static host ignores the query)
    expect(first[0].range).toBe(`bytes=0-${budget - 1}`);
    const fetched = (f: string) => srv.log.some((r) => r.path === `/budget-models/${f}`);
    const split = manifest.splitDecoder as { file: string; tail: string; layers: number } | undefined;
    const lean = manifest.lean as { file: string; tail?: string } | undefined;
    // the lean runtime (the default) loads its own graph and int8 tail, never an .onnx
    const graph = lean?.file ?? split?.file ?? 'decoder.onnx';
    const tail = lean?.tail ?? split?.tail;
    const onnx = (f: string) => f.endsWith('.onnx') && f !== graph;
    expect(fetched(graph)).toBe(true);
    for (const f of ['decoder.onnx', split?.file ?? 'decoder.onnx']) if (onnx(f)) expect(fetched(f)).toBe(false);
    // the tail basis only once a token past the split is known (coarse trits included), and
    // only after a first (interim) learned paint
    const cells = info.header.layout.gridW * info.header.layout.gridH;
    const kn = (info.header.layout.coarseLayers ?? 0) * cells;
    const s = firstLoad.tokens;
    const knownUpTo = s <= kn ? s : s <= 2 * kn ? kn : s - kn; // tokens known exactly or by their coarse trit
    if (split && tail) expect(fetched(tail)).toBe(knownUpTo > split.layers * cells);
    expect(log.filter((e) => e.type === 'paint').at(-1)!.detail.kind).toBe('ml');
    await page.click('#m');
    await page.waitForFunction(() => (window as any).log.filter((e: any) => e.type === 'load').length >= 2, null, { timeout: 60_000 });
    log = (await page.evaluate(() => (window as any).log)) as { type: string; detail: any }[];
    const loads = log.filter((e) => e.type === 'load');
    expect(loads[1].detail).toMatchObject({ complete: true, bytes: small2.length, chunks: info.chunkEnds.length });
    const ranged = srv.log.filter((r) => r.path === '/i/budget.mrt' && r.range && !r.range.startsWith('bytes=0-'));
    expect(ranged).toHaveLength(1);
    expect(ranged[0].range).toBe(`bytes=${budget}-`);
    expect(ranged[0].status).toBe(206);
    expect(ranged[0].sent).toBe(small2.length - budget);
    if (split && tail) expect(fetched(tail)).toBe(info.header.layout.tokensPerWindow > split.layers);
    // the whole stream (every layer) is painted by the browser's graph
    for (const f of ['decoder.onnx', split?.file ?? 'decoder.onnx']) if (onnx(f)) expect(fetched(f)).toBe(false);
    expect(log.filter((e) => e.type === 'paint').at(-1)!.detail).toMatchObject({ kind: 'ml', tokens: info.header.totalTokens });
    await page.close();
  });

  it('a budget cut on the client (no ?bytes= for the server): Range holds it on the wire', async () => {
    // budgetParam '' means no ?bytes= for the server: the client asks for its budget with
    // Range (a server that ignores Range too: test/browser/static-host.test.ts).
    srv.streams.set('/i/clientcut.mrt', { bytes: small2 });
    const info = readHeader(small2);
    const page = await open(
      '/t/clientcut.html',
      `<mrt-img id="m" src="/i/clientcut.mrt" width="192" height="128" alt="cut" budget="${info.chunkEnds[1] + 3}" refine="click"></mrt-img>
       <script type="module">window.track(document.getElementById('m'), 'm');</script>`,
      `<script type="module">customElements.whenDefined('mrt-img').then(() => customElements.get('mrt-img').configure({ budgetParam: '' }));</script>`,
    );
    await page.waitForFunction(() => (window as any).log.some((e: any) => e.type === 'load' || e.type === 'error'), null, { timeout: 60_000 });
    let log = (await page.evaluate(() => (window as any).log)) as { type: string; detail: any }[];
    expect(log.filter((e) => e.type === 'error')).toEqual([]);
    expect(log.find((e) => e.type === 'load')!.detail).toMatchObject({ complete: false, bytes: info.chunkEnds[1] + 3, chunks: 2 });
    const first = srv.log.filter((r) => r.path === '/i/clientcut.mrt')[0];
    expect(first.range).toBe(`bytes=0-${info.chunkEnds[1] + 2}`);
    expect(first.sent).toBe(info.chunkEnds[1] + 3);
    await page.click('#m');
    await page.waitForFunction(() => (window as any).log.filter((e: any) => e.type === 'load').length >= 2, null, { timeout: 60_000 });
    log = (await page.evaluate(() => (window as any).log)) as { type: string; detail: any }[];
    expect(log.filter((e) => e.type === 'load')[1].detail).toMatchObject({ complete: true, bytes: small2.length });
    expect(await rejections(page)).toEqual([]);
    await page.close();
  });

  it('budget "auto" follows navigator.connection through the shared budget rule (src/format/budget.ts)', async () => {
    const full = await encodeFixture({ name: 'kodim01' });
    const info = readHeader(full);
    srv.streams.set('/i/conn.mrt', { bytes: full });
    srv.streams.set('/t/conn.html', {
      bytes: new TextEncoder().encode(
        testPage(
          PAGE_HELPERS,
          `<script type="module">customElements.whenDefined('mrt-img').then(() => customElements.get('mrt-img').configure({ paint: false }));</script>`,
        ),
      ),
    });
    const page = await browser.context.newPage();
    // A slow round trip makes Chromium's network estimate (navigator.connection) report 2g/3g.
    const cdp = await browser.context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 1500, downloadThroughput: 10e6, uploadThroughput: 10e6 });
    await page.goto(srv.url + '/t/conn.html');
    const conn = await page.evaluate(() => {
      const c = (navigator as any).connection;
      return { saveData: c.saveData, effectiveType: c.effectiveType, downlink: c.downlink, rtt: c.rtt };
    });
    await page.evaluate(() => {
      document.body.insertAdjacentHTML('beforeend', '<mrt-img id="m" src="/i/conn.mrt" width="384" height="256" alt="conn" refine="none"></mrt-img>');
      (window as any).track(document.getElementById('m'), 'm');
    });
    await page.waitForFunction(() => (window as any).log.some((e: any) => e.type === 'load' || e.type === 'error'), null, { timeout: 60_000 });
    const log = (await page.evaluate(() => (window as any).log)) as { type: string; detail: any }[];
    const want = budgetFor(hintsFromNavigator(conn, 1, 384), {
      width: info.header.width,
      height: info.header.height,
      totalBytes: info.totalLength,
      minBytes: info.chunkEnds[0],
    });
    const cut = Number.isFinite(want.bytes) ? prefixLength(info, { bytes: want.bytes }) : info.totalLength;
    console.log(`[connection] ${JSON.stringify(conn)} → budget ${want.bytes} (${want.reasons.join(', ')}) → cut ${cut} of ${info.totalLength}`);
    expect(cut).toBeLessThan(info.totalLength);
    expect(log.find((e) => e.type === 'load')!.detail).toMatchObject({ complete: false, bytes: cut });
    await cdp.detach();
    await page.close();
  });

  it('refine="auto": a budgeted image that stays in view fetches the rest by itself', async () => {
    srv.streams.set('/i/auto.mrt', { bytes: small2 });
    const info = readHeader(small2);
    const page = await open(
      '/t/auto.html',
      `<mrt-img id="m" src="/i/auto.mrt" width="192" height="128" alt="auto" budget="q1" refine-delay="300"></mrt-img>
       <script type="module">window.track(document.getElementById('m'), 'm');</script>`,
    );
    await page.waitForFunction(() => (window as any).log.filter((e: any) => e.type === 'load').length >= 2, null, { timeout: 60_000 });
    const loads = ((await page.evaluate(() => (window as any).log)) as { type: string; detail: any }[]).filter((e) => e.type === 'load');
    expect(loads[0].detail).toMatchObject({ complete: false, chunks: 1 });
    expect(loads[1].detail).toMatchObject({ complete: true, chunks: info.chunkEnds.length, bytes: small2.length });
    expect(srv.log.filter((r) => r.path === '/i/auto.mrt' && r.range === `bytes=${info.chunkEnds[0]}-`)).toHaveLength(1);
    await page.close();
  });

  it('a corrupt chunk: one error event, after the best image its valid chunks allow is painted', async () => {
    const info = readHeader(small2);
    const bad = small2.slice();
    // Flip a byte inside the second chunk's payload: chunk 0 stays valid.
    const at = info.chunkEnds[0] + Math.floor((info.chunkEnds[1] - info.chunkEnds[0]) / 2);
    bad[at] ^= 0x5a;
    srv.streams.set('/i/corrupt.mrt', { bytes: bad });
    const page = await open(
      '/t/corrupt.html',
      `<mrt-img id="m" src="/i/corrupt.mrt" width="192" height="128" alt="corrupt" budget="full"><img alt="corrupt fallback" loading="lazy"></mrt-img>
       <script type="module">window.track(document.getElementById('m'), 'm');</script>`,
    );
    await page.waitForFunction(() => (window as any).log.some((e: any) => e.type === 'error'), null, { timeout: 60_000 });
    await page.waitForTimeout(1000);
    const log = (await page.evaluate(() => (window as any).log)) as { type: string; detail: any }[];
    const errors = log.filter((e) => e.type === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0].detail.code).toBe('corrupt');
    expect(errors[0].detail.fatal).toBe(false);
    expect(log.filter((e) => e.type === 'load')).toHaveLength(0);
    // The last paint before the error is an ML paint of chunk 0's tokens.
    const paints = log.filter((e) => e.type === 'paint');
    expect(paints[paints.length - 1].detail).toMatchObject({ kind: 'ml', chunks: 1 });
    expect(log.indexOf(paints[paints.length - 1])).toBeLessThan(log.indexOf(errors[0]));
    expect(await page.evaluate(() => document.getElementById('m')!.getAttribute('data-state'))).toBe('ml');
    expect(await rejections(page)).toEqual([]);
    await page.close();
  });

  it('a corrupt byte that arrives before the rest of its chunk: its tokens paint, then are withdrawn when the checksum fails', async () => {
    const info = readHeader(small2);
    const bad = small2.slice();
    const at = info.chunkEnds[0] + Math.floor((info.chunkEnds[1] - info.chunkEnds[0]) / 2);
    bad[at] ^= 0x5a;
    // the bytes up to the corrupt one first, the rest of chunk 1 (and its checksum) 3 s later
    srv.streams.set('/i/corrupt-late.mrt', { bytes: bad, boundaries: [at + 1], pieceDelayMs: 3000 });
    const page = await open(
      '/t/corrupt-late.html',
      `<mrt-img id="m" src="/i/corrupt-late.mrt" width="192" height="128" alt="corrupt" budget="full"></mrt-img>
       <script type="module">window.track(document.getElementById('m'), 'm');</script>`,
    );
    await page.waitForFunction(() => (window as any).log.some((e: any) => e.type === 'error'), null, { timeout: 60_000 });
    await page.waitForTimeout(500);
    const log = (await page.evaluate(() => (window as any).log)) as { type: string; detail: any }[];
    const verified = info.header.chunks[0].tokenEnd;
    const errIdx = log.findIndex((e) => e.type === 'error');
    expect(log[errIdx].detail).toMatchObject({ code: 'corrupt', fatal: false });
    const paints = log.filter((e) => e.type === 'paint' && e.detail.kind !== 'placeholder');
    // provisional tokens of chunk 1 were painted while its bytes arrived ...
    expect(paints.some((p) => p.detail.tokens > verified)).toBe(true);
    // ... and the last paint, before the error event, uses only the checked chunk 0
    const last = paints.at(-1)!;
    expect(last.detail).toMatchObject({ kind: 'ml', chunks: 1, tokens: verified });
    expect(log.indexOf(last)).toBeLessThan(errIdx);
    expect(await rejections(page)).toEqual([]);
    await page.close();
  });

  it('a stream cut inside a chunk: one error event (truncated), the valid prefix stays painted', async () => {
    const info = readHeader(small2);
    srv.streams.set('/i/trunc.mrt', { bytes: small2, dropAfter: info.chunkEnds[0] + 5 });
    const page = await open(
      '/t/trunc.html',
      `<mrt-img id="m" src="/i/trunc.mrt" width="192" height="128" alt="trunc" budget="full"></mrt-img>
       <script type="module">window.track(document.getElementById('m'), 'm');</script>`,
    );
    await page.waitForFunction(() => (window as any).log.some((e: any) => e.type === 'error'), null, { timeout: 60_000 });
    await page.waitForTimeout(500);
    const log = (await page.evaluate(() => (window as any).log)) as { type: string; detail: any }[];
    const errors = log.filter((e) => e.type === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0].detail.code, errors[0].detail.message).toBe('truncated');
    expect(log.filter((e) => e.type === 'paint' && e.detail.kind === 'ml').length).toBeGreaterThanOrEqual(1);
    expect(await rejections(page)).toEqual([]);
    await page.close();
  });

  it('model download failure: falls back to the <img> child (never a blank box), one error event', async () => {
    // A separate page origin state: a fresh worker is created per page, so 404 the models for it.
    srv.streams.set('/i/nomodel.mrt', { bytes: small2 });
    srv.streams.set('/ref/fallback.png', { bytes: await sourcePng(SMALL2) });
    const page = await open(
      '/t/nomodel.html',
      `<mrt-img id="m" src="/i/nomodel.mrt" width="192" height="128" alt="no model" budget="full"><img id="fb" src="/ref/fallback.png" alt="no model" loading="lazy" width="192" height="128"></mrt-img>
       <script type="module">window.track(document.getElementById('m'), 'm');</script>`,
      `<script type="module">customElements.whenDefined('mrt-img').then(() => customElements.get('mrt-img').configure({ modelBase: '/missing-models/' }));</script>`,
    );
    await page.waitForFunction(() => (window as any).log.some((e: any) => e.type === 'error'), null, { timeout: 60_000 });
    await page.waitForTimeout(500);
    const log = (await page.evaluate(() => (window as any).log)) as { type: string; detail: any }[];
    const errors = log.filter((e) => e.type === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0].detail).toMatchObject({ code: 'model', fatal: true });
    expect(await page.evaluate(() => document.getElementById('m')!.getAttribute('data-state'))).toBe('fallback');
    // The <img> is rendered and loaded.
    await page.waitForFunction(() => (document.getElementById('fb') as HTMLImageElement).complete, null, { timeout: 10_000 });
    const fb = await page.evaluate(() => {
      const i = document.getElementById('fb') as HTMLImageElement;
      const r = i.getBoundingClientRect();
      return { w: r.width, h: r.height, nw: i.naturalWidth };
    });
    expect(fb).toEqual({ w: 192, h: 128, nw: 192 });
    expect(await rejections(page)).toEqual([]);
    await page.close();
  });

  it('model hash mismatch (the page serves another model version): falls back to the <img>', async () => {
    // A model base whose manifest names another model: the stream's header hash differs.
    const manifest = JSON.parse(await readFile(join(MODELS, 'manifest.json'), 'utf8'));
    manifest.id = 'some-other-model';
    manifest.modelHash = 'ff'.repeat(32);
    srv.streams.set('/other-models/manifest.json', { bytes: new TextEncoder().encode(JSON.stringify(manifest)) });
    srv.mounts.set('/other-models/', MODELS);
    srv.streams.set('/i/hash.mrt', { bytes: small2 });
    const page = await open(
      '/t/hash.html',
      `<mrt-img id="m" src="/i/hash.mrt" width="192" height="128" alt="hash" budget="full"><img id="fb" alt="hash" loading="lazy"></mrt-img>
       <script type="module">window.track(document.getElementById('m'), 'm');</script>`,
      `<script type="module">customElements.whenDefined('mrt-img').then(() => customElements.get('mrt-img').configure({ modelBase: '/other-models/' }));</script>`,
    );
    await page.waitForFunction(() => (window as any).log.some((e: any) => e.type === 'error'), null, { timeout: 60_000 });
    await page.waitForTimeout(300);
    const log = (await page.evaluate(() => (window as any).log)) as { type: string; detail: any }[];
    const errors = log.filter((e) => e.type === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0].detail).toMatchObject({ code: 'model-hash', fatal: true });
    expect(log.filter((e) => e.type === 'paint' && e.detail.kind === 'ml')).toHaveLength(0);
    expect(await page.evaluate(() => document.getElementById('m')!.getAttribute('data-state'))).toBe('fallback');
    expect(await rejections(page)).toEqual([]);
    await page.close();
  });

  it('no-JS: the <img> child shows, with its alt text and size', async () => {
    srv.streams.set('/ref/nojs.png', { bytes: await sourcePng(SMALL2) });
    srv.streams.set(
      '/t/nojs.html',
      {
        bytes: new TextEncoder().encode(
          testPage(`<mrt-img id="m" src="/i/ev.mrt" width="192" height="128" alt="no js"><img id="fb" src="/ref/nojs.png" alt="no js" width="192" height="128"></mrt-img>`),
        ),
      },
    );
    const b2 = await launchChromium({ javaScript: false });
    try {
      const page = await b2.context.newPage();
      await page.goto(srv.url + '/t/nojs.html');
      await page.waitForFunction(() => (document.getElementById('fb') as HTMLImageElement).complete, null, { timeout: 10_000 }).catch(() => undefined);
      // With JS off, page.evaluate still works (it runs in an isolated world).
      const r = await page.evaluate(() => {
        const i = document.getElementById('fb') as HTMLImageElement;
        const b = i.getBoundingClientRect();
        return { w: b.width, h: b.height, nw: i.naturalWidth, alt: i.alt, defined: !!customElements.get('mrt-img') };
      });
      expect(r).toEqual({ w: 192, h: 128, nw: 192, alt: 'no js', defined: false });
    } finally {
      await b2.close();
    }
  });
});
