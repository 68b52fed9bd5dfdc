// A lost decode worker (an uncaught error, a worker that stops answering, a runtime out of
// memory) is replaced: images in flight start over once on the new worker (a second loss
// while one decodes: its fallback), finished images keep their paint, later images decode
// on the new worker. Test hooks in the worker (protocol.ts) cause each loss.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { readHeader } from '../../src/format/index.ts';
import { encodeFixture, ensureClient, haveKodak, haveModels, type FixtureSpec } from './fixtures.ts';
import { launchChromium, startServer, testPage, type BrowserHandle, type TestServer } from './harness.ts';

const ready = haveModels() && haveKodak();
const TINY: FixtureSpec = { name: 'kodim01', crop: [0, 0, 64, 64], layersPerChunk: 64 };

/** Records every worker the page starts, and each element's events. */
const HEAD = `<script>
  const W = Worker;
  window.workers = [];
  window.Worker = class extends W { constructor(...a) { super(...a); window.workers.push(this); } };
  window.ev = {};
  window.add = (id, attrs) => {
    const m = document.createElement('mrt-img');
    m.id = id;
    for (const [k, v] of Object.entries({ width: 64, height: 64, alt: id, refine: 'none', budget: 'q2', ...attrs })) m.setAttribute(k, v);
    window.ev[id] = [];
    for (const t of ['paint', 'load', 'error']) m.addEventListener(t, (e) => window.ev[id].push({ type: t, ...e.detail }));
    document.body.append(m);
  };
  window.lastWorker = () => window.workers[window.workers.length - 1];
</script>`;

type Ev = { type: string; kind?: string; code?: string; fatal?: boolean; message?: string; backend?: string };

if (!ready) throw new Error('prerequisites missing (models/ or ../shared/data/kodak): see README');
describe('a lost decode worker', () => {
  let srv: TestServer;
  let browser: BrowserHandle;

  beforeAll(async () => {
    await ensureClient();
    const tiny = await encodeFixture(TINY);
    const info = readHeader(tiny);
    srv = await startServer();
    srv.streams.set('/i/fast.mrt', { bytes: tiny });
    // paced: the header at once, then a piece every 1.5 s (a q2 prefix is in flight ~4.5 s)
    for (const p of ['/i/slow-b.mrt', '/i/slow-d.mrt', '/i/slow-e.mrt', '/i/slow-g.mrt']) {
      srv.streams.set(p, { bytes: tiny, boundaries: [info.firstPaintEnd, info.headerEnd, ...info.chunkEnds], pieceDelayMs: 1500 });
    }
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await srv?.close();
  });

  async function open(name: string, head = ''): Promise<{ page: Page; warnings: string[] }> {
    srv.streams.set(`/t/${name}.html`, { bytes: new TextEncoder().encode(testPage('', HEAD + head)) });
    const page = await browser.context.newPage();
    const warnings: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'warning' || m.type() === 'error') warnings.push(m.text());
    });
    await page.goto(`${srv.url}/t/${name}.html`);
    await page.waitForFunction(() => customElements.get('mrt-img'));
    return { page, warnings };
  }

  const events = (page: Page, id: string) => page.evaluate((i) => (window as any).ev[i] as Ev[], id);
  const until = (page: Page, fn: string, timeout = 90_000) => page.waitForFunction(fn, null, { timeout, polling: 50 });
  const paints = (id: string, kind: string) => `window.ev['${id}'].filter((e) => e.type === 'paint' && e.kind === '${kind}').length`;
  const ended = (id: string) => `window.ev['${id}'].some((e) => e.type === 'load' || e.type === 'error')`;

  it('an uncaught error: images in flight start over on a new worker (once), finished ones keep their paint, later ones decode there', async () => {
    const { page, warnings } = await open('crash');
    await page.evaluate(() => (window as any).add('a', { src: '/i/fast.mrt' }));
    await until(page, ended('a'));
    await page.evaluate(() => (window as any).add('b', { src: '/i/slow-b.mrt' }));
    await until(page, `${paints('b', 'placeholder')} >= 1`);
    await page.evaluate(() => (window as any).lastWorker().postMessage({ type: 'crash' }));
    // b starts over on worker 2 (its placeholder paints again); d starts there too
    await until(page, `${paints('b', 'placeholder')} >= 2 && window.workers.length === 2`);
    await page.evaluate(() => (window as any).add('d', { src: '/i/slow-d.mrt' }));
    await until(page, `${paints('d', 'placeholder')} >= 1`);
    expect(await events(page, 'b')).not.toContainEqual(expect.objectContaining({ type: 'load' }));
    // a second loss while b decodes: b falls back; d, restarted once, loads on worker 3
    await page.evaluate(() => (window as any).lastWorker().postMessage({ type: 'crash' }));
    await until(page, `${ended('b')} && ${ended('d')}`);
    await page.evaluate(() => (window as any).add('c', { src: '/i/fast.mrt' }));
    await until(page, ended('c'));

    const [a, b, c, d] = await Promise.all(['a', 'b', 'c', 'd'].map((id) => events(page, id)));
    const errors = (e: Ev[]) => e.filter((x) => x.type === 'error');
    expect(a.filter((x) => x.type === 'paint' && x.kind === 'ml').length).toBeGreaterThanOrEqual(1);
    expect(errors(a)).toEqual([]);
    expect(errors(b)).toEqual([expect.objectContaining({ code: 'runtime', fatal: true, message: expect.stringMatching(/lost twice.*crashed: .*simulated crash/) })]);
    expect(errors(d)).toEqual([]);
    expect(d.filter((x) => x.type === 'paint' && x.kind === 'placeholder')).toHaveLength(2);
    expect(d).toContainEqual(expect.objectContaining({ type: 'paint', kind: 'ml' }));
    expect(errors(c)).toEqual([]);
    expect(c).toContainEqual(expect.objectContaining({ type: 'paint', kind: 'ml' }));
    const states = await page.evaluate(() => ['a', 'b', 'c', 'd'].map((id) => document.getElementById(id)!.getAttribute('data-state')));
    expect(states).toEqual(['ml', 'fallback', 'ml', 'ml']);
    expect(await page.evaluate(() => (window as any).workers.length)).toBe(3);
    expect(warnings.filter((w) => /\[mrt-img\] the decode worker crashed/.test(w))).toHaveLength(2);
    await page.close();
  }, 240_000);

  it('a worker that stops answering is detected by the watchdog and replaced; the image in flight loads on the new one', async () => {
    const { page, warnings } = await open('hang', `<script type="module">customElements.whenDefined('mrt-img').then(() => customElements.get('mrt-img').configure({ workerTimeout: 2000 }));</script>`);
    await page.evaluate(() => (window as any).add('e', { src: '/i/slow-e.mrt' }));
    await until(page, `${paints('e', 'placeholder')} >= 1`);
    await page.evaluate(() => (window as any).lastWorker().postMessage({ type: 'hang' }));
    await until(page, ended('e'));
    const e = await events(page, 'e');
    expect(e.filter((x) => x.type === 'error')).toEqual([]);
    expect(e).toContainEqual(expect.objectContaining({ type: 'paint', kind: 'ml' }));
    expect(await page.evaluate(() => (window as any).workers.length)).toBe(2);
    expect(warnings.some((w) => /\[mrt-img\] the decode worker did not answer for [\d.]+ s; restarting 1 image/.test(w))).toBe(true);
    await page.close();
  }, 120_000);

  it('a worker that announces a long block (a decoder run at the size limit) is not taken for dead', async () => {
    const { page, warnings } = await open('busy', `<script type="module">customElements.whenDefined('mrt-img').then(() => customElements.get('mrt-img').configure({ workerTimeout: 1000 }));</script>`);
    await page.evaluate(() => (window as any).add('h', { src: '/i/slow-e.mrt' }));
    await until(page, `${paints('h', 'placeholder')} >= 1`);
    await page.evaluate(() => (window as any).lastWorker().postMessage({ type: 'hang', ms: 3000, notice: true }));
    await until(page, ended('h'));
    const h = await events(page, 'h');
    expect(h.filter((x) => x.type === 'error')).toEqual([]);
    expect(h).toContainEqual(expect.objectContaining({ type: 'paint', kind: 'ml' }));
    expect(h.filter((x) => x.type === 'paint' && x.kind === 'placeholder')).toHaveLength(1);
    expect(await page.evaluate(() => (window as any).workers.length)).toBe(1);
    expect(warnings.filter((w) => /\[mrt-img\] the decode worker/.test(w))).toEqual([]);
    await page.close();
  }, 120_000);

  it('a decoder run out of memory: that image shows its fallback with a clear error, the worker is replaced, the image in flight loads', async () => {
    const { page, warnings } = await open('oom');
    await page.evaluate(async () => {
      const M = customElements.get('mrt-img') as any;
      M.warm();
      await M.backend();
    });
    await page.evaluate(() => (window as any).add('g', { src: '/i/slow-g.mrt' }));
    await until(page, `${paints('g', 'placeholder')} >= 1`);
    // the next run fails as a failed memory.grow would: f's (high priority, its chunks are here at once)
    await page.evaluate(() => (window as any).lastWorker().postMessage({ type: 'fail-alloc' }));
    await page.evaluate(() => (window as any).add('f', { src: '/i/fast.mrt', fetchpriority: 'high' }));
    await until(page, `${ended('f')} && ${ended('g')}`);
    const [f, g] = await Promise.all([events(page, 'f'), events(page, 'g')]);
    expect(f.filter((x) => x.type === 'error')).toEqual([
      expect.objectContaining({ code: 'runtime', fatal: true, message: expect.stringMatching(/^out of memory decoding a 64x64 image \(64x64 padded\): WebAssembly\.Memory\.grow/) }),
    ]);
    expect(await page.evaluate(() => document.getElementById('f')!.getAttribute('data-state'))).toBe('fallback');
    expect(g.filter((x) => x.type === 'error')).toEqual([]);
    expect(g).toContainEqual(expect.objectContaining({ type: 'paint', kind: 'ml' }));
    expect(await page.evaluate(() => (window as any).workers.length)).toBe(2);
    expect(warnings.some((w) => /\[mrt-img\] the decoder ran out of memory/.test(w))).toBe(true);
    await page.close();
  }, 120_000);
});
