// Budgets on plain static hosts (no ?bytes= support): the element holds its budget with
// Range requests, refines from the first byte it does not hold, and never downloads a byte
// twice. Served by a tiny node:http static server that counts the body bytes it sends (with
// Range; without Range; paced, so that an abort can stop it), and by `http-server` (npm).
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readHeader } from '../../src/format/index.ts';
import { encodeFixture, ensureClient, haveKodak, haveModels } from './fixtures.ts';
import { DIST, launchChromium, ROOT, testPage, type BrowserHandle } from './harness.ts';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
};

interface Sent {
  path: string;
  range?: string;
  status: number;
  /** Body bytes written to the socket. */
  sent: number;
}

interface Static {
  url: string;
  log: Sent[];
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A plain static file server: files from `roots` (first match), single byte ranges when
 * `range` (else Range is ignored: 200 with the whole file), no query handling at all.
 * `.mrt` bodies go out in `piece`-byte writes `pieceDelayMs` apart (0: one write).
 */
async function staticServer(roots: string[], opts: { range: boolean; piece?: number; pieceDelayMs?: number }): Promise<Static> {
  const log: Sent[] = [];
  const server: Server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const entry: Sent = { path, range: req.headers.range, status: 200, sent: 0 };
    log.push(entry);
    let file: string | null = null;
    for (const root of roots) {
      const f = join(root, normalize(path));
      if (f.startsWith(root) && existsSync(f) && (await stat(f)).isFile()) {
        file = f;
        break;
      }
    }
    if (!file) {
      entry.status = 404;
      res.writeHead(404).end();
      return;
    }
    const size = (await stat(file)).size;
    const headers: Record<string, string | number> = { 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-store' };
    let start = 0;
    let end = size - 1;
    const m = opts.range && req.headers.range ? /^bytes=(\d+)-(\d*)$/.exec(req.headers.range) : null;
    if (opts.range) headers['Accept-Ranges'] = 'bytes';
    if (m) {
      start = Number(m[1]);
      end = m[2] ? Math.min(size - 1, Number(m[2])) : size - 1;
      if (start >= size) {
        entry.status = 416;
        res.writeHead(416, { 'Content-Range': `bytes */${size}` }).end();
        return;
      }
      entry.status = 206;
      headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
    }
    headers['Content-Length'] = end - start + 1;
    res.writeHead(entry.status, headers);
    if (req.method === 'HEAD') return void res.end();
    if (file.endsWith('.mrt') && opts.piece) {
      const body = (await readFile(file)).subarray(start, end + 1);
      for (let o = 0; o < body.length && !res.destroyed; o += opts.piece) {
        const part = body.subarray(o, Math.min(body.length, o + opts.piece));
        res.write(part);
        entry.sent += part.length;
        if (opts.pieceDelayMs) await sleep(opts.pieceDelayMs);
      }
      res.end();
      return;
    }
    const s = createReadStream(file, { start, end });
    s.on('data', (d) => (entry.sent += d.length));
    s.pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  const port = typeof a === 'object' && a ? a.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections?.();
        server.close(() => r());
      }),
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

const PAGE = (budget: string, paint: boolean) =>
  testPage(
    `<mrt-img id="m" src="/i/kodim23.mrt" width="768" height="512" alt="kodim23" budget="${budget}" refine="click"></mrt-img>
     <script type="module">
       window.ev = [];
       for (const t of ['load', 'error', 'paint']) document.getElementById('m').addEventListener(t, (e) => window.ev.push({ type: t, detail: e.detail }));
     </script>`,
    paint ? '' : `<script type="module">customElements.whenDefined('mrt-img').then(() => customElements.get('mrt-img').configure({ paint: false }));</script>`,
  );

type Ev = { type: string; detail: any };
const events = (page: Page) => page.evaluate(() => (window as any).ev) as Promise<Ev[]>;
const loads = async (page: Page, n: number) => {
  await page.waitForFunction((k) => (window as any).ev.filter((e: any) => e.type === 'load').length >= k || (window as any).ev.some((e: any) => e.type === 'error'), n, { timeout: 60_000 });
  const ev = await events(page);
  expect(ev.filter((e) => e.type === 'error')).toEqual([]);
  return ev.filter((e) => e.type === 'load').map((e) => e.detail);
};

const ready = haveModels() && haveKodak();
if (!ready) throw new Error('prerequisites missing (models/ or ../shared/data/kodak): see README');
describe('<mrt-img> budgets on a plain static host (Range, no ?bytes=)', () => {
  let dir: string;
  let mrt: Uint8Array;
  let browser: BrowserHandle;
  const servers: Static[] = [];

  beforeAll(async () => {
    await ensureClient();
    mrt = await encodeFixture({ name: 'kodim23' });
    dir = await mkdtemp(join(tmpdir(), 'mrt-static-host-'));
    await mkdir(join(dir, 'i'), { recursive: true });
    await writeFile(join(dir, 'i/kodim23.mrt'), mrt);
    for (const [name, budget, paint] of [['paint', '2k', true], ['nopaint', '2k', false], ['tiny', '100', false]] as const) await writeFile(join(dir, `${name}.html`), PAGE(budget, paint));
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    for (const s of servers) await s.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const mrtLog = (s: Static) => s.log.filter((r) => r.path === '/i/kodim23.mrt');

  it('budget="2k": paints with 2 KB moved (Range: bytes=0-2047), the refine moves only the rest', async () => {
    const srv = await staticServer([dir, DIST], { range: true });
    servers.push(srv);
    const info = readHeader(mrt);
    const page = await browser.context.newPage();
    await page.goto(`${srv.url}/paint.html`);
    const [first] = await loads(page, 1);
    const before = mrtLog(srv).reduce((n, r) => n + r.sent, 0);
    expect(first).toMatchObject({ complete: false, bytes: 2048, bound: 'range' });
    expect(before).toBeLessThanOrEqual(2048 + info.headerEnd);
    expect(mrtLog(srv).map((r) => r.range)).toEqual(['bytes=0-2047']);
    // painted from the prefix: the placeholder, then the learned decoder's image
    expect((await events(page)).filter((e) => e.type === 'paint').map((e) => e.detail.kind)).toContain('ml');
    await page.click('#m');
    const [, second] = await loads(page, 2);
    expect(second).toMatchObject({ complete: true, bytes: mrt.length });
    const refine = mrtLog(srv).slice(1);
    expect(refine.map((r) => [r.range, r.status])).toEqual([['bytes=2048-', 206]]);
    const after = refine.reduce((n, r) => n + r.sent, 0);
    expect(after).toBe(mrt.length - 2048);
    console.log(`[static host] ${mrt.length} B file, budget 2 KB: ${before} B moved before the refine, ${after} B by the refine (${before + after} B in all)`);
    await page.close();
  });

  it('a budget smaller than the header: Range requests up to the header, no further', async () => {
    const srv = await staticServer([dir, DIST], { range: true });
    servers.push(srv);
    const info = readHeader(mrt);
    const page = await browser.context.newPage();
    await page.goto(`${srv.url}/tiny.html`);
    const [first] = await loads(page, 1);
    expect(first).toMatchObject({ complete: false, bytes: info.headerEnd });
    const moved = mrtLog(srv).reduce((n, r) => n + r.sent, 0);
    expect(mrtLog(srv)[0].range).toBe('bytes=0-99');
    expect(mrtLog(srv).length).toBeLessThanOrEqual(3);
    // the Index's length is guessed (64 B) until its own length prefix is here
    expect(moved).toBeLessThanOrEqual(info.headerEnd + 64);
    await page.click('#m');
    expect((await loads(page, 2))[1]).toMatchObject({ complete: true, bytes: mrt.length });
    expect(mrtLog(srv).reduce((n, r) => n + r.sent, 0)).toBeLessThanOrEqual(mrt.length + 64);
    await page.close();
  });

  it('a host that ignores Range too: the element stops reading at the budget and aborts the response', async () => {
    // paced (1 KB every 20 ms) so that the abort reaches the server before it wrote everything
    const srv = await staticServer([dir, DIST], { range: false, piece: 1024, pieceDelayMs: 20 });
    servers.push(srv);
    const page = await browser.context.newPage();
    await page.goto(`${srv.url}/nopaint.html`);
    const [first] = await loads(page, 1);
    expect(first).toMatchObject({ complete: false, bytes: 2048, bound: 'client' });
    const sent = mrtLog(srv)[0].sent;
    expect(sent).toBeLessThan(mrt.length);
    await page.click('#m');
    expect((await loads(page, 2))[1]).toMatchObject({ complete: true, bytes: mrt.length });
    console.log(`[no Range] budget 2 KB: the server wrote ${sent} B of ${mrt.length} before the abort reached it`);
    await page.close();
  });

  it('npx http-server: the same budget held by Range, the refine from byte 2048', async () => {
    const bin = join(ROOT, 'node_modules/.bin/http-server');
    expect(existsSync(bin)).toBe(true);
    // one root: the page, the image and the client side by side (links to the built client)
    const root = await mkdtemp(join(tmpdir(), 'mrt-http-server-'));
    for (const d of [DIST, dir]) for (const f of await readdir(d)) if (!existsSync(join(root, f))) await symlink(join(d, f), join(root, f));
    const port = await freePort();
    const proc: ChildProcess = spawn(process.execPath, [bin, root, '-p', String(port), '-a', '127.0.0.1', '-c-1', '-s'], { stdio: 'ignore' });
    try {
      const base = `http://127.0.0.1:${port}`;
      for (let i = 0; i < 80; i++) {
        if (await fetch(`${base}/nopaint.html`).then((r) => r.ok, () => false)) break;
        await sleep(100);
      }
      const page = await browser.context.newPage();
      // (the first response is cancelled once the budget is read: its Content-Range says what was sent)
      const seen: { range?: string; status: number; contentRange: string | null }[] = [];
      page.on('response', async (r) => {
        if (!r.url().includes('/i/kodim23.mrt')) return;
        seen.push({ range: (await r.request().allHeaders()).range, status: r.status(), contentRange: await r.headerValue('content-range') });
      });
      await page.goto(`${base}/nopaint.html`);
      const [first] = await loads(page, 1);
      expect(first).toMatchObject({ complete: false, bytes: 2048, bound: 'range' });
      await page.click('#m');
      expect((await loads(page, 2))[1]).toMatchObject({ complete: true, bytes: mrt.length });
      for (let i = 0; i < 20 && seen.length < 2; i++) await sleep(50);
      expect(seen).toEqual([
        { range: 'bytes=0-2047', status: 206, contentRange: `bytes 0-2047/${mrt.length}` },
        { range: 'bytes=2048-', status: 206, contentRange: `bytes 2048-${mrt.length - 1}/${mrt.length}` },
      ]);
      await page.close();
    } finally {
      proc.kill('SIGTERM');
      await rm(root, { recursive: true, force: true });
    }
  });
});
