// The element's no-JS fallback, `<noscript><img …></noscript>`: with scripts on, the parser
// keeps the noscript's content as text, so its image is never requested unless the element
// fails (a fatal error: then it makes the <img> from that text); with JavaScript off the browser
// shows it. For comparison, what a plain <img> child costs today when the element works.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFixture, ensureClient, haveKodak, haveModels, type FixtureSpec } from './fixtures.ts';
import { launchChromium, ROOT, startServer, testPage, type BrowserHandle, type TestServer } from './harness.ts';

if (!(haveModels() && haveKodak())) throw new Error('prerequisites missing (models/ or ../shared/data/kodak): see README');

const SMALL: FixtureSpec = { name: 'kodim05', crop: [0, 0, 192, 128], layersPerChunk: 16 };
const LOG = `<script>
  window.kinds = [];
  addEventListener('paint', (e) => window.kinds.push(e.detail.kind), true);
  addEventListener('error', (e) => e instanceof CustomEvent && window.kinds.push('error:' + e.detail.code + ':' + e.detail.fatal), true);
</script>`;

const element = (fallback: string, src = '/i/small.mrt') => `<mrt-img src="${src}" width="192" height="128" alt="house">${fallback}</mrt-img>`;
const noscript = (path: string) => `<noscript><img src="${path}" width="192" height="128" alt="house"></noscript>`;

describe('<mrt-img> fallbacks', () => {
  let srv: TestServer;
  let browser: BrowserHandle;

  beforeAll(async () => {
    await ensureClient();
    srv = await startServer();
    srv.streams.set('/i/small.mrt', { bytes: await encodeFixture(SMALL) });
    const jpeg = new Uint8Array(await readFile(join(ROOT, 'samples/kodim05.jpg')));
    for (const name of ['ns-ok', 'ns-fatal', 'ns-nojs', 'img-eager', 'img-lazy']) srv.streams.set(`/fb/${name}.jpg`, { bytes: jpeg });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await srv?.close();
  });

  const requested = (path: string) => srv.log.some((l) => l.path === path);

  async function open(name: string, body: string, head = ''): Promise<Page> {
    srv.streams.set(`/${name}.html`, { bytes: new TextEncoder().encode(testPage(body, LOG + head)) });
    const page = await browser.context.newPage();
    await page.goto(`${srv.url}/${name}.html`);
    return page;
  }

  const until = (page: Page, kind: string) =>
    page.waitForFunction((k) => (window as unknown as { kinds: string[] }).kinds.some((x) => x === k || x.startsWith('error')), kind, { timeout: 60_000 });

  it('with scripts on, a <noscript> fallback is never requested (an <img> child above the fold is)', async () => {
    const page = await open('ok', element(noscript('/fb/ns-ok.jpg')) + element('<img src="/fb/img-eager.jpg" width="192" height="128" alt="house">') +
      element('<img src="/fb/img-lazy.jpg" width="192" height="128" alt="house" loading="lazy">'));
    await until(page, 'ml');
    await page.waitForFunction(() => [...document.querySelectorAll('mrt-img')].every((e) => e.getAttribute('data-state') === 'ml' || e.getAttribute('data-state') === 'final'), null, { timeout: 60_000 });
    const kinds = await page.evaluate(() => (window as unknown as { kinds: string[] }).kinds);
    expect(kinds.filter((k) => k.startsWith('error'))).toEqual([]);
    expect(requested('/fb/ns-ok.jpg')).toBe(false);
    // nothing of the noscript became an element
    expect(await page.evaluate(() => document.querySelectorAll('mrt-img img').length)).toBe(2);
    const eager = requested('/fb/img-eager.jpg');
    const lazy = requested('/fb/img-lazy.jpg');
    console.log(`<img> child while the element works: eager requested ${eager}, lazy (above the fold) requested ${lazy}; <noscript>: not requested`);
    expect(eager).toBe(true);
    await page.close();
  });

  it('on a fatal error (a missing model) the element makes the <img> from the noscript text and shows it', async () => {
    const page = await open(
      'fatal',
      element(noscript('/fb/ns-fatal.jpg')),
      `<script type="module">import { MrtImg } from '/mrt-img.js'; MrtImg.configure({ modelBase: '/no-models/' });</script>`,
    );
    await page.waitForFunction(() => document.querySelector('mrt-img')?.getAttribute('data-state') === 'fallback', null, { timeout: 60_000 });
    const img = page.locator('mrt-img > img');
    await img.waitFor({ state: 'visible', timeout: 10_000 });
    await page.waitForFunction(() => (document.querySelector('mrt-img > img') as HTMLImageElement | null)?.complete === true);
    const shown = await page.evaluate(() => {
      const i = document.querySelector('mrt-img > img') as HTMLImageElement;
      const r = i.getBoundingClientRect();
      return { natural: i.naturalWidth, w: Math.round(r.width), h: Math.round(r.height), alt: i.alt, src: new URL(i.src).pathname };
    });
    expect(shown).toEqual({ natural: 768, w: 192, h: 128, alt: 'house', src: '/fb/ns-fatal.jpg' });
    const kinds = await page.evaluate(() => (window as unknown as { kinds: string[] }).kinds);
    expect(kinds.filter((k) => k.startsWith('error'))).toEqual([expect.stringMatching(/^error:model:true$/)]);
    expect(requested('/fb/ns-fatal.jpg')).toBe(true);
    await page.close();
  });

  it('with JavaScript off, the noscript <img> shows', async () => {
    const nojs = await launchChromium({ javaScript: false });
    try {
      const page = await nojs.context.newPage();
      srv.streams.set('/nojs.html', { bytes: new TextEncoder().encode(testPage(element(noscript('/fb/ns-nojs.jpg')))) });
      await page.goto(`${srv.url}/nojs.html`);
      const img = page.locator('mrt-img img');
      await img.waitFor({ state: 'visible', timeout: 10_000 });
      const box = await img.boundingBox();
      expect(box && [Math.round(box.width), Math.round(box.height)]).toEqual([192, 128]);
      expect(requested('/fb/ns-nojs.jpg')).toBe(true);
      await page.close();
    } finally {
      await nojs.close();
    }
  });
});
