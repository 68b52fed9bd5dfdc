// A first visit to a page of streams with a final layer (the encoder's default): the learned
// decoder is not cached, so each image paints its placeholder and reads its final layer with one
// Range request from the end of the last chunk (MrtConfig.directFinal 'auto'): a cold visitor pays
// the header over the plain image, and waits for no runtime. The harness server sends no-store,
// so every visit here is a first one; 'never' keeps the learned path.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { readFinal, readFirstPaint, readHeader } from '../../src/format/index.ts';
import { rewrite } from '../encoder/bombs.ts';
import { encodeFixture, ensureClient, haveKodak, haveModels, type FixtureSpec } from './fixtures.ts';
import { join } from 'node:path';
import { KODAK, launchChromium, startServer, testPage, type BrowserHandle, type TestServer } from './harness.ts';

if (!(haveModels() && haveKodak())) throw new Error('prerequisites missing (models/ or ../shared/data/kodak): see README');

/** The encoder's defaults: an AVIF final, the learned chunks cut at 10 % over it. */
const PRODUCT: FixtureSpec = { name: 'kodim23', final: 'avif', maxOverhead: 0.1 };
const RUNTIME = /\/(assets\/)?(mrt-kernels|decoder-lean)[.]/;

const TRACK = `<script>
  window.ev = [];
  window.track = (el) => { for (const t of ['paint', 'load', 'error']) el.addEventListener(t, (e) => window.ev.push({ type: t, t: performance.now(), detail: e.detail })); };
</script>`;

describe('first visit: placeholder, then the final layer on its own', () => {
  let srv: TestServer;
  let browser: BrowserHandle;
  let mrt: Uint8Array;

  beforeAll(async () => {
    await ensureClient();
    mrt = await encodeFixture(PRODUCT);
    srv = await startServer();
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await srv?.close();
  });

  /** `whole`: the stream sent in one piece (as on a fast link), else 1 KB every 20 ms. */
  const visit = async (path: string, config: object, bytes = mrt, attrs = '', extraHead = '', parts = false, whole = false) => {
    srv.streams.set('/i/d.mrt', whole ? { bytes, parts } : { bytes, pieceBytes: 1024, pieceDelayMs: 20, parts });
    const body = `<mrt-img id="m" src="/i/d.mrt" width="768" height="512" alt="d" ${attrs}></mrt-img>
      <script type="module">
        customElements.get('mrt-img') || await customElements.whenDefined('mrt-img');
        window.track(document.getElementById('m'));
      </script>`;
    const head = `${extraHead}${TRACK}<script type="module">customElements.whenDefined('mrt-img').then(() => customElements.get('mrt-img').configure(${JSON.stringify(config)}));</script>`;
    srv.streams.set(path, { bytes: new TextEncoder().encode(testPage(body, head)) });
    const from = srv.log.length;
    const page: Page = await browser.context.newPage();
    const logs: string[] = [];
    page.on('console', (m) => logs.push(m.text()));
    await page.goto(srv.url + path);
    await page.waitForFunction(() => (window as any).ev.some((e: any) => e.type === 'load' || e.type === 'error'), null, { timeout: 60_000 });
    await page.waitForTimeout(300);
    const ev = (await page.evaluate(() => (window as any).ev)) as { type: string; t: number; detail: any }[];
    return { page, ev, log: srv.log.slice(from), logs };
  };

  it("'auto' on a first visit: two requests (the header, then the final layer by Range), no runtime before the final paints", async () => {
    const info = readHeader(mrt);
    const start = info.chunkEnds.at(-1)!;
    expect(info.header.final?.mime).toBe('image/avif');
    expect(start).toBeGreaterThan(info.headerEnd); // there are learned chunks to skip
    const { page, ev, log } = await visit('/t/auto.html', { debug: true });
    expect(ev.filter((e) => e.type === 'error')).toEqual([]);
    expect(ev.filter((e) => e.type === 'paint').map((e) => e.detail.kind)).toEqual(['placeholder', 'final']);
    const reqs = log.filter((r) => r.path === '/i/d.mrt');
    expect(reqs.map((r) => r.range)).toEqual(['bytes=0-511', `bytes=${start}-${mrt.length - 1}`]);
    // the first is the page's request for the placeholder part: this server sends the stream's
    // start instead, which the worker takes over (no byte twice)
    expect(reqs.map((r) => r.search)).toEqual(['?part=placeholder', `?bytes=${mrt.length}`]);
    const sent = reqs.reduce((a, r) => a + r.sent, 0);
    // the header (and what fits in the first 512 bytes) on top of the final layer: never the learned chunks
    expect(sent).toBeLessThanOrEqual(512 + (mrt.length - start));
    const load = ev.find((e) => e.type === 'load')!.detail;
    expect(load).toMatchObject({ complete: true, chunks: 0, bytes: info.headerEnd + (mrt.length - start) });
    // the runtime was not fetched before the final layer (it may load after it, for later images)
    const firstRuntime = log.findIndex((r) => RUNTIME.test(r.path));
    const finalReq = log.findIndex((r) => r.path === '/i/d.mrt' && r.range?.startsWith(`bytes=${start}-`));
    expect(finalReq).toBeGreaterThan(-1);
    expect(firstRuntime === -1 || firstRuntime > finalReq).toBe(true);
    const shown = await page.evaluate(() => {
      const m = document.getElementById('m') as any;
      return [m.getAttribute('data-state'), m.finalElement?.naturalWidth, m.currentSrc.slice(0, 5)];
    });
    expect(shown).toEqual(['final', 768, 'blob:']);
    await page.close();
  });

  it("'never': the learned path on a first visit too (token paints, then the final from the same read)", async () => {
    const { page, ev, log } = await visit('/t/never.html', { directFinal: 'never' });
    expect(ev.filter((e) => e.type === 'error')).toEqual([]);
    const kinds = ev.filter((e) => e.type === 'paint').map((e) => e.detail.kind);
    expect(kinds[0]).toBe('placeholder');
    // (the token preview or the learned decoder, whichever is ready while the stream arrives)
    expect(kinds.some((k) => k === 'preview' || k === 'ml')).toBe(true);
    expect(kinds.at(-1)).toBe('final');
    // one read from the first byte (budget="auto" bounds it by Range: here past the file's end)
    const reqs = log.filter((r) => r.path === '/i/d.mrt');
    expect(reqs).toHaveLength(1);
    expect(reqs[0]!.range ?? 'bytes=0-').toMatch(/^bytes=0-/);
    await page.close();
  });

  it("'never', the whole stream in one read (a fast link): the final layer is shown from its bytes, and the tokens before it are never decoded", async () => {
    const { page, ev } = await visit('/t/never-whole.html', { directFinal: 'never' }, mrt, '', '', false, true);
    expect(ev.filter((e) => e.type === 'error')).toEqual([]);
    expect(ev.filter((e) => e.type === 'paint').map((e) => e.detail.kind)).toEqual(['placeholder', 'final']);
    const load = ev.find((e) => e.type === 'load')!;
    expect(load.detail.complete).toBe(true);
    expect(load.detail.tokens).toBe(0);
    await page.close();
  });

  it("'never', the whole stream in one read, a final the page cannot show: the tokens held back are decoded, and learned paints follow", async () => {
    // a JPEG final whose own header gives the image's size, but whose EXIF orientation turns it:
    // passed by our checks (the coded size), refused by the page (the browser shows it turned)
    const jpeg = new Uint8Array(await sharp(join(KODAK, 'kodim23.png')).jpeg().withMetadata({ orientation: 6 }).toBuffer());
    const broken = rewrite(mrt, { final: { mime: 'image/jpeg', bytes: jpeg } });
    const { page, ev, logs } = await visit('/t/never-whole-broken.html', { directFinal: 'never' }, broken, 'budget="full"', '', false, true);
    expect(logs.filter((l) => /final layer \(image\/jpeg\) not shown: it decoded to 512x768/.test(l)).length).toBeGreaterThanOrEqual(1);
    // (the learned paints may come after the load: the final was the load's last paint until the page refused it)
    await page.waitForFunction(() => (window as any).ev.some((e: any) => e.type === 'paint' && e.detail.kind === 'ml'), null, { timeout: 30_000 });
    const paints = ((await page.evaluate(() => (window as any).ev)) as typeof ev).filter((e) => e.type === 'paint');
    expect(paints[0]!.detail.kind).toBe('placeholder');
    expect(paints.map((e) => e.detail.kind)).not.toContain('final');
    expect(paints.at(-1)!.detail.kind).toBe('ml');
    expect(paints.at(-1)!.detail.tokens).toBeGreaterThan(0);
    await page.close();
  });

  it('a final layer of another size than the header says, read alone: one corrupt error, the placeholder stays', async () => {
    const wrong = new Uint8Array(await sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080' } }).avif({ quality: 50 }).toBuffer());
    const bad = rewrite(mrt, { final: { mime: 'image/avif', bytes: wrong } });
    const { page, ev } = await visit('/t/bad.html', {}, bad);
    const errors = ev.filter((e) => e.type === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.detail).toMatchObject({ code: 'corrupt', fatal: false });
    expect(errors[0]!.detail.message).toMatch(/final layer refused: .*64x64, the header says 768x512/);
    expect(ev.filter((e) => e.type === 'paint').map((e) => e.detail.kind)).toEqual(['placeholder']);
    await page.close();
  });

  it('a budget that stops before the final layer: the final still comes at once, alone; under Save-Data only on refine', async () => {
    const start = readHeader(mrt).chunkEnds.at(-1)!;
    // (a byte budget leaves the learned path as it is; an automatic one is what a slow link gets)
    const slow = `<script>Object.defineProperty(Navigator.prototype, 'connection', { configurable: true, get: () => ({ effectiveType: '2g', downlink: 0.25, rtt: 1800, saveData: false }) });</script>`;
    const a = await visit('/t/slow.html', {}, mrt, 'refine="none"', slow);
    expect(a.ev.filter((e) => e.type === 'paint').map((e) => e.detail.kind)).toEqual(['placeholder', 'final']);
    expect(a.log.filter((r) => r.path === '/i/d.mrt').map((r) => r.range)).toEqual(['bytes=0-511', `bytes=${start}-${mrt.length - 1}`]);
    await a.page.close();
    // Save-Data: the placeholder, a partial load; a refine reads the final alone
    const b = await visit('/t/save.html', { saveData: true }, mrt, 'refine="none"', slow);
    expect(b.ev.filter((e) => e.type === 'paint').map((e) => e.detail.kind)).toEqual(['placeholder']);
    expect(b.ev.find((e) => e.type === 'load')!.detail.complete).toBe(false);
    const from = srv.log.length;
    await b.page.evaluate(() => (document.getElementById('m') as any).refine());
    await b.page.waitForFunction(() => (window as any).ev.filter((e: any) => e.type === 'load').length >= 2, null, { timeout: 30_000 });
    const ev = (await b.page.evaluate(() => (window as any).ev)) as { type: string; detail: any }[];
    expect(ev.filter((e) => e.type === 'paint').map((e) => e.detail.kind)).toEqual(['placeholder', 'final']);
    expect(ev.filter((e) => e.type === 'load').at(-1)!.detail.complete).toBe(true);
    expect(srv.log.slice(from).filter((r) => r.path === '/i/d.mrt').map((r) => r.range)).toEqual([`bytes=${start}-${mrt.length - 1}`]);
    await b.page.close();
  });

  it('a stored prefix that stops before its final layer (416 for the Range): the learned layer instead, said on the console', async () => {
    const cut = mrt.subarray(0, readHeader(mrt).chunkEnds.at(-1)!);
    const { page, ev, logs } = await visit('/t/prefix.html', {}, cut, 'refine="none"');
    expect(logs.filter((l) => /the final layer could not be read alone \(.*416.*\); reading the learned layer instead/.test(l))).toHaveLength(1);
    const kinds = ev.filter((e) => e.type === 'paint').map((e) => e.detail.kind);
    expect(kinds[0]).toBe('placeholder');
    expect(kinds.some((k) => k === 'preview' || k === 'ml')).toBe(true);
    expect(ev.filter((e) => e.type === 'error')).toEqual([]);
    expect(ev.find((e) => e.type === 'load')!.detail).toMatchObject({ complete: false, bytes: cut.length });
    await page.close();
  });

  it('a refine that cannot read the final layer alone (416) reads the learned layer instead, said on the console', async () => {
    const cut = mrt.subarray(0, readHeader(mrt).chunkEnds.at(-1)!);
    const slow = `<script>Object.defineProperty(Navigator.prototype, 'connection', { configurable: true, get: () => ({ effectiveType: '2g', downlink: 0.25, rtt: 1800, saveData: false }) });</script>`;
    // Save-Data holds the final layer back to a refine
    const { page, ev, logs } = await visit('/t/prefix-refine.html', { saveData: true }, cut, 'refine="none"', slow);
    expect(ev.filter((e) => e.type === 'load')).toHaveLength(1);
    const from = srv.log.length;
    await page.evaluate(() => (document.getElementById('m') as any).refine());
    await page.waitForFunction(() => (window as any).ev.filter((e: any) => e.type === 'load' || e.type === 'error').length >= 2, null, { timeout: 30_000 });
    const after = (await page.evaluate(() => (window as any).ev)) as { type: string; detail: any }[];
    expect(after.filter((e) => e.type === 'error')).toEqual([]);
    expect(logs.filter((l) => /the final layer could not be read alone \(.*416.*\); reading the learned layer instead/.test(l))).toHaveLength(1);
    // the learned chunks were read after the failed Range for the final layer
    const reqs = srv.log.slice(from).filter((r) => r.path === '/i/d.mrt');
    expect(reqs.map((r) => r.status)).toEqual([416, 206]);
    expect(after.filter((e) => e.type === 'load').at(-1)!.detail.bytes).toBe(cut.length);
    await page.close();
  });

  describe('from the edge, which serves parts (?part=)', () => {
    it("'auto': the placeholder part, then the final part as an <img> by its URL; no worker before the final; the learned decoder loads after it", async () => {
      const info = readHeader(mrt);
      const first = readFirstPaint(mrt);
      const finalBytes = readFinal(info, mrt.subarray(0, info.headerEnd), mrt.subarray(info.chunkEnds.at(-1)!, info.finalEnd)).length;
      const { page, ev, log, logs } = await visit('/t/parts.html', {}, mrt, '', '', true);
      expect(ev.filter((e) => e.type === 'error')).toEqual([]);
      expect(ev.filter((e) => e.type === 'paint').map((e) => e.detail.kind)).toEqual(['placeholder', 'final']);
      const reqs = log.filter((r) => r.path === '/i/d.mrt');
      expect(reqs.map((r) => r.search)).toEqual(['?part=placeholder', '?part=final']);
      expect(reqs.map((r) => r.sent)).toEqual([first.placeholder!.bytes.length, finalBytes]);
      const load = ev.find((e) => e.type === 'load')!.detail;
      expect(load).toMatchObject({ complete: true, chunks: 0, tokens: 0, bytes: first.placeholder!.bytes.length + finalBytes });
      // the worker's script is not fetched before the final layer is on screen; then it is, and
      // it loads the learned decoder for later images
      const finalAt = ev.find((e) => e.type === 'paint' && e.detail.kind === 'final')!;
      const workerReq = () => srv.log.find((r) => r.path === '/mrt-worker.js' && r.start >= log[0]!.start);
      for (let t = 0; !srv.log.some((r) => RUNTIME.test(r.path) && r.start >= log[0]!.start); t += 100) {
        if (t > 30_000) throw new Error(`no runtime fetched after the final: ${srv.log.map((r) => r.path).join(' ')}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const navStart = await page.evaluate(() => performance.timeOrigin);
      expect(workerReq()!.start).toBeGreaterThanOrEqual(Math.floor(navStart + finalAt.t) - 5);
      const shown = await page.evaluate(() => {
        const m = document.getElementById('m') as any;
        return [m.getAttribute('data-state'), m.finalElement?.naturalWidth, m.currentSrc, m.naturalWidth];
      });
      expect(shown).toEqual(['final', 768, `${srv.url}/i/d.mrt?part=final`, 768]);
      expect(logs.filter((l) => /not shown|could not/.test(l))).toEqual([]);
      await page.close();
    });

    it('the final part is asked for as soon as the placeholder part\'s headers say the stream has one, not after its image', async () => {
      srv.streams.set('/i/slowph.mrt', { bytes: mrt, parts: true, boundaries: [64], pieceDelayMs: 1500 });
      const body = `<mrt-img id="m" src="/i/slowph.mrt" width="768" height="512" alt="d"></mrt-img>
        <script type="module">
          customElements.get('mrt-img') || await customElements.whenDefined('mrt-img');
          window.track(document.getElementById('m'));
        </script>`;
      srv.streams.set('/t/slowph.html', { bytes: new TextEncoder().encode(testPage(body, TRACK)) });
      const from = srv.log.length;
      const page: Page = await browser.context.newPage();
      await page.goto(srv.url + '/t/slowph.html');
      await page.waitForFunction(() => (window as any).ev.some((e: any) => e.type === 'load' || e.type === 'error'), null, { timeout: 60_000 });
      const ev = (await page.evaluate(() => (window as any).ev)) as { type: string; detail: any }[];
      expect(ev.filter((e) => e.type === 'error')).toEqual([]);
      expect([['placeholder', 'final'], ['final']]).toContainEqual(ev.filter((e) => e.type === 'paint').map((e) => e.detail.kind));
      const reqs = srv.log.slice(from).filter((r) => r.path === '/i/slowph.mrt');
      expect(reqs.map((r) => r.search)).toEqual(['?part=placeholder', '?part=final']);
      // the placeholder's body took 1.5 s more; the final's request did not wait for it
      expect(reqs[1]!.start).toBeLessThan(reqs[0]!.end! - 1000);
      await page.close();
    });

    it("a final part the browser cannot decode: said on the console, and the learned layer instead", async () => {
      const info = readHeader(mrt);
      const whole = readFinal(info, mrt.subarray(0, info.headerEnd), mrt.subarray(info.chunkEnds.at(-1)!, info.finalEnd));
      // its header (and so its size) intact, half of its coded image gone
      const data = whole.slice(0, Math.floor(whole.length / 2));
      const broken = rewrite(mrt, { final: { mime: 'image/avif', bytes: data } });
      const { page, ev, log, logs } = await visit('/t/parts-broken.html', {}, broken, 'refine="none"', '', true);
      expect(logs.filter((l) => /final layer \(image\/avif\) not shown/.test(l)).length).toBeGreaterThanOrEqual(1);
      const kinds = ev.filter((e) => e.type === 'paint').map((e) => e.detail.kind);
      expect(kinds[0]).toBe('placeholder');
      // (the token preview or the learned decoder, whichever is ready while the stream arrives)
      expect(kinds.some((k) => k === 'preview' || k === 'ml')).toBe(true);
      expect(kinds).not.toContain('final');
      // the worker read the stream from its first byte (the learned layer, not the final alone)
      const reqs = log.filter((r) => r.path === '/i/d.mrt');
      expect(reqs.map((r) => r.search).slice(0, 3)).toEqual(['?part=placeholder', '?part=final', '']);
      expect(reqs[2]!.range ?? 'bytes=0-').toMatch(/^bytes=0-/);
      await page.close();
    });

    it('a page that preloads the final part: fetched once, from the start, and shown as soon as it is decoded', async () => {
      const preload = '<link rel="preload" as="image" href="/i/d.mrt?part=final">';
      const { page, ev, log } = await visit('/t/parts-preload.html', {}, mrt, '', preload, true);
      expect(ev.filter((e) => e.type === 'error')).toEqual([]);
      // the final may be on screen before the placeholder part is here: then the placeholder is not painted
      const kinds = ev.filter((e) => e.type === 'paint').map((e) => e.detail.kind);
      expect([['placeholder', 'final'], ['final']]).toContainEqual(kinds);
      const shown = await page.evaluate(() => {
        const m = document.getElementById('m') as any;
        return [m.getAttribute('data-state'), m.naturalWidth, m.currentSrc.endsWith('/i/d.mrt?part=final')];
      });
      expect(shown).toEqual(['final', 768, true]);
      const reqs = log.filter((r) => r.path === '/i/d.mrt');
      // the preload's request, made while the page was parsed, is the <img>'s: no second one
      expect(reqs.map((r) => r.search)).toEqual(['?part=final', '?part=placeholder']);
      expect(ev.find((e) => e.type === 'load')!.detail.complete).toBe(true);
      await page.close();
    });

    it('an element that leaves the page while its placeholder part comes: no final, no worker, nothing said', async () => {
      // (the final is asked for as soon as the part's headers come: here they come after the element left)
      srv.streams.set('/i/gone.mrt', { bytes: mrt, parts: true, waitMs: 1500 });
      const body = `<mrt-img id="m" src="/i/gone.mrt" width="768" height="512" alt="gone"></mrt-img>
        <script type="module">
          await customElements.whenDefined('mrt-img');
          setTimeout(() => document.getElementById('m').remove(), 300);
        </script>`;
      srv.streams.set('/t/gone.html', { bytes: new TextEncoder().encode(testPage(body)) });
      const from = srv.log.length;
      const page: Page = await browser.context.newPage();
      const logs: string[] = [];
      page.on('console', (m) => logs.push(m.text()));
      await page.goto(srv.url + '/t/gone.html');
      await page.waitForTimeout(3000);
      const reqs = srv.log.slice(from).map((r) => r.path + r.search);
      expect(reqs).toContain('/i/gone.mrt?part=placeholder');
      expect(reqs).not.toContain('/i/gone.mrt?part=final');
      expect(reqs).not.toContain('/mrt-worker.js');
      expect(logs.filter((l) => /mrt/.test(l))).toEqual([]);
      await page.close();
    });

    it("'never', or a byte budget: no part is asked for", async () => {
      const a = await visit('/t/parts-never.html', { directFinal: 'never' }, mrt, '', '', true);
      expect(a.log.filter((r) => r.path === '/i/d.mrt' && r.search.includes('part='))).toEqual([]);
      expect(a.ev.filter((e) => e.type === 'paint').map((e) => e.detail.kind).at(-1)).toBe('final');
      await a.page.close();
      const b = await visit('/t/parts-budget.html', {}, mrt, 'budget="2k" refine="none"', '', true);
      expect(b.log.filter((r) => r.path === '/i/d.mrt' && r.search.includes('part='))).toEqual([]);
      await b.page.close();
    });
  });
});
