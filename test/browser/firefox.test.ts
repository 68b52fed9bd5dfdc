// Smoke test in a second engine: Debian's Firefox ESR, headless, driven by puppeteer-core over
// WebDriver BiDi, paints a learned image with the default lean runtime (our WASM SIMD kernels,
// int8 weights) close to the Node decoder (onnxruntime-node, float32 weights) on the same
// stream, and fetches the lean kernels and weights and nothing of onnxruntime-web.
import { existsSync } from 'node:fs';
import puppeteer, { type Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFixture, ensureClient, haveKodak, haveModels, MODELS, type FixtureSpec } from './fixtures.ts';
import { psnr, startServer, capturePage, type TestServer } from './harness.ts';

const FIREFOX = '/usr/bin/firefox-esr';
const TINY: FixtureSpec = { name: 'kodim01', crop: [0, 0, 64, 64], layersPerChunk: 64 };

// Missing prerequisites fail the file loudly: these tests never skip themselves into green.
if (!haveModels() || !haveKodak()) throw new Error('prerequisites missing (models/, ../shared/data/kodak): see README');
if (!existsSync(FIREFOX)) throw new Error(`${FIREFOX} missing: run npm run setup:test (Debian firefox-esr)`);

async function nodeDecode(mrt: Uint8Array): Promise<Uint8Array> {
  const { decode, loadModels } = await import('../../src/encoder/index.ts');
  const models = await loadModels(MODELS.endsWith('/') ? MODELS : MODELS + '/');
  return (await decode(mrt, { models })).image.data;
}

describe('Firefox ESR (WebDriver BiDi)', () => {
  let srv: TestServer;
  let reference: Uint8Array;
  let browser: Browser;

  beforeAll(async () => {
    const [, tiny] = await Promise.all([ensureClient(), encodeFixture(TINY)]);
    reference = await nodeDecode(tiny);
    srv = await startServer();
    srv.streams.set('/i/tiny.mrt', { bytes: tiny });
    browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath: FIREFOX,
      protocol: 'webDriverBiDi',
      headless: true,
    });
  });
  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await srv?.close();
  });

  it('the lean runtime paints the image on WASM, close to the Node decoder, and loads none of onnxruntime-web', async () => {
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(String((e as Error)?.message ?? e)));
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warn') console.log(`[firefox page] ${m.type()}: ${m.text()}`);
    });
    srv.streams.set('/t/firefox.html', {
      bytes: new TextEncoder().encode(
        capturePage('/i/tiny.mrt', 64),
      ),
    });
    const from = srv.log.length;
    await page.goto(`${srv.url}/t/firefox.html`);
    await page.waitForFunction(() => (window as any).pixels || (window as any).errors?.length, { timeout: 45_000, polling: 250 });
    const r = await page.evaluate(() => ({
      backend: (window as any).backend,
      paints: (window as any).paints,
      pixels: (window as any).pixels ?? [],
      errors: (window as any).errors,
      rejections: (window as any).__rejections,
    }));
    const requests = srv.log.slice(from).map((e) => e.path);
    await page.close();

    expect(r.errors).toEqual([]);
    expect(r.rejections).toEqual([]);
    expect(pageErrors).toEqual([]);
    expect(r.backend).toBe('wasm');
    const ml = r.paints.filter((p: any) => p.kind === 'ml');
    expect(ml.length).toBeGreaterThanOrEqual(1);
    expect(ml[ml.length - 1].backend).toBe('wasm');
    // an interim paint (the tail basis still loading) is followed by the full one before load
    expect(ml[ml.length - 1].interim).toBeUndefined();
    expect(r.pixels.length).toBe(64 * 64 * 4);
    // int8 weights in the browser, float32 ones in Node: close, not equal
    const q = psnr(r.pixels, 4, reference, 3, 64 * 64);
    console.log(`[firefox ${await browser.version()}] lean PSNR vs onnxruntime-node: ${q.toFixed(2)} dB, ${ml.length} ml paint(s), last runMs ${Math.round(ml[ml.length - 1].runMs)}`);
    expect(q).toBeGreaterThan(35);
    expect(requests.some((p) => /mrt-kernels\.[0-9a-f]+\.wasm$/.test(p))).toBe(true);
    expect(requests.some((p) => /decoder-lean\.[0-9a-f]+\.bin$/.test(p))).toBe(true);
    expect(requests.filter((p) => /ort|\.onnx/.test(p))).toEqual([]);
  }, 60_000);
});
