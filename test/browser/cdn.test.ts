// The element's runtime, worker and model on another origin than the page (a CDN). The page is
// served from http://127.0.0.1:A and the built client from http://localhost:B (another origin and
// another site) by a static server that sends `Access-Control-Allow-Origin: *`. `new Worker()`
// refuses a script of another origin: the element starts the worker from a same-origin `blob:`
// module that imports it, and the worker finds its own files (the content-hashed assets) from its
// real URL, not the blob's. Three pages: mrt-img.js itself from the CDN (defaults), the element
// bundled into the page's origin and configured with workerUrl/ortBase/modelBase on the CDN, and
// the same under a Content-Security-Policy with `worker-src blob:` plus the CDN (src/client/README.md).
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFixture, ensureClient, haveKodak, haveModels, type FixtureSpec } from './fixtures.ts';
import { DIST, launchChromium, startServer, watchErrors, type BrowserHandle, type TestServer } from './harness.ts';

if (!(haveModels() && haveKodak())) throw new Error('prerequisites missing (models/ or ../shared/data/kodak): see README');

const SMALL: FixtureSpec = { name: 'kodim05', crop: [0, 0, 192, 128], layersPerChunk: 16 };
const MIME: Record<string, string> = { '.js': 'text/javascript', '.json': 'application/json', '.wasm': 'application/wasm' };

interface Cdn {
  /** http://localhost:PORT */
  url: string;
  log: { method: string; path: string; origin?: string; mode?: string; status: number }[];
  close(): Promise<void>;
}

/** A static server for `root` with the CORS headers a CDN sends; listens on 127.0.0.1, addressed as localhost. */
async function cdnServer(root: string): Promise<Cdn> {
  const log: Cdn['log'] = [];
  const server: Server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const entry = { method: req.method ?? 'GET', path, origin: req.headers.origin, mode: req.headers['sec-fetch-mode'] as string | undefined, status: 200 };
    log.push(entry);
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Cache-Control', 'no-store');
    if (req.method === 'OPTIONS') {
      entry.status = 204;
      res.writeHead(204, { 'Access-Control-Allow-Methods': 'GET, HEAD', 'Access-Control-Allow-Headers': '*' }).end();
      return;
    }
    const file = join(root, normalize(path));
    if (!file.startsWith(root) || !existsSync(file) || !(await stat(file)).isFile()) {
      entry.status = 404;
      res.writeHead(404).end();
      return;
    }
    const body = await readFile(file);
    res.writeHead(200, { 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream', 'Content-Length': body.length }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://localhost:${port}`,
    log,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections?.();
        server.close(() => r());
      }),
  };
}

describe('<mrt-img> with its worker, runtime and model on another origin', () => {
  let page0: TestServer;
  let cdn: Cdn;
  let browser: BrowserHandle;

  beforeAll(async () => {
    await ensureClient();
    page0 = await startServer();
    page0.streams.set('/i/small.mrt', { bytes: await encodeFixture(SMALL) });
    // "bundled": the element's module in the page's own origin, its files on the CDN
    page0.streams.set('/app/bundle.js', { bytes: new Uint8Array(await readFile(join(DIST, 'mrt-img.js'))) });
    cdn = await cdnServer(DIST);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await page0?.close();
    await cdn?.close();
  });

  const IMG = '<mrt-img src="/i/small.mrt" width="192" height="128" alt="k"></mrt-img>';

  async function paints(name: string, html: string): Promise<{ kinds: string[]; violations: string[]; errors: string[] }> {
    page0.streams.set(`/${name}.html`, { bytes: new TextEncoder().encode(html) });
    const page = await browser.context.newPage();
    const errors = watchErrors(page);
    await page.addInitScript(() => {
      const w = window as unknown as { kinds: string[]; violations: string[] };
      w.kinds = [];
      w.violations = [];
      addEventListener('paint', (e) => w.kinds.push((e as CustomEvent<{ kind: string }>).detail.kind), true);
      addEventListener('error', (e) => e instanceof CustomEvent && w.kinds.push(`error: ${JSON.stringify(e.detail)}`), true);
      addEventListener('securitypolicyviolation', (e) => w.violations.push(`${(e as SecurityPolicyViolationEvent).violatedDirective} ${(e as SecurityPolicyViolationEvent).blockedURI}`));
    });
    await page.goto(`${page0.url}/${name}.html`);
    await page.waitForFunction(() => (window as unknown as { kinds: string[] }).kinds.some((k) => k === 'ml' || k.startsWith('error')), null, { timeout: 60_000 });
    const r = await page.evaluate(() => {
      const w = window as unknown as { kinds: string[]; violations: string[] };
      return { kinds: w.kinds, violations: w.violations };
    });
    await page.close();
    return { ...r, errors };
  }

  function expectLearned(name: string, r: { kinds: string[]; violations: string[]; errors: string[] }): void {
    expect(r.violations, name).toEqual([]);
    expect(r.kinds.filter((k) => k.startsWith('error')), name).toEqual([]);
    expect(r.kinds[0], name).toBe('placeholder');
    expect(r.kinds, name).toContain('ml');
    expect(r.violations, name).toEqual([]);
    expect(r.errors, name).toEqual([]);
  }

  it('mrt-img.js loaded from the CDN (default settings): the worker and the hashed assets come from there', async () => {
    const before = cdn.log.length;
    const r = await paints('script', `<!doctype html><script type="module" src="${cdn.url}/mrt-img.js"></script>${IMG}`);
    expectLearned('script', r);
    const paths = cdn.log.slice(before).map((l) => l.path);
    expect(paths).toContain('/mrt-worker.js');
    expect(paths.some((p) => /^\/assets\/mrt-kernels\.[0-9a-f]{16}\.wasm$/.test(p))).toBe(true);
    expect(paths.some((p) => /^\/assets\/decoder-lean\.[0-9a-f]{16}\.bin$/.test(p))).toBe(true);
  });

  it('the element bundled into the page, configured with workerUrl, ortBase and modelBase on the CDN', async () => {
    const before = cdn.log.length;
    const r = await paints(
      'bundled',
      `<!doctype html>${IMG}<script type="module">import { MrtImg } from '/app/bundle.js';
        MrtImg.configure({ workerUrl: '${cdn.url}/mrt-worker.js', ortBase: '${cdn.url}/', modelBase: '${cdn.url}/models/' });</script>`,
    );
    expectLearned('bundled', r);
    const log = cdn.log.slice(before);
    const paths = log.map((l) => l.path);
    // the worker script is imported by the blob module (a CORS request from the page's origin)
    const worker = log.find((l) => l.path === '/mrt-worker.js');
    expect(worker?.origin).toBe(page0.url);
    expect(worker?.mode).toBe('cors');
    // the hashed names: the worker knows its build from its own URL, not the blob's
    expect(paths.some((p) => /^\/assets\/decoder-lean\.[0-9a-f]{16}\.bin$/.test(p))).toBe(true);
    expect(paths.some((p) => /^\/assets\/manifest\.[0-9a-f]{16}\.json$/.test(p))).toBe(true);
    // simple GETs only: no preflight
    expect(log.filter((l) => l.method !== 'GET' || l.status !== 200)).toEqual([]);
    // nothing of the client's was asked from the page's origin
    expect(page0.log.filter((l) => /mrt-worker|assets\/|models\//.test(l.path))).toEqual([]);
  });

  it('under a Content-Security-Policy: worker-src blob: and the CDN (the blob module imports the worker), the CDN in script-src and connect-src', async () => {
    const csp = `default-src 'none'; script-src 'self' ${cdn.url} 'wasm-unsafe-eval' 'sha256-HASH'; worker-src blob: ${cdn.url}; connect-src 'self' ${cdn.url}; img-src 'self'`;
    const script = `import { MrtImg } from '/app/bundle.js'; MrtImg.configure({ workerUrl: '${cdn.url}/mrt-worker.js', ortBase: '${cdn.url}/', modelBase: '${cdn.url}/models/' });`;
    const { createHash } = await import('node:crypto');
    const hash = createHash('sha256').update(script).digest('base64');
    const html = `<!doctype html><meta http-equiv="Content-Security-Policy" content="${csp.replace('sha256-HASH', `sha256-${hash}`)}">${IMG}<script type="module">${script}</script>`;
    expectLearned('csp', await paints('csp', html));
    // and without blob: in worker-src the worker is refused (the element falls back, an error event)
    const refused = await paints('csp-no-blob', html.replace(`worker-src blob: ${cdn.url}`, `worker-src ${cdn.url}`));
    expect(refused.kinds.some((k) => k.startsWith('error'))).toBe(true);
    expect(refused.violations.some((v) => v.startsWith('worker-src'))).toBe(true);
  });
});
