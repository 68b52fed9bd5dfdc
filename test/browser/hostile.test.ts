// The hostile corpus of the Node decoder (test/encoder/hostile-corpus.ts) in the page: tiny
// headers claiming huge sizes, token-count bombs, placeholder and final bombs, lying chunk
// tables. Each ends in exactly one clear error event, with the message the Node decoder
// gives where the two share the check; nothing the size of the claim is decoded.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostileCorpus, type HostileCase } from '../encoder/hostile-corpus.ts';
import { encodeFixture, ensureClient, haveKodak, haveModels, MODELS, type FixtureSpec } from './fixtures.ts';
import { launchChromium, startServer, testPage, type BrowserHandle, type TestServer } from './harness.ts';

const ready = haveModels() && haveKodak();
// a 12x8 base: its noise PNG is longer than the 200 bytes the corpus cuts it to
const REAL: FixtureSpec = { name: 'kodim05', crop: [0, 0, 192, 128], layersPerChunk: 16 };

/** Where the page's check words it otherwise than sharp's in Node. */
const BROWSER_MESSAGE: Record<string, RegExp> = {
  'a final layer that is an SVG of the header size (any cost to render)': /final layer refused: the final layer is not an image format a stream may embed/,
  'a placeholder that is not an image': /placeholder/,
  'a placeholder whose pixel data ends early': /cannot decode the image\/png placeholder/,
};

/** The element should fall back (nothing but a refusal to show) in these; elsewhere the best image stays. */
const PAINTS: Record<string, 'placeholder' | 'ml'> = {
  "a placeholder of a legal size that is not the model's base": 'placeholder',
  'a final layer of 16000x16000 in 31 KB': 'ml',
  'a final layer that is an SVG of the header size (any cost to render)': 'ml',
  'a chunk table announcing more than MAX_TOTAL_BYTES': 'placeholder',
  'a chunk table whose first chunk is 1 MiB (the stream ends inside it)': 'ml',
  'a chunk table that shifts every chunk by one byte': 'ml',
};

if (!ready) throw new Error('prerequisites missing (models/ or ../shared/data/kodak): see README');
describe('hostile streams in the page', () => {
  let srv: TestServer;
  let browser: BrowserHandle;
  let corpus: HostileCase[];

  beforeAll(async () => {
    await ensureClient();
    const real = await encodeFixture(REAL);
    corpus = await hostileCorpus(JSON.parse(await readFile(join(MODELS, 'manifest.json'), 'utf8')), real);
    srv = await startServer();
    corpus.forEach((c, i) => srv.streams.set(`/h/${i}.mrt`, { bytes: c.bytes }));
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await srv?.close();
  });

  it('every file of the hostile corpus ends in one clear error event; refused ones show the fallback', async () => {
    const els = corpus.map((_, i) => `<mrt-img id="h${i}" src="/h/${i}.mrt" width="192" height="128" alt="h${i}" budget="full" refine="none"></mrt-img>`).join('');
    srv.streams.set('/t/hostile.html', {
      bytes: new TextEncoder().encode(
        testPage(
          els,
          // the learned path for every stream (a first visit would read a final layer alone:
          // test/browser/direct-final.test.ts covers a refused final there)
          `<script type="module">customElements.whenDefined('mrt-img').then(() => customElements.get('mrt-img').configure({ directFinal: 'never' }));</script>
          <script>
            window.ev = {};
            addEventListener('DOMContentLoaded', () => {
              for (const m of document.querySelectorAll('mrt-img')) {
                window.ev[m.id] = [];
                for (const t of ['paint', 'load', 'error']) m.addEventListener(t, (e) => window.ev[m.id].push({ type: t, t: performance.now(), ...e.detail }));
              }
            });
          </script>`,
        ),
      ),
    });
    const page = await browser.context.newPage();
    const rejections: string[] = [];
    page.on('console', (m) => {
      if (/unhandled|Uncaught/i.test(m.text())) rejections.push(m.text());
    });
    await page.goto(`${srv.url}/t/hostile.html`);
    await page.waitForFunction(
      (n) => Array.from({ length: n }, (_, i) => (window as any).ev[`h${i}`]).every((e: any[]) => e.some((x) => x.type === 'load' || x.type === 'error')),
      corpus.length,
      { timeout: 120_000, polling: 100 },
    );
    // a moment for anything that would follow an error (there must be nothing)
    await page.waitForTimeout(500);
    const ev = (await page.evaluate(() => (window as any).ev)) as Record<string, { type: string; t: number; kind?: string; code?: string; fatal?: boolean; message?: string }[]>;
    const states = await page.evaluate(() => Object.fromEntries([...document.querySelectorAll('mrt-img')].map((m) => [m.id, m.getAttribute('data-state')])));
    for (const [i, c] of corpus.entries()) {
      const e = ev[`h${i}`]!;
      const errors = e.filter((x) => x.type === 'error');
      if (errors.length !== 1) console.log(`[hostile] ${c.name}: events ${JSON.stringify(e)}`);
      console.log(`[hostile] ${c.name}: ${errors[0]?.code} fatal=${errors[0]?.fatal} after ${errors[0]?.t.toFixed(0)} ms: ${errors[0]?.message}`);
      expect(errors, c.name).toHaveLength(1);
      expect(e.filter((x) => x.type === 'load'), c.name).toEqual([]);
      expect(errors[0]!.message, c.name).toMatch(BROWSER_MESSAGE[c.name] ?? c.refused ?? c.painted!);
      const paints = e.filter((x) => x.type === 'paint').map((x) => x.kind);
      const best = PAINTS[c.name];
      if (best) {
        expect(paints, c.name).toContain(best);
        expect(errors[0]!.fatal, c.name).toBe(false);
      } else {
        expect(paints, c.name).toEqual([]);
        expect(errors[0]!.fatal, c.name).toBe(true);
        expect(states[`h${i}`], c.name).toBe('fallback');
      }
    }
    expect(rejections).toEqual([]);
    await page.close();
  }, 180_000);
});
