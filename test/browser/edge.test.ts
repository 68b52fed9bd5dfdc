// <mrt-img> against the real local edge: wrangler dev (scripts/dev-edge.mjs) on a random
// port with a temporary local R2, seeded with an encoded Kodak image; the built client is
// served from dist/client by the edge's [assets]. Checks what the Node test server cannot:
// the edge's ?bytes= prefix selection, its X-MRT headers and Range on the refined request.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readHeader } from '../../src/format/index.ts';
import { budgetRung } from '../../src/format/budget.ts';
import { encodeFixture, ensureClient, haveKodak, haveModels } from './fixtures.ts';
import { DIST, launchChromium, ROOT, type BrowserHandle } from './harness.ts';

const ready = haveModels() && haveKodak() && existsSync(join(ROOT, 'scripts/dev-edge.mjs')) && existsSync(join(ROOT, 'node_modules/wrangler'));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function run(cmd: string, args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} → ${code}\n${out}`))));
  });
}

// Missing prerequisites fail the file loudly: these tests never skip themselves into green.
if (!ready) throw new Error('prerequisites missing (models/, ../shared/data/kodak, or the edge scripts): see README');
describe('<mrt-img> through the local edge (wrangler dev)', () => {
  let dir: string;
  let edge: ChildProcess | null = null;
  let base: string;
  let browser: BrowserHandle;
  let mrt: Uint8Array;

  beforeAll(async () => {
    await ensureClient();
    dir = await mkdtemp(join(tmpdir(), 'mrt-edge-test-'));
    mrt = await encodeFixture({ name: 'kodim01' });
    await writeFile(join(dir, 'kodim01.mrt'), mrt);
    const persist = join(dir, 'state');
    await run(process.execPath, [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'scripts/seed-edge.ts', join(dir, 'kodim01.mrt'), '--persist-to', persist], {});
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    edge = spawn(process.execPath, ['scripts/dev-edge.mjs'], {
      cwd: ROOT,
      env: { ...process.env, PORT: String(port), MRT_PERSIST: persist, WRANGLER_SEND_METRICS: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group: stopped with wrangler and workerd below
    });
    let log = '';
    edge.stdout!.on('data', (d) => (log += d));
    edge.stderr!.on('data', (d) => (log += d));
    for (let i = 0; i < 120; i++) {
      try {
        if ((await fetch(`${base}/mrt-img.js`)).ok) break;
      } catch {
        /* not up yet */
      }
      if (edge.exitCode !== null) throw new Error(`dev-edge exited: ${log}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (edge?.pid && edge.exitCode === null) {
      try {
        process.kill(-edge.pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('the demo page loads; an image streams from R2 with a ?bytes= budget, then refines with a Range request', async () => {
    const info = readHeader(mrt);
    // the longest chunk prefix whose ladder rung (what the edge serves for ?bytes=) is still
    // short of the file, so that the edge cuts it; the client trims the rung to the budget
    let cut = info.chunkEnds.length - 1;
    while (cut >= 0 && budgetRung(info.chunkEnds[cut]! + 1) >= mrt.length) cut--;
    expect(cut).toBeGreaterThanOrEqual(1);
    const budget = info.chunkEnds[cut]! + 1;
    const page = await browser.context.newPage();
    // unthrottled: by default the demo paces the whole page through a service worker and
    // reloads once to come under it
    await page.goto(`${base}/?net=none`);
    await page.evaluate((b) => {
      document.body.innerHTML = `<mrt-img id="x" src="/i/kodim01.mrt" width="768" height="512" alt="kodim01" budget="${b}" refine="click"></mrt-img>`;
      (window as any).ev = [];
      for (const t of ['load', 'error', 'paint']) document.getElementById('x')!.addEventListener(t, (e: any) => (window as any).ev.push({ type: t, detail: e.detail }));
    }, budget);
    await page.waitForFunction(() => (window as any).ev.some((e: any) => e.type === 'load' || e.type === 'error'), null, { timeout: 60_000 });
    await page.click('#x');
    await page.waitForFunction(() => (window as any).ev.filter((e: any) => e.type === 'load').length >= 2 || (window as any).ev.some((e: any) => e.type === 'error'), null, { timeout: 60_000 });
    const ev = (await page.evaluate(() => (window as any).ev)) as { type: string; detail: any }[];
    expect(ev.filter((e) => e.type === 'error')).toEqual([]);
    const loads = ev.filter((e) => e.type === 'load').map((e) => e.detail);
    // raw framing: cut exactly; the edge honoured ?bytes= (the ladder's rung, trimmed to the budget by Range)
    expect(loads[0]).toMatchObject({ complete: false, bytes: budget, chunks: cut + 1, bound: 'server' });
    expect(loads[1]).toMatchObject({ complete: true, bytes: mrt.length, chunks: info.chunkEnds.length });
    expect(ev.some((e) => e.type === 'paint' && e.detail.kind === 'ml')).toBe(true);
    // The demo page itself came from the edge's assets with the element defined.
    expect(await page.evaluate(() => !!customElements.get('mrt-img'))).toBe(true);
    // the demo page is cross-origin isolated (dist/client/_headers): WASM threads are possible
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    const r = await fetch(`${base}/i/kodim01.mrt?bytes=${mrt.length}`, { headers: { Range: `bytes=${budget}-` } });
    expect(r.status).toBe(206);
    expect(new Uint8Array(await r.arrayBuffer()).length).toBe(mrt.length - budget);
    await page.close();
  });

  it('the runtime and model files come under content-hashed names: immutable, brotli or gzip as the request accepts', async () => {
    // a fresh profile (no service worker of the demo page) and a page of our own on the edge's origin
    const b = await launchChromium();
    const page = await b.context.newPage();
    const seen: { path: string; status: number; headers: Record<string, string> }[] = [];
    page.on('response', async (r) => {
      const path = new URL(r.url()).pathname;
      if (/^\/(assets|models)\/|^\/ort[.-]/.test(path)) seen.push({ path, status: r.status(), headers: await r.allHeaders() });
    });
    await page.route(`${base}/hashed.html`, (route) =>
      route.fulfill({
        contentType: 'text/html; charset=utf-8',
        body: `<!doctype html><script type="module" src="/mrt-img.js"></script>
          <mrt-img id="x" src="/i/kodim01.mrt" width="768" height="512" alt="kodim01" budget="full"></mrt-img>
          <script type="module">
            window.ev = [];
            for (const t of ['load', 'error', 'paint']) document.getElementById('x').addEventListener(t, (e) => window.ev.push({ type: t, detail: e.detail }));
          </script>`,
      }),
    );
    await page.goto(`${base}/hashed.html`);
    await page.waitForFunction(() => (window as any).ev.some((e: any) => e.type === 'load' || e.type === 'error'), null, { timeout: 60_000 });
    const ev = (await page.evaluate(() => (window as any).ev)) as { type: string; detail: any }[];
    await b.close();
    expect(ev.filter((e) => e.type === 'error')).toEqual([]);
    expect(ev.some((e) => e.type === 'paint' && e.detail.kind === 'ml')).toBe(true);
    const paths = seen.map((r) => r.path);
    for (const f of ['manifest', 'rcm', 'mrt-kernels', 'decoder-lean']) expect(paths.some((p) => p.startsWith(`/assets/${f}.`))).toBe(true);
    // the lean runtime (the default) loads none of onnxruntime-web
    expect(paths.filter((p) => /\/ort[.-]|\.onnx$/.test(p))).toEqual([]);
    // nothing by its plain name, everything cacheable for a year
    expect(paths.filter((p) => !p.startsWith('/assets/'))).toEqual([]);
    for (const r of seen) {
      expect(r.status).toBe(200);
      expect(r.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    }
    // the platform (wrangler dev as Cloudflare) hands the Worker 'Accept-Encoding: br, gzip'
    // and re-encodes the types it compresses (JSON, JS, wasm) for the client: gzip here, as
    // Chromium lists it first; application/octet-stream (preview.bin: precompressed in every
    // build) goes out as the build's brotli
    const enc = (f: string) => seen.find((r) => r.path.startsWith(`/assets/${f}.`))!.headers['content-encoding'];
    expect(enc('preview')).toBe('br');
    expect(['br', 'gzip']).toContain(enc('rcm'));

    // by hand: what the client accepts; the same bytes whatever the encoding
    const rcm = seen.find((r) => r.path.startsWith('/assets/rcm.'))!;
    const plain = new Uint8Array(await readFile(join(DIST, rcm.path)));
    for (const [accept, encoding] of [['br', 'br'], ['gzip', 'gzip'], ['br;q=0, gzip;q=0.5', 'gzip'], ['identity', null]] as const) {
      const r = await fetch(`${base}${rcm.path}`, { headers: { 'Accept-Encoding': accept } });
      expect(r.status).toBe(200);
      expect(r.headers.get('content-encoding')).toBe(encoding);
      expect(r.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(new Uint8Array(await r.arrayBuffer())).toEqual(plain);
    }
    const head = await fetch(`${base}${rcm.path}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect((await head.arrayBuffer()).byteLength).toBe(0);
    // only hashed names are served there: not a variant by its own name, not a guess
    const variants = (await readdir(join(DIST, 'assets'))).filter((f) => f.endsWith('.br'));
    expect((await fetch(`${base}/assets/${variants[0]}`)).status).toBe(404);
    expect((await fetch(`${base}/assets/rcm.json`)).status).toBe(404);
  });
});
