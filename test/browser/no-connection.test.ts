// budget="auto" where the browser has no navigator.connection (Safari, Firefox): the worker
// measures the stream's own arrival and feeds the shared budget rule with it. Chromium with
// navigator.connection deleted before the page's scripts run; the stream paced by the server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { readHeader } from '../../src/format/index.ts';
import { encodeFixture, ensureClient, haveKodak, haveModels } from './fixtures.ts';
import { launchChromium, startServer, testPage, type BrowserHandle, type TestServer } from './harness.ts';

const ready = haveModels() && haveKodak();
if (!ready) throw new Error('prerequisites missing (models/ or ../shared/data/kodak): see README');

const HEAD = `<script>
  delete Navigator.prototype.connection;
  window.ev = [];
  window.add = (id, src) => {
    document.body.insertAdjacentHTML('beforeend', '<mrt-img id="' + id + '" src="' + src + '" width="768" height="512" alt="' + id + '" refine="none"></mrt-img>');
    for (const t of ['load', 'error']) document.getElementById(id).addEventListener(t, (e) => window.ev.push({ id, type: t, detail: e.detail }));
  };
</script>
<script type="module">customElements.whenDefined('mrt-img').then(() => customElements.get('mrt-img').configure({ paint: false, directFinal: 'never' }));</script>`;

describe('budget="auto" without navigator.connection', () => {
  let srv: TestServer;
  let browser: BrowserHandle;
  let mrt: Uint8Array;

  beforeAll(async () => {
    await ensureClient();
    mrt = await encodeFixture({ name: 'kodim23' });
    srv = await startServer();
    srv.streams.set('/t/page.html', { bytes: new TextEncoder().encode(testPage('', HEAD)) });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await srv?.close();
  });

  const loaded = async (page: Page, id: string) => {
    await page.waitForFunction((i) => (window as any).ev.some((e: any) => e.id === i), id, { timeout: 60_000 });
    const ev = ((await page.evaluate(() => (window as any).ev)) as { id: string; type: string; detail: any }[]).filter((e) => e.id === id);
    expect(ev.filter((e) => e.type === 'error')).toEqual([]);
    return ev.find((e) => e.type === 'load')!.detail;
  };

  it('a slow stream stops at about a second of its measured throughput; a later image starts from the measurement', async () => {
    // 256 B every 40 ms: 6.4 KB/s (51 kbit/s)
    srv.streams.set('/i/slow.mrt', { bytes: mrt, pieceBytes: 256, pieceDelayMs: 40 });
    srv.streams.set('/i/next.mrt', { bytes: mrt });
    const page = await browser.context.newPage();
    await page.goto(`${srv.url}/t/page.html`);
    expect(await page.evaluate(() => 'connection' in navigator)).toBe(false);
    await page.evaluate(() => (window as any).add('a', '/i/slow.mrt'));
    const a = await loaded(page, 'a');
    const info = readHeader(mrt);
    console.log(`[no connection] ${mrt.length} B at 6.4 KB/s: stopped at ${a.bytes} B`);
    expect(a.complete).toBe(false);
    expect(a.bytes).toBeGreaterThanOrEqual(info.chunkEnds[0]);
    // the rule: one second of transfer less the round trip (at most 1.3 s worth, for the estimate's noise)
    expect(a.bytes).toBeGreaterThan(2000);
    expect(a.bytes).toBeLessThan(6400 * 1.3);
    // the next image (an unpaced server, but the page's last measurement says slow): its
    // first request is a Range for the measured budget
    await page.evaluate(() => (window as any).add('b', '/i/next.mrt'));
    const b = await loaded(page, 'b');
    expect(b.complete).toBe(false);
    const req = srv.log.find((r) => r.path === '/i/next.mrt')!;
    expect(req.range).toMatch(/^bytes=0-\d+$/);
    expect(req.sent).toBeLessThan(mrt.length);
    await page.close();
  });

  it('a fast stream is not cut: it arrives before there is a rate to measure', async () => {
    srv.streams.set('/i/fast.mrt', { bytes: mrt });
    const page = await browser.context.newPage();
    await page.goto(`${srv.url}/t/page.html`);
    await page.evaluate(() => (window as any).add('c', '/i/fast.mrt'));
    expect(await loaded(page, 'c')).toMatchObject({ complete: true, bytes: mrt.length });
    expect(srv.log.find((r) => r.path === '/i/fast.mrt')!.range).toBeUndefined();
    await page.close();
  });
});
