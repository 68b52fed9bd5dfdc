// Browser-test plumbing: a small static HTTP server on 127.0.0.1 (random port) serving
// dist/client plus in-memory .mrt streams (Range, ?bytes= prefixes, server-side pacing,
// fault injection), and headless Debian Chromium through playwright-core.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { prefixLength, readHeader } from '../../src/format/index.ts';
import { isPart } from '../../src/format/parts.ts';
import { readPart } from '../../src/edge/parts.ts';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const DIST = join(ROOT, 'dist/client');
export const CHROMIUM = '/usr/bin/chromium';
export const KODAK = resolve(process.env.MRT_KODAK_DIR || join(ROOT, '../shared/data/kodak'));

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.map': 'application/json',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.mrt': 'application/vnd.mrt',
  '.jpg': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
};

export interface Stream {
  bytes: Uint8Array;
  /** Server-side pacing: send the body in pieces of this many bytes ... */
  pieceBytes?: number;
  /** ... with this many ms between pieces. */
  pieceDelayMs?: number;
  /** Server-side pacing at these absolute offsets (e.g. chunk ends), pieceDelayMs apart. */
  boundaries?: number[];
  /** Cut the body after this many bytes and end the response (a network truncation). */
  dropAfter?: number;
  /** Serve `?part=placeholder|final` as the edge does (src/edge/parts.ts); else the query is ignored, as a plain static host does. */
  parts?: boolean;
  /** Wait this long before answering at all (headers included). */
  waitMs?: number;
}

export interface TestServer {
  url: string;
  /** In-memory resources by path (e.g. '/i/kodim01.mrt'). */
  streams: Map<string, Stream>;
  /** Paths answered with 404 (e.g. '/models/decoder.onnx'). */
  missing: Set<string>;
  /** Extra static roots by URL prefix (e.g. '/models-bad/' → a folder). */
  mounts: Map<string, string>;
  /** Requests seen: path, range header, bytes sent. */
  log: { path: string; search: string; range?: string; sent: number; status: number; start: number; end?: number }[];
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function sendBody(res: ServerResponse, body: Uint8Array, s: Partial<Stream>): Promise<number> {
  const piece = s.pieceBytes ?? body.length;
  let sent = 0;
  if (s.boundaries?.length) {
    let o = 0;
    for (const b of [...s.boundaries, body.length]) {
      if (b <= o || res.destroyed) continue;
      res.write(body.subarray(o, Math.min(b, body.length)));
      sent += Math.min(b, body.length) - o;
      o = Math.min(b, body.length);
      if (o < body.length && s.pieceDelayMs) await sleep(s.pieceDelayMs);
    }
    res.end();
    return sent;
  }
  for (let o = 0; o < body.length; o += Math.max(1, piece)) {
    if (s.dropAfter !== undefined && o >= s.dropAfter) break;
    let end = Math.min(body.length, o + piece);
    if (s.dropAfter !== undefined) end = Math.min(end, s.dropAfter);
    if (res.destroyed) break;
    res.write(body.subarray(o, end));
    sent += end - o;
    if (s.pieceDelayMs && end < body.length) await sleep(s.pieceDelayMs);
  }
  res.end();
  return sent;
}

/** `?part=` of a whole stream, as the edge answers it (src/edge/parts.ts). */
export async function partOf(key: string, whole: Uint8Array, part: string): Promise<{ body: Uint8Array; mime: string; headers: Record<string, string> } | { status: number; error: unknown }> {
  const info = readHeader(whole);
  const p = isPart(part)
    ? await readPart(part, { key, size: whole.length, info, headerBytes: whole.subarray(0, info.headerEnd), read: async (o, n) => whole.subarray(o, o + n) })
    : { status: 400, error: 'bad-query', detail: `no part '${part}'` };
  if (p === 'changed') return { status: 500, error: p };
  if (!('body' in p)) return { status: p.status, error: p };
  return p;
}

export async function startServer(opts: { root?: string; isolate?: boolean } = {}): Promise<TestServer> {
  const root = opts.root ?? DIST;
  const streams = new Map<string, Stream>();
  const missing = new Set<string>();
  const mounts = new Map<string, string>();
  const log: TestServer['log'] = [];
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const path = decodeURIComponent(u.pathname);
    const range = req.headers.range;
    const entry: TestServer['log'][number] = { path, search: u.search, range, sent: 0, status: 200, start: Date.now() };
    res.on('finish', () => (entry.end = Date.now()));
    log.push(entry);
    res.setHeader('Cache-Control', 'no-store');
    if (opts.isolate) {
      res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
      res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    }
    res.setHeader('Accept-Ranges', 'bytes');
    if (missing.has(path)) {
      entry.status = 404;
      res.writeHead(404).end('not found');
      return;
    }
    let body: Uint8Array | null = null;
    let s: Partial<Stream> = {};
    let typePath = path;
    let type: string | undefined;
    const mem = streams.get(path);
    if (mem?.waitMs) await sleep(mem.waitMs);
    const part = u.searchParams.get('part');
    if (mem && mem.parts && part !== null) {
      s = mem;
      const p = await partOf(path, mem.bytes, part);
      if (!('body' in p)) {
        entry.status = p.status;
        res.writeHead(entry.status, { 'Content-Type': 'application/json' }).end(JSON.stringify(p.error));
        return;
      }
      for (const [n, v] of Object.entries(p.headers)) res.setHeader(n, v);
      body = p.body;
      type = p.mime;
    } else if (mem) {
      s = mem;
      body = mem.bytes;
      // ?bytes=N: a prefix cut on a chunk boundary, like the edge does.
      const b = u.searchParams.get('bytes');
      const q = u.searchParams.get('q');
      if (b || q) {
        try {
          const info = readHeader(body);
          const len = prefixLength(info, b ? { bytes: Number(b) } : { chunks: Number(q) });
          res.setHeader('X-MRT-Bytes', String(len));
          res.setHeader('X-MRT-Total-Length', String(body.length));
          body = body.subarray(0, len);
        } catch {
          /* not an .mrt: serve whole */
        }
      }
    } else {
      let file: string | null = null;
      for (const [prefix, dir] of mounts) if (path.startsWith(prefix)) file = join(dir, path.slice(prefix.length));
      if (!file) file = join(root, normalize(path === '/' ? '/index.html' : path));
      typePath = file;
      if (!file.startsWith(root) && ![...mounts.values()].some((d) => file!.startsWith(d))) {
        res.writeHead(403).end();
        return;
      }
      if (existsSync(file) && (await stat(file)).isFile()) body = new Uint8Array(await readFile(file));
    }
    if (!body) {
      entry.status = 404;
      res.writeHead(404).end('not found');
      return;
    }
    res.setHeader('Content-Type', type ?? MIME[extname(typePath)] ?? 'application/octet-stream');
    const m = range ? /^bytes=(\d+)-(\d*)$/.exec(range) : null;
    if (m) {
      const start = Number(m[1]);
      const end = m[2] ? Math.min(body.length - 1, Number(m[2])) : body.length - 1;
      if (start >= body.length) {
        entry.status = 416;
        res.writeHead(416, { 'Content-Range': `bytes */${body.length}` }).end();
        return;
      }
      entry.status = 206;
      res.writeHead(206, { 'Content-Range': `bytes ${start}-${end}/${body.length}`, 'Content-Length': end - start + 1 });
      // pacing and a network cut stay at their offsets in the whole body
      const boundaries = s.boundaries?.map((b) => b - start).filter((b) => b > 0);
      const dropAfter = s.dropAfter === undefined ? undefined : Math.max(0, s.dropAfter - start);
      entry.sent = await sendBody(res, body.subarray(start, end + 1), { ...s, dropAfter, boundaries: boundaries?.length ? boundaries : undefined });
      return;
    }
    res.writeHead(200, s.dropAfter === undefined ? { 'Content-Length': body.length } : {});
    entry.sent = await sendBody(res, body, s);
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(e));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    streams,
    missing,
    mounts,
    log,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections?.();
        server.close(() => r());
      }),
  };
}

export interface BrowserHandle {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(opts: { webgpu?: boolean; javaScript?: boolean } = {}): Promise<BrowserHandle> {
  const dir = await mkdtemp(join(tmpdir(), 'mrt-chromium-'));
  const args = [
    '--no-sandbox',
    '--disable-background-networking',
    '--disable-component-update',
    '--no-first-run',
    '--disable-default-apps',
    '--disable-dev-shm-usage',
  ];
  if (opts.webgpu) args.push('--enable-unsafe-webgpu');
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args,
    viewport: { width: 1000, height: 800 },
    javaScriptEnabled: opts.javaScript ?? true,
  });
  return {
    context,
    close: async () => {
      await context.close().catch(() => undefined);
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    },
  };
}

/** Collects page errors and unhandled rejections (pages and workers). */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /unhandled|Uncaught/i.test(m.text())) errors.push(`console: ${m.text()}`);
  });
  return errors;
}

/** A test page with the element loaded from the built bundle. */
export function testPage(body: string, head = ''): string {
  return `<!doctype html><html><head><meta charset="utf-8">${head}
<script>
  window.__rejections = [];
  addEventListener('unhandledrejection', (e) => window.__rejections.push(String(e.reason && e.reason.message || e.reason)));
</script>
<script type="module" src="/mrt-img.js"></script></head><body style="margin:0">${body}</body></html>`;
}

/**
 * A page with one square <mrt-img budget="full"> that records its `paint` and `error` details
 * (window.paints, window.errors), its canvas pixels at `load` (window.pixels) and the page's
 * backend (window.backend); `head` e.g. configures the element.
 */
export function capturePage(src: string, size: number, head = ''): string {
  return testPage(
    `<mrt-img id="m" src="${src}" width="${size}" height="${size}" alt="test image" budget="full"></mrt-img>
     <script type="module">
       const M = customElements.get('mrt-img');
       const m = document.getElementById('m');
       window.paints = []; window.errors = [];
       m.addEventListener('paint', (e) => window.paints.push(e.detail));
       m.addEventListener('error', (e) => window.errors.push(e.detail));
       m.addEventListener('load', () => {
         const c = m.canvasElement;
         window.pixels = Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data);
       });
       M.backend().then((x) => (window.backend = x));
     </script>`,
    head,
  );
}

/** PSNR (dB) of two RGBA/RGB buffers compared on RGB. */
export function psnr(a: ArrayLike<number>, aCh: number, b: ArrayLike<number>, bCh: number, pixels: number): number {
  let se = 0;
  for (let i = 0; i < pixels; i++) {
    for (let c = 0; c < 3; c++) {
      const d = a[i * aCh + c] - b[i * bCh + c];
      se += d * d;
    }
  }
  const mse = se / (pixels * 3);
  return mse === 0 ? 99 : 10 * Math.log10((255 * 255) / mse);
}
