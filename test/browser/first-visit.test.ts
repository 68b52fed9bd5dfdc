// Kind to phones and first visits, in headless Chromium: the learned decoder's runtime loads
// after the page's first contentful paint; a page-wide cap on learned paints per image (the
// end of the stream is always painted); under Save-Data, learned paints only from the HTTP
// cache; and a page under a strict Content-Security-Policy (README: CSP) paints a learned image
// with no violation.
//
// The server here sends what a real deployment sends (harness.ts's server sends no-store):
// the runtime and model files cacheable (immutable under assets/, as the edge does), the
// scripts revalidated, pages and streams never stored; optionally a CSP header on every
// response, with violation reports POSTed back to it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import type { Page } from 'playwright-core';
import { readHeader } from '../../src/format/index.ts';
import { encodeFixture, ensureClient, haveKodak, haveModels, type FixtureSpec } from './fixtures.ts';
import { DIST, launchChromium, partOf, type BrowserHandle } from './harness.ts';

const ready = haveModels() && haveKodak();
if (!ready) throw new Error('prerequisites missing (models/ or ../shared/data/kodak): see README');

/** A small crop with one token layer per chunk: short decoder runs, many chunks. */
const SMALL: FixtureSpec = { name: 'kodim23', crop: [256, 128, 256, 192], layersPerChunk: 1 };
/** The runtime's first files: our kernels and the lean decoder (hashed names under assets/). */
const RUNTIME = /\/(assets\/)?(mrt-kernels|decoder-lean)[.]/;

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.mrt': 'application/vnd.mrt',
};

interface Mem {
  body: Uint8Array;
  type?: string;
  /** Send the body in pieces ending at these offsets, `delayMs` apart. */
  boundaries?: number[];
  delayMs?: number;
  /** Wait this long before answering at all. */
  waitMs?: number;
  /** Serve `?part=placeholder|final` as the edge does; else the query is ignored. */
  parts?: boolean;
}

interface Srv {
  url: string;
  mem: Map<string, Mem>;
  /** The Content-Security-Policy header to send with a path (null: none), set per test. */
  policy: (path: string) => string | null;
  /** Requests by arrival: path, query and wall-clock ms. */
  log: { path: string; search: string; t: number }[];
  /** Bodies POSTed to /csp-report. */
  reports: string[];
  /** Send COOP/COEP (a cross-origin isolated page: WASM threads), set per test. */
  isolated: boolean;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function serve(): Promise<Srv> {
  const mem = new Map<string, Mem>();
  const log: Srv['log'] = [];
  const reports: string[] = [];
  const srv = { mem, policy: () => null, log, reports, isolated: false } as unknown as Srv;
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const path = decodeURIComponent(u.pathname);
    log.push({ path, search: u.search, t: Date.now() });
    if (req.method === 'POST' && path === '/csp-report') {
      let body = '';
      for await (const c of req) body += c;
      reports.push(body);
      res.writeHead(204).end();
      return;
    }
    const csp = srv.policy(path);
    if (csp) res.setHeader('Content-Security-Policy', csp);
    if (srv.isolated) {
      res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
      res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    }
    const m = mem.get(path);
    if (m?.waitMs) await sleep(m.waitMs);
    const part = u.searchParams.get('part');
    if (m?.parts && part !== null) {
      const p = await partOf(path, m.body, part);
      if (!('body' in p)) res.writeHead(p.status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }).end(JSON.stringify(p.error));
      else res.writeHead(200, { ...p.headers, 'Content-Type': p.mime, 'Content-Length': p.body.length, 'Cache-Control': 'no-store' }).end(p.body);
      return;
    }
    if (m) {
      res.writeHead(200, { 'Content-Type': m.type ?? MIME[extname(path)] ?? 'application/octet-stream', 'Content-Length': m.body.length, 'Cache-Control': 'no-store' });
      let o = 0;
      for (const b of [...(m.boundaries ?? []), m.body.length]) {
        if (b <= o || res.destroyed) continue;
        res.write(m.body.subarray(o, b));
        o = b;
        if (o < m.body.length && m.delayMs) await sleep(m.delayMs);
      }
      res.end();
      return;
    }
    const file = join(DIST, normalize(path));
    if (!file.startsWith(DIST) || !existsSync(file) || !(await stat(file)).isFile()) {
      res.writeHead(404).end();
      return;
    }
    const body = await readFile(file);
    // as deployed: hashed files immutable, the stable scripts revalidated; the plain-named
    // runtime and model files cacheable for a day (a page setting ortBase/modelBase gets those)
    const cache = path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : /^\/mrt-(img|worker)\.js$/.test(path) ? 'no-cache' : 'public, max-age=86400';
    res.writeHead(200, { 'Content-Type': MIME[extname(path)] ?? 'application/octet-stream', 'Content-Length': body.length, 'Cache-Control': cache });
    res.end(body);
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(e));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  srv.url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  srv.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections?.();
      server.close(() => r());
    });
  return srv;
}

/** Event log of every <mrt-img> on the page (window.ev), and the page's CSP violations (window.csp). */
const TRACK = `
  window.ev = [];
  window.csp = [];
  document.addEventListener('securitypolicyviolation', (e) => window.csp.push(e.violatedDirective + ' ' + e.blockedURI));
  window.track = (el) => { for (const t of ['paint', 'load', 'error']) el.addEventListener(t, (e) => window.ev.push({ id: el.id, type: t, t: performance.now(), detail: e.detail })); };
  customElements.whenDefined('mrt-img').then(() => document.querySelectorAll('mrt-img').forEach((el) => window.track(el)));`;

function page(body: string, opts: { head?: string; config?: object; nonce?: string } = {}): Uint8Array {
  const n = opts.nonce ? ` nonce="${opts.nonce}"` : '';
  const config = opts.config ? `<script type="module"${n}>customElements.whenDefined('mrt-img').then(() => customElements.get('mrt-img').configure(${JSON.stringify(opts.config)}));</script>` : '';
  return new TextEncoder().encode(
    `<!doctype html><html><head><meta charset="utf-8">${opts.head ?? ''}<script${n}>${TRACK}</script>${config}<script type="module" src="/mrt-img.js"></script></head><body>${body}</body></html>`,
  );
}

type Ev = { id: string; type: string; t: number; detail: any };
const events = (p: Page) => p.evaluate(() => (window as any).ev) as Promise<Ev[]>;
async function settled(p: Page, ids: string[] = ['m'], timeout = 60_000): Promise<Ev[]> {
  await p.waitForFunction((ids) => ids.every((id: string) => (window as any).ev.some((e: any) => e.id === id && (e.type === 'load' || e.type === 'error'))), ids, { timeout });
  return events(p);
}

describe('first visits and phones: runtime after first paint, paint cap, Save-Data, CSP', () => {
  let srv: Srv;
  let browser: BrowserHandle;
  let small: Uint8Array;

  beforeAll(async () => {
    await ensureClient();
    small = await encodeFixture(SMALL);
    srv = await serve();
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await srv?.close();
  });

  /** Wall-clock ms of the page's first contentful paint. */
  const fcpWall = (p: Page) =>
    p.evaluate(() => {
      const e = performance.getEntriesByName('first-contentful-paint')[0];
      return e ? performance.timeOrigin + e.startTime : null;
    });

  it('the runtime is requested after the first contentful paint, even when the placeholder came long before it', async () => {
    const info = readHeader(small);
    srv.mem.set('/i/fcp.mrt', { body: small, boundaries: [info.firstPaintEnd, info.headerEnd, ...info.chunkEnds.slice(0, 4)], delayMs: 100 });
    // (a) text + one image: the common page
    srv.mem.set('/t/fcp-plain.html', { body: page(`<h1>Kodak 23</h1><p>Two parrots.</p><mrt-img id="m" src="/i/fcp.mrt" width="256" height="192" alt="parrots" budget="full"></mrt-img>`) });
    // (b) the same, with rendering held for 1.5 s by a render-blocking script (a slow
    // hydration, a font or CSS loader): the element starts and paints its placeholder into
    // the canvas before the page has painted anything
    srv.mem.set('/slow.js', { body: new TextEncoder().encode('window.slow = 1;'), waitMs: 1500 });
    srv.mem.set('/t/fcp-blocked.html', {
      body: page(`<h1>Kodak 23</h1><p>Two parrots.</p><mrt-img id="m" src="/i/fcp.mrt" width="256" height="192" alt="parrots" budget="full"></mrt-img>`, {
        head: '<script blocking="render" async src="/slow.js"></script>',
      }),
    });
    const out: Record<string, unknown> = {};
    for (const name of ['fcp-plain', 'fcp-blocked']) {
      // a first visit: an empty HTTP cache
      const own = await launchChromium();
      const p = await own.context.newPage();
      const from = srv.log.length;
      await p.goto(`${srv.url}/t/${name}.html`);
      const ev = await settled(p);
      expect(ev.filter((e) => e.type === 'error')).toEqual([]);
      expect(ev.some((e) => e.type === 'paint' && e.detail.kind === 'ml')).toBe(true);
      const fcp = await fcpWall(p);
      expect(fcp).not.toBeNull();
      const seen = srv.log.slice(from);
      const rt = seen.find((r) => RUNTIME.test(r.path))!;
      const stream = seen.find((r) => r.path === '/i/fcp.mrt')!;
      const preview = seen.find((r) => /preview[.]/.test(r.path));
      const t0 = seen[0].t;
      const placeholder = await p.evaluate(() => {
        const e = (window as any).ev.find((x: any) => x.type === 'paint');
        return performance.timeOrigin + e.t;
      });
      const rel = (t: number | undefined) => (t === undefined ? null : Math.round(t - t0));
      // the worker's own resource timing (the browser's clock, as the FCP entry's)
      const worker = p.workers().find((w) => w.url().endsWith('/mrt-worker.js'))!;
      const timing = await worker.evaluate(() => performance.getEntriesByType('resource').map((e) => ({ name: e.name, start: performance.timeOrigin + e.startTime })));
      const rtTiming = timing.filter((e) => RUNTIME.test(new URL(e.name).pathname)).sort((x, y) => x.start - y.start)[0];
      out[name] = {
        fcp: rel(fcp!),
        stream: rel(stream.t),
        placeholderPaint: rel(placeholder),
        previewBin: rel(preview?.t),
        runtime: `${rel(rtTiming.start)} (${new URL(rtTiming.name).pathname.split('/').pop()}; at the server ${rel(rt.t)})`,
      };
      // the first runtime request starts after the page's first contentful paint (2 ms: two
      // time origins mapped to one wall clock); before the gate it started with preview.bin
      expect(rtTiming.start).toBeGreaterThanOrEqual(fcp! - 2);
      expect(rt.t).toBeGreaterThanOrEqual(fcp! - 5);
      if (name === 'fcp-blocked') {
        // ... though the worker had the header, and the placeholder was painted, well before
        expect(placeholder).toBeLessThan(fcp! - 500);
        expect(fcp! - t0).toBeGreaterThan(1400);
      }
      await own.close();
    }
    console.log('[first paint] ms after the page request:', JSON.stringify(out));
  });

  it('maxLearnedPaints caps the learned runs per image; the state the stream ends with is still painted', async () => {
    const info = readHeader(small);
    const chunks = 10;
    srv.mem.set('/i/cap.mrt', { body: small, boundaries: [info.firstPaintEnd, info.headerEnd, ...info.chunkEnds], delayMs: 250 });
    srv.mem.set('/i/nocap.mrt', srv.mem.get('/i/cap.mrt')!);
    const p = await browser.context.newPage();
    const html = (cap: number, src: string) =>
      page(
        `<script type="module">
           const M = customElements.get('mrt-img') ?? (await customElements.whenDefined('mrt-img'), customElements.get('mrt-img'));
           M.configure({ maxLearnedPaints: ${cap} });
           M.warm();
           await M.backend();
           const m = document.createElement('mrt-img');
           for (const [k, v] of Object.entries({ id: 'm', src: '${src}', width: 256, height: 192, alt: 'cap', budget: 'q${chunks}', refine: 'none' })) m.setAttribute(k, v);
           window.track(m);
           document.body.append(m);
         </script>`,
      );
    const runs: Record<number, Ev[]> = {};
    for (const cap of [3, 1]) {
      srv.mem.set(`/t/cap${cap}.html`, { body: html(cap, '/i/cap.mrt') });
      await p.goto(`${srv.url}/t/cap${cap}.html`);
      const ev = await settled(p);
      expect(ev.filter((e) => e.type === 'error')).toEqual([]);
      const ml = ev.filter((e) => e.type === 'paint' && e.detail.kind === 'ml');
      const load = ev.find((e) => e.type === 'load')!;
      runs[cap] = ml;
      expect(ml.length).toBeLessThanOrEqual(cap);
      expect(ml.length).toBeGreaterThanOrEqual(1);
      // the last learned paint is of the state the stream ended with, and comes before load
      expect(load.detail.chunks).toBe(chunks);
      expect(ml.at(-1)!.detail.tokens).toBe(load.detail.tokens);
      expect(ml.at(-1)!.detail.interim).toBeUndefined();
      expect(ml.at(-1)!.t).toBeLessThanOrEqual(load.t);
      expect(ev.filter((e) => e.type === 'paint').at(-1)!.detail.kind).toBe('ml');
    }
    // with the cap 3: two on intermediate chunks (each made as its chunk arrived), one at the end
    expect(runs[3].length).toBe(3);
    expect(runs[3][0].detail.tokens).toBeLessThan(runs[3][1].detail.tokens);
    expect(runs[1].length).toBe(1);
    console.log('[cap] learned paints (tokens):', JSON.stringify(Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, v.map((e) => e.detail.tokens)]))));
    await p.close();
  });

  it('Save-Data: no runtime download on a first visit (placeholder only, said once); learned paints once the runtime is cached; saveDataRuntime "load" overrides', async () => {
    // a profile of its own: an empty HTTP cache
    const own = await launchChromium();
    try {
      srv.mem.set('/i/sd.mrt', { body: small });
      const body = `<p>Save-Data</p><mrt-img id="m" src="/i/sd.mrt" width="256" height="192" alt="sd" budget="full"></mrt-img>`;
      srv.mem.set('/t/sd.html', { body: page(body) });
      srv.mem.set('/t/sd-load.html', { body: page(body, { config: { saveDataRuntime: 'load' } }) });
      const open = async (path: string, saveData: boolean) => {
        const p = await own.context.newPage();
        if (saveData)
          await p.addInitScript(() => {
            Object.defineProperty(Navigator.prototype, 'connection', { configurable: true, get: () => ({ saveData: true, effectiveType: '4g', downlink: 10, rtt: 50 }) });
          });
        const logs: string[] = [];
        p.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
        const from = srv.log.length;
        await p.goto(srv.url + path);
        const ev = await settled(p);
        await p.waitForTimeout(200);
        const requests = srv.log.slice(from).map((r) => r.path);
        return { p, ev, logs, requests };
      };
      const kinds = (ev: Ev[]) => ev.filter((e) => e.type === 'paint').map((e) => e.detail.kind);

      // 1. first visit under Save-Data: nothing of the learned decoder (nor preview.bin) is fetched
      const a = await open('/t/sd.html', true);
      expect(await a.p.evaluate(() => (navigator as any).connection.saveData)).toBe(true);
      expect(a.ev.filter((e) => e.type === 'error')).toEqual([]);
      expect(a.ev.some((e) => e.type === 'load')).toBe(true);
      expect(kinds(a.ev)).toEqual(['placeholder']);
      expect(a.requests.filter((r) => RUNTIME.test(r) || /preview[.]|tail/.test(r))).toEqual([]);
      const said = a.logs.filter((l) => l.includes('Save-Data'));
      expect(said).toHaveLength(1);
      expect(said[0]).toMatch(/info: \[mrt-img\] Save-Data: the learned decoder is not in the HTTP cache/);
      console.log('[save-data] cold:', said[0]);
      await a.p.close();

      // 2. the page overrides it: the runtime loads (and is now cached)
      const b = await open('/t/sd-load.html', true);
      expect(kinds(b.ev)).toContain('ml');
      expect(b.requests.filter((r) => RUNTIME.test(r)).length).toBe(2);
      await b.p.close();

      // 3. Save-Data again, the runtime cached: learned paints, and no runtime byte on the wire
      const c = await open('/t/sd.html', true);
      expect(c.ev.filter((e) => e.type === 'error')).toEqual([]);
      expect(kinds(c.ev)).toContain('ml');
      expect(c.requests.filter((r) => RUNTIME.test(r) || /preview[.]/.test(r))).toEqual([]);
      expect(c.logs.filter((l) => l.includes('Save-Data'))).toEqual([]);
      console.log('[save-data] cached: paints', kinds(c.ev).join(' '), '; requests', c.requests.join(' '));
      await c.p.close();
    } finally {
      await own.close();
    }
  });

  it('a stream with a final layer: on the first visit the placeholder and the final alone (the runtime loads after it); once the runtime is cached, learned paints first on a slow link (none where the page preloads the final) and none on a fast one', async () => {
    const own = await launchChromium();
    try {
      // the encoder's defaults: an AVIF final, the learned chunks cut at 10 % over it
      const product = await encodeFixture({ name: 'kodim23', final: 'avif', maxOverhead: 0.1 });
      // a slow link: each learned chunk and the final come 300 ms apart (the final ~0.9 s after the
      // header, about what the client guesses for 0.5 Mbit/s below); at 150 ms the first token
      // paint of mrt-v0.13-open (whose first chunk is 843 B against mrt-v0.13's 585 B) came after
      // the final on a loaded machine
      srv.mem.set('/i/p.mrt', { body: product, boundaries: readHeader(product).chunkEnds, delayMs: 300 });
      srv.mem.set('/t/p.html', { body: page(`<p>final</p><mrt-img id="m" src="/i/p.mrt" width="768" height="512" alt="p"></mrt-img>`) });
      // navigator.connection as the page reads it (finalSoon: src/client/direct-rule.ts); none: the browser's own
      srv.mem.set('/i/pp.mrt', { body: product, delayMs: 150, parts: true });
      srv.mem.set('/t/pp.html', {
        body: page(`<p>final</p><mrt-img id="m" src="/i/pp.mrt" width="768" height="512" alt="p"></mrt-img>`, { head: '<link rel="preload" as="image" href="/i/pp.mrt?part=final">' }),
      });
      const visit = async (conn?: { effectiveType: string; downlink: number; rtt: number }, path = '/t/p.html') => {
        const p = await own.context.newPage();
        if (conn) await p.addInitScript((c) => Object.defineProperty(navigator, 'connection', { value: { ...c, saveData: false, addEventListener() {} } }), conn);
        const from = srv.log.length;
        await p.goto(srv.url + path);
        const ev = await settled(p);
        return { p, ev, requests: () => srv.log.slice(from).map((r) => r.path), log: () => srv.log.slice(from) };
      };
      const kinds = (ev: Ev[]) => ev.filter((e) => e.type === 'paint').map((e) => e.detail.kind);
      const a = await visit();
      expect(a.ev.filter((e) => e.type === 'error')).toEqual([]);
      expect(kinds(a.ev)).toEqual(['placeholder', 'final']);
      // the runtime, fetched by the worker after the final for later images, lands in the HTTP cache
      for (let t = 0; a.requests().filter((r) => RUNTIME.test(r)).length < 2; t += 100) {
        if (t > 60_000) throw new Error(`no runtime fetched after the final: ${a.requests().join(' ')}`);
        await sleep(100);
      }
      await sleep(1000);
      await a.p.close();
      // 0.5 Mbit/s: the final (~30 KB at the guessed rate) is ~0.8 s away, so learned paints first
      const b = await visit({ effectiveType: '4g', downlink: 0.5, rtt: 300 });
      expect(b.ev.filter((e) => e.type === 'error')).toEqual([]);
      const k = kinds(b.ev);
      expect(k[0]).toBe('placeholder');
      // the learned path: token paints (the preview, or the learned decoder when a run ends before the final is here)
      expect(k.some((x) => x === 'preview' || x === 'ml')).toBe(true);
      expect(k.at(-1)).toBe('final');
      expect(b.requests().filter((r) => RUNTIME.test(r))).toEqual([]);
      await b.p.close();
      // the same slow link, a page that preloads the final part: its bytes come anyway, so it is
      // shown as it decodes, and no learned stream competes with it
      const pre = await visit({ effectiveType: '4g', downlink: 0.5, rtt: 300 }, '/t/pp.html');
      expect(pre.ev.filter((e) => e.type === 'error')).toEqual([]);
      const kp = kinds(pre.ev);
      expect([['placeholder', 'final'], ['final']]).toContainEqual(kp);
      expect(pre.log().filter((r) => r.path === '/i/pp.mrt').map((r) => r.search).sort()).toEqual(['?part=final', '?part=placeholder']);
      expect(await pre.p.evaluate(() => document.getElementById('m')!.getAttribute('data-state'))).toBe('final');
      await pre.p.close();
      // 20 Mbit/s: the final comes at once; the runtime is cached, but no learned paint is worth its wait
      const c = await visit({ effectiveType: '4g', downlink: 20, rtt: 50 });
      expect(c.ev.filter((e) => e.type === 'error')).toEqual([]);
      expect(kinds(c.ev)).toEqual(['placeholder', 'final']);
      console.log('[direct final] first visit:', kinds(a.ev).join(' '), '; runtime cached, slow link:', k.join(' '), '; fast link:', kinds(c.ev).join(' '));
      await c.p.close();
    } finally {
      await own.close();
    }
  });

  /**
   * The policies of src/client/README.md (CSP). A dedicated worker follows the policy of its own
   * response, not the page's: `page` is sent with the page, `worker` with mrt-worker.js; one
   * site-wide header is both at once.
   */
  const NONCE = 'mrt-test-nonce';
  const POLICY = {
    page: `default-src 'none'; script-src 'self' 'nonce-${NONCE}'; worker-src 'self'; connect-src 'self'; img-src 'self'; report-uri /csp-report`,
    worker: "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; report-uri /csp-report",
    site: `default-src 'none'; script-src 'self' 'nonce-${NONCE}' 'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self'; img-src 'self'; report-uri /csp-report`,
  };

  /** Paints /t/`name`.html (the CSP page with `config`) in a fresh browser under `policy`: paint kinds, errors, violations, reports. */
  async function underPolicy(name: string, policy: (path: string) => string | null, config?: object, isolated = false): Promise<{ kinds: string[]; errors: unknown[]; violations: string[]; reports: string[] }> {
    srv.mem.set(`/t/${name}.html`, {
      body: page(`<p>CSP</p><mrt-img id="m" src="/i/csp.mrt" width="256" height="192" alt="csp" budget="full"><img src="/none.png" alt="csp" loading="lazy"></mrt-img>`, { nonce: NONCE, config }),
    });
    // a fresh browser: nothing compiled or cached from the case before
    const own = await launchChromium();
    try {
      srv.policy = policy;
      srv.isolated = isolated;
      srv.reports.length = 0;
      const p = await own.context.newPage();
      await p.goto(`${srv.url}/t/${name}.html`);
      const ev = await settled(p);
      await p.waitForTimeout(300);
      if (isolated) expect(await p.evaluate(() => crossOriginIsolated)).toBe(true);
      return {
        kinds: ev.filter((e) => e.type === 'paint').map((e) => e.detail.kind),
        errors: ev.filter((e) => e.type === 'error').map((e) => e.detail),
        violations: await p.evaluate(() => (window as any).csp),
        reports: srv.reports.map((r) => {
          const c = JSON.parse(r)['csp-report'];
          return `${c['document-uri'].replace(srv.url, '')}: ${c['violated-directive']} ${c['blocked-uri']}`;
        }),
      };
    } finally {
      srv.policy = () => null;
      srv.isolated = false;
      await own.close();
    }
  }

  it("a page under a strict CSP (one site-wide policy, or the page's and the worker's own) paints a learned image with no violation; without 'wasm-unsafe-eval' the kernels are refused", async () => {
    srv.mem.set('/i/csp.mrt', { body: small });
    const cases: Record<string, (path: string) => string | null> = {
      'site-wide': () => POLICY.site,
      'page + worker': (path) => (path.endsWith('.html') ? POLICY.page : path === '/mrt-worker.js' ? POLICY.worker : null),
      "no 'wasm-unsafe-eval'": () => POLICY.site.replace(" 'wasm-unsafe-eval'", ''),
    };
    const results: Record<string, Awaited<ReturnType<typeof underPolicy>>> = {};
    for (const [name, policy] of Object.entries(cases)) results[name] = await underPolicy('csp', policy);
    console.log('[csp]', JSON.stringify(results));
    for (const name of ['site-wide', 'page + worker']) {
      expect(results[name].errors).toEqual([]);
      expect(results[name].kinds).toContain('ml');
      expect(results[name].violations).toEqual([]);
      expect(results[name].reports).toEqual([]);
    }
    // the control: the worker may not compile the kernels, and the report says so
    const bad = results["no 'wasm-unsafe-eval'"];
    expect(bad.kinds).not.toContain('ml');
    expect(bad.errors).toMatchObject([{ code: 'runtime', fatal: true }]);
    expect(bad.reports.length).toBeGreaterThan(0);
    expect(bad.reports.every((r) => r === '/mrt-worker.js: script-src wasm-eval')).toBe(true);
  });

  it("runtime 'ort' imports onnxruntime-web's checked modules from blob: URLs: the site-wide policy with blob: in script-src (and worker-src, for WASM threads) paints; without it the import is refused", async () => {
    srv.mem.set('/i/csp.mrt', { body: small });
    const blob = POLICY.site.replace("script-src 'self'", "script-src 'self' blob:").replace("worker-src 'self'", "worker-src 'self' blob:");
    const ort = { runtime: 'ort', backend: 'wasm' };
    const results = {
      blob: await underPolicy('csp-ort', () => blob, ort),
      'blob, threads': await underPolicy('csp-ort', () => blob, { ...ort, wasmThreads: 2 }, true),
      // blob: modules, but no blob: workers: the threads are refused, one thread decodes
      'blob in script-src only, threads': await underPolicy('csp-ort', () => blob.replace("worker-src 'self' blob:", "worker-src 'self'"), { ...ort, wasmThreads: 2 }, true),
      'no blob:': await underPolicy('csp-ort', () => POLICY.site, ort),
    };
    console.log('[csp ort]', JSON.stringify(results));
    for (const name of ['blob', 'blob, threads'] as const) {
      expect(results[name].errors, name).toEqual([]);
      expect(results[name].kinds, name).toContain('ml');
      expect(results[name].violations, name).toEqual([]);
      expect(results[name].reports, name).toEqual([]);
    }
    const one = results['blob in script-src only, threads'];
    expect(one.errors).toEqual([]);
    expect(one.kinds).toContain('ml');
    expect(one.reports.length).toBeGreaterThan(0);
    expect(one.reports.every((r) => /^\/mrt-worker\.js: worker-src blob$/.test(r)), one.reports.join('; ')).toBe(true);
    const bad = results['no blob:'];
    expect(bad.kinds).not.toContain('ml');
    expect(bad.errors).toMatchObject([{ code: 'runtime', fatal: true, message: expect.stringMatching(/^cannot load onnxruntime-web from .*ort\.wasm\.min\.[0-9a-f]+\.mjs/) }]);
    expect(bad.reports.length).toBeGreaterThan(0);
    expect(bad.reports.every((r) => /^\/mrt-worker\.js: script-src(-elem)? blob$/.test(r))).toBe(true);
  });
});
