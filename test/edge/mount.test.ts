// Mounting in a user's Hono app (sub-app and middleware), the demo page, and the shared
// budget rule.
import { env } from 'cloudflare:workers';
import { Hono } from 'hono';
import { beforeAll, describe, expect, it } from 'vitest';
import { createMrtApp, mrtMiddleware } from '../../src/edge/app.ts';
import { budgetFor, hintsFromHeaders, hintsFromNavigator } from '../../src/format/budget.ts';
import { makeMrt } from './fixtures.ts';
import { bytesOf, fetchEdge, same, seed } from './helpers.ts';

const fx = makeMrt({ chunks: 4 });
beforeAll(async () => {
  await seed('mount/a.mrt', fx);
});

describe('mounting', () => {
  it("app.route('/media', createMrtApp()) serves /media/i/<key>.mrt next to the user's routes", async () => {
    const app = new Hono<{ Bindings: typeof env }>();
    app.get('/hello', (c) => c.text('hi'));
    app.route('/media', createMrtApp());
    const res = await app.request('http://x/media/i/mount/a.mrt?q=2', {}, env);
    expect(res.status).toBe(200);
    expect(same(await bytesOf(res), fx.bytes.subarray(0, fx.info.chunkEnds[1]))).toBe(true);
    expect(await (await app.request('http://x/hello', {}, env)).text()).toBe('hi');
    const bad = await app.request('http://x/media/i/a%2Fb.mrt', {}, env);
    expect(bad.status).toBe(400);
  });

  it('custom prefix and bucket resolver', async () => {
    const app = new Hono();
    app.route('/', createMrtApp({ prefix: '/img', bucket: () => env.IMAGES }));
    const res = await app.request('http://x/img/mount/a.mrt', { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-mrt-total-length')).toBe(String(fx.bytes.length));
  });

  it("hintMode 'redirect': hinted bare URLs → 307 to the URL-keyed prefix; no hints → 200", async () => {
    const app = new Hono<{ Bindings: typeof env }>();
    app.route('/', createMrtApp({ hintMode: 'redirect' }));
    const res = await app.request('http://x/i/mount/a.mrt', { headers: { 'Save-Data': 'on', 'Sec-CH-Width': '16' } }, env);
    expect(res.status).toBe(307);
    const loc = res.headers.get('location')!;
    expect(loc).toMatch(/^\/i\/mount\/a\.mrt\?bytes=\d+$/);
    expect(res.headers.get('vary')).toContain('Save-Data');
    expect(res.headers.get('cache-control')).toBe('private, no-cache');
    const follow = await app.request(`http://x${loc}`, {}, env);
    expect(follow.status).toBe(200);
    expect(follow.headers.get('cache-control')).toMatch(/^public/);
    expect(Number(follow.headers.get('x-mrt-bytes'))).toBe(Number(loc.split('=')[1]));
    await follow.arrayBuffer();
    const plain = await app.request('http://x/i/mount/a.mrt', {}, env);
    expect(plain.status).toBe(200);
    await plain.arrayBuffer();
  });

  it('maxUploadBytes caps PUT bodies → 413 (counted while streaming)', async () => {
    const app = new Hono<{ Bindings: typeof env }>();
    app.route('/', createMrtApp({ maxUploadBytes: 100 }));
    const res = await app.request(
      'http://x/i/mount/big.mrt',
      { method: 'PUT', body: fx.bytes as BodyInit, headers: { Authorization: 'Bearer test-upload-token' } },
      env,
    );
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: string }).error).toBe('too-large');
    expect(await env.IMAGES.head('mount/big.mrt')).toBeNull();
  });

  it('middleware form answers /i/* and passes everything else on', async () => {
    const app = new Hono<{ Bindings: typeof env }>();
    app.use(mrtMiddleware());
    app.get('*', (c) => c.text('fallthrough'));
    const a = await app.request('http://x/i/mount/a.mrt?q=1', {}, env);
    expect(a.status).toBe(200);
    expect(a.headers.get('x-mrt-chunks')).toBe('1');
    await a.arrayBuffer();
    const b = await app.request('http://x/other', {}, env);
    expect(await b.text()).toBe('fallthrough');
  });
});

describe('worker extras', () => {
  it('/ serves the demo page (or a placeholder when the client is not built) with Accept-CH', async () => {
    const res = await fetchEdge('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('accept-ch')).toContain('Sec-CH-Width');
    expect(res.headers.get('critical-ch')).toBeTruthy();
    await res.arrayBuffer();
  });

  it('?plain (bench baseline, enabled by MRT_PLAIN_READ) is a raw R2 range read', async () => {
    const res = await fetchEdge('/i/mount/a.mrt?plain', { headers: { Range: 'bytes=0-99' } });
    expect(res.status).toBe(206);
    expect(same(await bytesOf(res), fx.bytes.subarray(0, 100))).toBe(true);
  });
});

describe('budget rule (src/format/budget.ts)', () => {
  const img = { width: 768, height: 512, totalBytes: 40000 };
  it('no hints → Infinity (whole stream)', () => {
    expect(budgetFor({}, img)).toEqual({ bytes: Infinity, reasons: [] });
    expect(budgetFor({ ect: '4g', dpr: 2 }, img).bytes).toBe(Infinity);
  });
  it('ECT classes and Save-Data in bits per displayed pixel', () => {
    expect(budgetFor({ ect: '3g' }, img).bytes).toBe(Math.floor((0.2 * 768 * 512) / 8));
    expect(budgetFor({ ect: '2g' }, img).bytes).toBe(Math.floor((0.06 * 768 * 512) / 8));
    expect(budgetFor({ saveData: true }, img).bytes).toBe(Math.floor((0.06 * 768 * 512) / 8));
    expect(budgetFor({ saveData: true, ect: 'slow-2g' }, img).bytes).toBe(Math.floor((0.03 * 768 * 512) / 8));
  });
  it('display width scales the budget; floor and minBytes hold', () => {
    const half = budgetFor({ widthPx: 384 }, img);
    expect(half.bytes).toBe(20000);
    expect(half.reasons).toEqual(['width=384']);
    expect(budgetFor({ widthPx: 10 }, img).bytes).toBe(Math.floor(40000 / 8));
    expect(budgetFor({ widthPx: 10, ect: 'slow-2g' }, { ...img, minBytes: 900 }).bytes).toBe(900);
  });
  it('downlink: one second minus the RTT, at least 0.25 s', () => {
    expect(budgetFor({ downlinkMbps: 0.2, rttMs: 200 }, img).bytes).toBe(20000);
    expect(budgetFor({ downlinkMbps: 0.2, rttMs: 5000 }, img).bytes).toBe(6250);
  });
  it('hintsFromHeaders parses, hintsFromNavigator maps navigator.connection', () => {
    const h = new Headers({ 'Save-Data': 'on', ECT: '3g', Downlink: '1.5', RTT: '250', 'Sec-CH-DPR': '2', 'Sec-CH-Width': '640', 'Viewport-Width': '390' });
    expect(hintsFromHeaders((n) => h.get(n))).toEqual({ saveData: true, ect: '3g', downlinkMbps: 1.5, rttMs: 250, dpr: 2, widthPx: 640, viewportWidthCss: 390 });
    expect(hintsFromHeaders((n) => new Headers({ Width: 'abc', RTT: '1e3' }).get(n))).toEqual({});
    expect(hintsFromNavigator({ effectiveType: '2g', saveData: true, downlink: 0.3, rtt: 900 }, 2, 300)).toEqual({
      saveData: true, ect: '2g', downlinkMbps: 0.3, rttMs: 900, dpr: 2, widthPx: 600,
    });
  });
});
