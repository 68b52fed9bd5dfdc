// Bytes on the wire for one <mrt-img> on a cold (then warm) page, in headless Chromium
// without WebGPU, against a running edge (`npm start` or `npm run dev:edge`):
//
//   npx tsx bench/client-wire.ts [--base http://127.0.0.1:8787] [--image /i/kodim23.mrt] [--br-first]
//
// --br-first: Chromium asks with 'Accept-Encoding: br, gzip, deflate'. wrangler dev answers
// the first encoding a request lists among those of the highest weight, and Chromium lists
// gzip first; Cloudflare's edge answers brotli to a client that accepts it.
//
// The page (one <mrt-img budget="full">, default settings) is answered by this script on
// the edge's origin; everything else comes from the edge. Counted: every response but the
// page and the .mrt, as Chromium reports it (encoded body + response headers), at the first
// learned paint (`paint` of kind `ml`) and at `load` (the whole file painted). Warm: a second
// visit in the same browser profile, with the HTTP cache as the response headers allow.
// (Chromium reports no body size for a worker's own script: mrt-worker.js shows 0 B.)
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium, type Request } from 'playwright-core';
import { CHROMIUM } from '../test/browser/harness.ts';

const { values } = parseArgs({ options: { base: { type: 'string', default: 'http://127.0.0.1:8787' }, image: { type: 'string', default: '/i/kodim23.mrt' }, 'br-first': { type: 'boolean', default: false } } });
const base = values.base!.replace(/\/$/, '');
const PAGE = `${base}/__wire-bench.html`;
const html = `<!doctype html><meta charset="utf-8"><script type="module" src="/mrt-img.js"></script>
<mrt-img id="m" src="${values.image}" width="768" height="512" alt="" budget="full"></mrt-img>
<script type="module">
  const m = document.getElementById('m');
  let ml = false;
  m.addEventListener('paint', (e) => { if (e.detail.kind === 'ml' && !ml) { ml = true; window.mark('ml'); } });
  m.addEventListener('load', () => window.mark('load'));
  m.addEventListener('error', (e) => window.mark('error ' + e.detail.message));
</script>`;

interface Row {
  url: string;
  status: number;
  encoding: string;
  cache: string;
  body: number;
  headers: number;
  fromCache: boolean;
}

async function visit(ctx: Awaited<ReturnType<typeof chromium.launchPersistentContext>>, label: string): Promise<void> {
  const page = await ctx.newPage();
  const finished: { req: Request; at: number }[] = [];
  const marks = new Map<string, number>();
  let seq = 0;
  const done = new Promise<void>((resolve, reject) => {
    page.exposeFunction('mark', (what: string) => {
      if (what.startsWith('error')) reject(new Error(what));
      marks.set(what, seq);
      if (what === 'load') resolve();
    });
  });
  ctx.on('requestfinished', (req) => finished.push({ req, at: seq++ }));
  // the page is answered over CDP: Playwright's page.route would switch the HTTP cache off
  const cdp = await ctx.newCDPSession(page);
  cdp.on('Fetch.requestPaused', (e: { requestId: string }) => {
    cdp
      .send('Fetch.fulfillRequest', { requestId: e.requestId, responseCode: 200, responseHeaders: [{ name: 'Content-Type', value: 'text/html; charset=utf-8' }], body: Buffer.from(html).toString('base64') })
      .catch(() => undefined);
  });
  await cdp.send('Fetch.enable', { patterns: [{ urlPattern: PAGE, requestStage: 'Request' }] });
  const t0 = Date.now();
  await page.goto(PAGE);
  await Promise.race([done, new Promise((_, rej) => setTimeout(() => rej(new Error('no load within 120 s')), 120_000))]);
  const ms = Date.now() - t0;
  const rows: (Row & { at: number })[] = [];
  for (const { req, at } of finished) {
    const url = req.url();
    if (url === PAGE || url.includes(values.image!)) continue;
    const res = await req.response();
    if (!res) continue;
    const sizes = await req.sizes();
    const h = await res.allHeaders();
    rows.push({
      url: url.slice(base.length),
      status: res.status(),
      encoding: h['content-encoding'] ?? '-',
      cache: h['cache-control'] ?? '-',
      body: sizes.responseBodySize,
      headers: sizes.responseHeadersSize,
      fromCache: res.fromServiceWorker() || (sizes.responseBodySize === 0 && sizes.responseHeadersSize <= 0),
      at,
    });
  }
  // a response from the HTTP cache reports -headers as its body: nothing on the wire
  const sum = (upTo: number) => rows.filter((r) => r.at < upTo).reduce((k, r) => k + Math.max(0, r.body + r.headers), 0);
  console.log(`\n${label}: load after ${ms} ms; requests (Accept-Encoding: ${values['br-first'] ? 'br, gzip, deflate' : 'as Chromium sends it'})`);
  for (const r of rows) console.log(`  ${r.status} ${r.url.padEnd(52)} ${String(r.body).padStart(9)} B body ${String(r.headers).padStart(5)} B headers  ${r.encoding.padEnd(5)} ${r.cache}`);
  console.log(`  on the wire at the first learned paint: ${sum(marks.get('ml') ?? Infinity)} B; at load: ${sum(Infinity)} B`);
  await page.close();
}

const dir = await mkdtemp(join(tmpdir(), 'mrt-wire-'));
const ctx = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
if (values['br-first']) await ctx.setExtraHTTPHeaders({ 'Accept-Encoding': 'br, gzip, deflate' });
try {
  await visit(ctx, 'cold');
  await visit(ctx, 'warm (same profile)');
} finally {
  await ctx.close();
  await rm(dir, { recursive: true, force: true });
}
