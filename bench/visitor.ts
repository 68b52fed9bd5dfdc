// What a visitor sees over time, in headless Chromium, with the whole page throttled:
// <mrt-img> served by the local edge (default settings) against what a site sends today at
// the same final quality: AVIF with an inline placeholder (the .mrt's own tiny AVIF),
// progressive JPEG (mozjpeg) and progressive JPEG XL.
//
//   npx tsx bench/visitor.ts [--quick] [--pages hero,large,grid] [--methods mrt,avif,pjpeg,jxl (also mrt-preload)]
//       [--networks 400kbps-400ms,1.6Mbps-150ms,10Mbps-40ms] [--caches cold,warm]
//       [--cpu 4] [--cpu-mode quota|devtools|off] [--timeout 30] [--reps 1] [--out bench/results/visitor]
//
// --quick: the hero page (kodim23), MRT and AVIF + placeholder, 10 Mbit/s, cold and warm,
// at most 40 s per run (under 3 minutes; `npm test` runs it).
// --reps N: every run N times, the methods taking turns within each repetition (a single run on
// this shared machine swings by up to half a second); adds each method's LCP against AVIF's of
// the same repetition: median, mean and range of the ratios.
//
// Every request of the page (its workers included) goes through DevTools network emulation;
// the CPU slowdown is described in bench/lib/throttle.ts. Cold: a fresh browser context.
// Warm: the same context after a visit to a page of the same kind with another photo
// (kodim05), so the runtime and model are in the HTTP cache as far as their headers allow,
// but the image is not. The screen is recorded with the DevTools screencast (a PNG frame
// whenever it changes) and each image region is scored against the original at its
// displayed size: RGB PSNR and SSIMULACRA 2.1.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { readFileSync } from 'node:fs';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type Server } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import sharp from 'sharp';
import { ensureClient } from '../test/browser/fixtures.ts';
import { placeholderBackground, readFirstPaint } from '../src/format/index.ts';
import { CHROMIUM, DIST } from '../test/browser/harness.ts';
import { Filmstrip, firstTime, meanOver, scoreFrames, type Region, type Timeline } from './lib/filmstrip.ts';
import { ALL_METHODS, cjxlVersion, METHODS, prepareAssets, type Method, type PhotoAssets } from './lib/visitor-assets.ts';
import { linePlot, type Series } from './lib/svg.ts';
import { CpuThrottle, emulateNetwork, NETWORKS, networkPreset, type CpuMode, type NetworkPreset } from './lib/throttle.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SHARED = resolve(ROOT, '../shared/data');
const KODAK = (n: string) => join(SHARED, 'kodak', `${n}.png`);
/** A larger photo (1024x576, CC0, from the open training set: its learned quality is not a held-out figure). */
const LARGE = join(SHARED, 'train-open/budgie-backgrounds/beacon-street-sunset.jpg');
const GRID = ['kodim01', 'kodim02', 'kodim03', 'kodim06', 'kodim07', 'kodim08', 'kodim11', 'kodim12', 'kodim13', 'kodim14', 'kodim15', 'kodim16'];
const PRIMER = 'kodim05';
const CAPTION = 'A photo on a page: this caption is the only text, so it is what LCP reports when no image qualifies.';
const HORIZON_MS = 5000;
const STEP_MS = 100;
const QUIET_MS = 2500;
/** screen time allowed after the page reports every image complete */
const SETTLE_MS = 1500;
/** SSIMULACRA 2 of a blank region is about -540: the 5-s mean counts any score below this as this. */
const SSIM2_FLOOR = -100;
const TRACE = process.env.MRT_VISITOR_TRACE === '1';

interface PageSpec {
  name: string;
  photos: string[];
  /** displayed size of each photo (CSS px, DPR 1); grid cells are half size */
  scale: number;
  columns: number;
}

const PAGES: Record<string, PageSpec> = {
  hero: { name: 'hero', photos: [KODAK('kodim23')], scale: 1, columns: 1 },
  large: { name: 'large', photos: [LARGE], scale: 1, columns: 1 },
  grid: { name: 'grid', photos: GRID.map(KODAK), scale: 0.5, columns: 3 },
};

interface Placed {
  a: PhotoAssets;
  x: number;
  y: number;
  w: number;
  h: number;
}

interface Layout {
  placed: Placed[];
  viewport: { width: number; height: number };
  captionTop: number;
}

function layout(spec: PageSpec, assets: PhotoAssets[]): Layout {
  const placed: Placed[] = [];
  let x = 0;
  let y = 0;
  let rowH = 0;
  assets.forEach((a, i) => {
    if (i && i % spec.columns === 0) {
      y += rowH;
      x = 0;
      rowH = 0;
    }
    const w = Math.round(a.width * spec.scale);
    const h = Math.round(a.height * spec.scale);
    placed.push({ a, x, y, w, h });
    x += w;
    rowH = Math.max(rowH, h);
  });
  const height = y + rowH;
  const width = Math.max(...placed.map((p) => p.x + p.w));
  return { placed, viewport: { width, height: height + 40 }, captionTop: height + 8 };
}

/** The .mrt's placeholder as inline CSS (the product's rule, src/format/parts.ts): MRT's hero and every AVIF + placeholder image. */
function inlinePlaceholder(a: PhotoAssets): string {
  const bg = placeholderBackground(readFirstPaint(new Uint8Array(readFileSync(join(a.dir, `${a.key}.mrt`)))));
  if (!bg) throw new Error(`${a.key}.mrt has no placeholder`);
  return `background:${bg}`;
}

function pageHtml(spec: PageSpec, method: Method, l: Layout): string {
  const mrt = method === 'mrt' || method === 'mrt-preload';
  // the page's largest image, as a page preloads its LCP image (the final part: src/format/parts.ts)
  const preload = method === 'mrt-preload' ? `<link rel="preload" as="image" href="/i/visitor/${l.placed[0]!.a.key}.mrt?part=final" fetchpriority="high">` : '';
  // MRT_VISITOR_TRACE=1: the client's debug log, printed with page times (what a run waits for)
  const trace = TRACE ? `<script type="module">import { MrtImg } from '/mrt-img.js'; MrtImg.configure({ debug: true });</script>` : '';
  const head = mrt ? `${preload}<script type="module" src="/mrt-img.js"></script>${trace}` : '';
  const cells = l.placed.map(({ a, x, y, w, h }) => {
    const box = `left:${x}px;top:${y}px;width:${w}px;height:${h}px`;
    // (mrt-preload: the page's largest image as the README recommends, its placeholder inline)
    if (mrt) return `<div class="im" style="${box}"><mrt-img src="/i/visitor/${a.key}.mrt" width="${a.width}" height="${a.height}" alt="${a.key}"${method === 'mrt-preload' && a === l.placed[0]!.a ? ` style="${inlinePlaceholder(a)}"` : ''}></mrt-img></div>`;
    const file = `/visitor/${a.key}.${a.peers[method]!.ext}`;
    if (method === 'avif') return `<div class="im" style="${box};${inlinePlaceholder(a)}"><img src="${file}" width="${a.width}" height="${a.height}" alt="${a.key}"></div>`;
    return `<div class="im" style="${box}"><img src="${file}" width="${a.width}" height="${a.height}" alt="${a.key}"></div>`;
  });
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${spec.name} (${method})</title>${head}
<style>body{margin:0;background:#fff;font:14px/1.3 sans-serif}.im{position:absolute;overflow:hidden}.im>*{display:block;width:100%;height:100%}p{position:absolute;left:8px;margin:0}</style>
</head><body>
${cells.join('\n')}
<p style="top:${l.captionTop}px">${CAPTION}</p>
</body></html>`;
}

/** Collects LCP and main-thread long tasks from the start of every document. */
const PERF_SCRIPT = `(() => {
  const p = (window.__perf = { lcp: null, long: [] });
  // the kind of each <mrt-img>'s last paint: a run is not over while a learned paint may follow
  document.addEventListener('paint', (e) => { if (e.target && e.target.dataset) e.target.dataset.lastPaint = e.detail && e.detail.kind; }, true);
  // The screencast skips frames while one awaits its ack and sends none while nothing changes,
  // so a paint could be missed for good: a 1-px ticker outside the images keeps frames coming.
  addEventListener('DOMContentLoaded', () => {
    const t = document.createElement('div');
    t.style.cssText = 'position:fixed;right:0;bottom:0;width:1px;height:1px';
    document.body.append(t);
    let on = false;
    setInterval(() => { on = !on; t.style.background = on ? '#fff' : '#fefefe'; }, 100);
  });
  try {
    new PerformanceObserver((l) => { for (const e of l.getEntries()) p.lcp = { t: e.startTime, el: e.element ? e.element.tagName.toLowerCase() : null, url: e.url || '', size: e.size }; }).observe({ type: 'largest-contentful-paint', buffered: true });
    new PerformanceObserver((l) => { for (const e of l.getEntries()) p.long.push(e.duration); }).observe({ type: 'longtask', buffered: true });
  } catch (e) { p.error = String(e); }
})();`;

/**
 * True when every image on the page is complete: img.complete; an <mrt-img> that is complete
 * with a learned (or final) paint last, or that gave up (fallback).
 */
const DONE_EXPR = `(() => {
  const m = [...document.querySelectorAll('mrt-img')];
  const i = [...document.querySelectorAll('.im > img')];
  const learned = (e) => e.dataset.lastPaint === 'ml' || e.dataset.lastPaint === 'final';
  return m.every((e) => (e.complete && learned(e)) || e.dataset.state === 'fallback') && i.every((e) => e.complete);
})()`;

interface RunResult {
  /** repetition (--reps), from 1 */
  rep: number;
  page: string;
  method: Method;
  network: string;
  cache: 'cold' | 'warm';
  timedOut: boolean;
  runMs: number;
  timeline: Timeline;
  firstPaint: number | null;
  t25: number | null;
  t30: number | null;
  final: { t: number; psnr: number; ssim2: number };
  mean5: { psnr: number; ssim2: number };
  lcp: { t: number; el: string | null; url: string; size: number } | null;
  /** bytes the server sent during the run (headers and bodies, the page included, workers' requests too) */
  bytes: number;
  /** responses completed during the run */
  requests: number;
  longTasks: { count: number; ms: number };
  errors: string[];
  /** the machine's 1-minute load average when the run ended (it shares 2 cores with other work) */
  load: number;
  /** distinct end states of the page's <mrt-img> elements: data-state/last paint kind[/complete] */
  elements: string[];
}

async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => ok(p));
    });
    s.on('error', fail);
  });
}

function sh(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<void> {
  return new Promise((ok, fail) => {
    const p = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...env } });
    p.on('exit', (c) => (c === 0 ? ok() : fail(new Error(`${cmd} ${args.join(' ')} exited with ${c}`))));
    p.on('error', fail);
  });
}

/**
 * A TCP relay in front of the edge that counts the bytes sent to the browser: every response,
 * its workers' included, also those still arriving when a run ends (the DevTools events of a
 * page do not cover its workers' requests, and Playwright reports a size only when a response
 * has finished).
 */
async function countingRelay(targetPort: number): Promise<{ url: string; sent: () => number; close: () => void }> {
  let sent = 0;
  const server: Server = createServer((client) => {
    const up = connect(targetPort, '127.0.0.1');
    up.on('data', (d: Buffer) => {
      sent += d.length;
      client.write(d);
    });
    client.on('data', (d: Buffer) => up.write(d));
    const end = () => {
      client.destroy();
      up.destroy();
    };
    up.on('close', end);
    client.on('close', end);
    up.on('error', end);
    client.on('error', end);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, sent: () => sent, close: () => server.close() };
}

/** The local edge (`npm run dev:edge`) on a free port with its own local R2 folder. */
async function startEdge(persist: string): Promise<{ url: string; proc: ChildProcess }> {
  const port = await freePort();
  const proc = spawn(process.execPath, ['scripts/dev-edge.mjs'], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, PORT: String(port), MRT_PERSIST: persist },
  });
  let err = '';
  proc.stderr!.on('data', (d) => (err = (err + d).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 240; i++) {
    if (proc.exitCode !== null) throw new Error(`the local edge exited with ${proc.exitCode}: ${err}`);
    try {
      if ((await fetch(`${url}/mrt-img.js`)).ok) return { url, proc };
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  stopEdge(proc);
  throw new Error(`the local edge did not answer within 60 s: ${err}`);
}

function stopEdge(proc: ChildProcess): void {
  try {
    process.kill(-proc.pid!, 'SIGTERM');
  } catch {
    /* gone */
  }
}

async function reference(a: PhotoAssets, w: number, h: number) {
  const img = sharp(join(a.dir, `${a.key}.png`));
  const data = await (w === a.width && h === a.height ? img : img.resize(w, h, { kernel: 'lanczos3' })).removeAlpha().raw().toBuffer();
  return { width: w, height: h, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

async function waitDone(ctxState: { inflight: number; lastNet: number }, page: import('playwright-core').Page, t0: number, timeoutMs: number): Promise<boolean> {
  for (;;) {
    await new Promise((r) => setTimeout(r, 200));
    const now = Date.now();
    if (now - t0 > timeoutMs) return true;
    // (screen frames never stop: the page's ticker keeps them coming)
    const quiet = ctxState.inflight === 0 && now - Math.max(ctxState.lastNet, t0) > QUIET_MS;
    if (quiet && (await page.evaluate(DONE_EXPR).catch(() => false))) {
      // the last paint reaches the screen (and the screencast) a little after its event
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      return false;
    }
  }
}

async function visit(
  browser: Browser,
  relay: { url: string; sent: () => number },
  spec: PageSpec,
  l: Layout,
  method: Method,
  net: NetworkPreset,
  cache: 'cold' | 'warm',
  cpu: CpuThrottle,
  timeoutMs: number,
  primerPage: string,
): Promise<Omit<RunResult, 'rep'> & { frames: Filmstrip['frames']; origin: number }> {
  const ctx: BrowserContext = await browser.newContext({ viewport: l.viewport, deviceScaleFactor: 1 });
  try {
    await ctx.addInitScript(PERF_SCRIPT);
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      // warnings (e.g. why a backend was left) are the product talking, not a failure
      if (m.type() === 'error' && !/^Failed to load resource/.test(m.text())) errors.push(`${m.type()}: ${m.text()}`);
      if (TRACE && state.counting) {
        const at = /^@(\d+) /.exec(m.text());
        console.error(`  [${(((at ? Number(at[1]) : Date.now()) - state.t0) / 1000).toFixed(3)} s] ${m.text()}`);
      }
    });
    ctx.on('response', (r) => {
      if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) errors.push(`HTTP ${r.status()} ${r.url()}`);
    });
    const cdp = await ctx.newCDPSession(page);
    await cpu.applyTo(cdp);
    const state = { inflight: 0, lastNet: 0, counting: false, requests: 0, t0: 0 };
    ctx.on('request', (r) => {
      if (TRACE && state.counting) console.error(`  [${((Date.now() - state.t0) / 1000).toFixed(3)} s] request ${r.url().replace(/^https?:\/\/[^/]+/, '')}${r.headers().range ? ` (${r.headers().range})` : ''}`);
      state.inflight++;
      state.lastNet = Date.now();
    });
    const settle = (ok: boolean) => {
      state.inflight--;
      state.lastNet = Date.now();
      if (state.counting && ok) state.requests++;
    };
    ctx.on('requestfinished', (r) => {
      if (TRACE && state.counting) {
        const t = r.timing();
        console.error(`  [${((Date.now() - state.t0) / 1000).toFixed(3)} s] finished ${r.url().replace(/^https?:\/\/[^/]+/, '')} (request sent at +${t.requestStart.toFixed(0)} ms, first byte +${t.responseStart.toFixed(0)} ms, end +${t.responseEnd.toFixed(0)} ms)`);
      }
      settle(true);
    });
    ctx.on('requestfailed', () => settle(false));
    if (cache === 'warm') {
      await emulateNetwork(cdp, null);
      const t = Date.now();
      await page.goto(`${relay.url}${primerPage}`);
      await waitDone(state, page, t, 120_000);
    }
    // A blank document first: Chromium keeps a same-origin page on screen until the next one paints.
    await page.goto('about:blank');
    await emulateNetwork(cdp, net);
    const film = new Filmstrip(cdp);
    await film.start(l.viewport.width, l.viewport.height);
    state.counting = true;
    const sent0 = relay.sent();
    const t0 = (state.t0 = Date.now());
    await page.goto(`${relay.url}/visitor/${spec.name}-${method}`, { waitUntil: 'commit' });
    const timedOut = await waitDone(state, page, t0, timeoutMs);
    const wire = relay.sent() - sent0;
    const runMs = Date.now() - t0;
    const origin = (await page.evaluate('performance.timeOrigin')) as number;
    const perf = (await page.evaluate('window.__perf')) as { lcp: RunResult['lcp']; long: number[] };
    // why an <mrt-img> stopped where it did: its state and last paint
    const states = (await page.evaluate(`[...document.querySelectorAll('mrt-img')].map((e) => (e.dataset.state || '') + '/' + (e.dataset.lastPaint || '') + (e.complete ? '/complete' : ''))`)) as string[];
    await film.stop();
    return {
      page: spec.name, method, network: net.name, cache, timedOut, runMs,
      timeline: { points: [], settledAt: 0 },
      firstPaint: null, t25: null, t30: null, final: { t: 0, psnr: NaN, ssim2: NaN }, mean5: { psnr: NaN, ssim2: NaN },
      lcp: perf?.lcp ?? null,
      bytes: wire, requests: state.requests,
      longTasks: { count: perf?.long.length ?? 0, ms: (perf?.long ?? []).reduce((a, b) => a + b, 0) },
      errors: errors.slice(0, 5),
      load: loadavg()[0]!,
      elements: [...new Set(states)],
      frames: film.frames, origin,
    };
  } finally {
    await ctx.close().catch(() => undefined);
  }
}

async function score(r: Awaited<ReturnType<typeof visit>>, regions: Region[]): Promise<Omit<RunResult, 'rep'>> {
  const tl = await scoreFrames(r.frames.filter((f) => f.at >= r.origin - 50), regions, r.origin);
  const last = tl.points[tl.points.length - 1]!;
  const { frames: _f, origin: _o, ...rest } = r;
  return {
    ...rest,
    timeline: tl,
    firstPaint: firstTime(tl, (p) => p.painted),
    t25: firstTime(tl, (p) => p.psnr >= 25),
    t30: firstTime(tl, (p) => p.psnr >= 30),
    final: { t: tl.settledAt, psnr: last.psnr, ssim2: last.ssim2 },
    mean5: { psnr: meanOver(tl, HORIZON_MS, STEP_MS, (p) => p.psnr), ssim2: meanOver(tl, HORIZON_MS, STEP_MS, (p) => Math.max(SSIM2_FLOOR, p.ssim2)) },
  };
}

const s = (ms: number | null, timedOut = false, limit = 0) => (ms === null ? (timedOut ? `> ${(limit / 1000).toFixed(0)} s` : 'never') : `${(ms / 1000).toFixed(2)} s`);

function tableRows(rs: RunResult[], timeoutMs: number): string[] {
  const out = [
    '| page | method | network | cache | first paint | ≥ 25 dB | ≥ 30 dB | final (last change) | final dB / SSIM2 | mean dB / SSIM2, first 5 s | LCP (element) | bytes sent (responses completed) | long tasks | load |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rs) {
    out.push(`| ${r.page} | ${r.method}${rs.some((x) => x.rep > 1) ? ` #${r.rep}` : ''} | ${r.network} | ${r.cache} | ${s(r.firstPaint, r.timedOut, timeoutMs)} | ${s(r.t25, r.timedOut, timeoutMs)} | ${s(r.t30, r.timedOut, timeoutMs)} | ${r.timedOut ? `> ${(timeoutMs / 1000).toFixed(0)} s (${s(r.final.t)})` : s(r.final.t)} | ${r.final.psnr.toFixed(2)} / ${r.final.ssim2.toFixed(1)} | ${r.mean5.psnr.toFixed(2)} / ${r.mean5.ssim2.toFixed(1)} | ${r.lcp ? `${s(r.lcp.t)} (${r.lcp.el ?? '?'})` : 'none'} | ${r.bytes.toLocaleString('en-US')} (${r.requests}) | ${r.longTasks.count}, ${r.longTasks.ms.toFixed(0)} ms | ${r.load.toFixed(1)} |`);
  }
  return out;
}

/**
 * Each method's LCP over AVIF + placeholder's in the same repetition, page, network and cache
 * (the runs a repetition makes one after another meet the same load): per repetition, and their
 * median, mean and range. Empty without AVIF runs.
 */
function lcpRatios(rs: RunResult[]): string[] {
  const avif = new Map(rs.filter((r) => r.method === 'avif' && r.lcp).map((r) => [`${r.rep}|${r.page}|${r.network}|${r.cache}`, r.lcp!.t]));
  if (!avif.size) return [];
  const groups = new Map<string, number[]>();
  const lcps = new Map<string, number[]>();
  for (const r of rs) {
    const base = avif.get(`${r.rep}|${r.page}|${r.network}|${r.cache}`);
    const k = `${r.page} | ${r.method} | ${r.network} | ${r.cache}`;
    if (!lcps.has(k)) lcps.set(k, []);
    if (r.lcp) lcps.get(k)!.push(r.lcp.t);
    if (r.method === 'avif' || !r.lcp || base === undefined) continue;
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(r.lcp.t / base);
  }
  const median = (v: number[]) => {
    const o = [...v].sort((a, b) => a - b);
    return o.length % 2 ? o[(o.length - 1) >> 1]! : (o[o.length / 2 - 1]! + o[o.length / 2]!) / 2;
  };
  const out = [
    '| page | method | network | cache | LCP median (s) | LCP / AVIF\'s, per repetition | median | mean | range |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const [k, v] of lcps) {
    const q = groups.get(k);
    const stats = q?.length ? `${q.map((x) => x.toFixed(2)).join(' / ')} | ${median(q).toFixed(2)} | ${(q.reduce((a, b) => a + b, 0) / q.length).toFixed(2)} | ${Math.min(...q).toFixed(2)}–${Math.max(...q).toFixed(2)}` : '– | – | – | –';
    out.push(`| ${k} | ${v.length ? (median(v) / 1000).toFixed(2) : 'none'} | ${stats} |`);
  }
  return out;
}

const COLORS: Record<Method, string> = { mrt: '#d62728', 'mrt-preload': '#ff7f0e', avif: '#1f77b4', pjpeg: '#7f7f7f', jxl: '#2ca02c' };

function plot(rs: RunResult[], page: string, net: string, timeoutMs: number, metric: 'psnr' | 'ssim2'): string {
  // (the first repetition: --reps runs are in the tables)
  const series: Series[] = rs.filter((r) => r.page === page && r.network === net && r.rep === 1).map((r) => ({
    label: `${r.method} ${r.cache}`,
    color: COLORS[r.method],
    dashed: r.cache === 'warm',
    step: true,
    points: r.timeline.points.map((p) => [p.t / 1000, metric === 'psnr' ? p.psnr : p.ssim2] as [number, number]),
  }));
  const xmax = Math.min(timeoutMs / 1000, Math.max(6, ...rs.filter((r) => r.page === page && r.network === net).map((r) => Math.ceil(r.final.t / 1000) + 1)));
  const ticks: [number, string][] = [];
  for (let t = 0; t <= xmax; t += xmax > 20 ? 5 : xmax > 10 ? 2 : 1) ticks.push([t, `${t}`]);
  return linePlot(series, {
    title: `${page}, ${net}: ${metric === 'psnr' ? 'RGB PSNR' : 'SSIMULACRA 2.1'} of what is on screen`,
    xLabel: 'seconds after navigation start',
    yLabel: metric === 'psnr' ? 'PSNR (dB, all images pooled)' : 'SSIMULACRA 2.1 (mean over images)',
    xTicks: ticks,
    xRange: [0, xmax],
    yRange: metric === 'psnr' ? [5, 35] : [-120, 90],
  });
}

async function main() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean' },
      pages: { type: 'string' },
      methods: { type: 'string' },
      networks: { type: 'string' },
      caches: { type: 'string' },
      cpu: { type: 'string', default: '4' },
      'cpu-mode': { type: 'string', default: 'quota' },
      timeout: { type: 'string' },
      reps: { type: 'string', default: '1' },
      out: { type: 'string' },
    },
  });
  const quick = !!values.quick;
  const pages = (values.pages ?? (quick ? 'hero' : 'hero,large,grid')).split(',').map((p) => PAGES[p] ?? fail(`unknown page ${p}; one of ${Object.keys(PAGES).join(', ')}`));
  const methods = (values.methods ?? (quick ? 'mrt,avif' : METHODS.join(','))).split(',').map((m) => (ALL_METHODS.includes(m as Method) ? (m as Method) : fail(`unknown method ${m}`)));
  const nets = (values.networks ?? (quick ? '10Mbps-40ms' : NETWORKS.map((n) => n.name).join(','))).split(',').map(networkPreset);
  const caches = (values.caches ?? 'cold,warm').split(',').map((c) => (c === 'cold' || c === 'warm' ? c : fail(`unknown cache ${c}`)));
  const timeoutMs = Number(values.timeout ?? (quick ? 40 : 60)) * 1000;
  const reps = Number(values.reps);
  if (!(Number.isInteger(reps) && reps >= 1)) fail(`--reps must be a whole number >= 1, got ${values.reps}`);
  const out = values.out ?? (quick ? 'bench/out/visitor-quick' : 'bench/results/visitor');
  const mode = values['cpu-mode'] as CpuMode;
  if (!['quota', 'devtools', 'off'].includes(mode)) fail(`--cpu-mode must be quota, devtools or off`);
  const started = new Date();
  const commit = (() => {
    try {
      const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
      const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no', '--', 'src', 'scripts', 'models', 'bench'], { cwd: ROOT, encoding: 'utf8' }).trim();
      return dirty ? `${head} with uncommitted changes` : head;
    } catch {
      return 'unknown commit';
    }
  })();
  const t0 = Date.now();

  console.error('visitor: building the client and preparing the photos (cached in .cache/visitor)');
  await ensureClient();
  const photos = [...new Set([...pages.flatMap((p) => p.photos), KODAK(PRIMER)])];
  const assets = new Map<string, PhotoAssets>();
  for (const p of photos) assets.set(p, await prepareAssets(p));

  // Files the pages load: the peers under /visitor/ (static assets), the .mrt files in a
  // local R2 of their own under visitor/ (served at /i/visitor/NAME.mrt).
  const www = join(DIST, 'visitor');
  const seedDir = resolve(ROOT, '.cache/visitor/seed');
  const persist = resolve(ROOT, '.cache/visitor/r2');
  await rm(www, { recursive: true, force: true });
  await rm(seedDir, { recursive: true, force: true });
  await mkdir(www, { recursive: true });
  await mkdir(join(seedDir, 'visitor'), { recursive: true });
  for (const a of assets.values()) {
    for (const m of ['avif', 'pjpeg', 'jxl'] as const) await copyFile(join(a.dir, `${a.key}.${a.peers[m]!.ext}`), join(www, `${a.key}.${a.peers[m]!.ext}`));
    await copyFile(join(a.dir, `${a.key}.mrt`), join(seedDir, 'visitor', `${a.key}.mrt`));
  }
  const layouts = new Map<string, Layout>();
  const primerSpec: PageSpec = { name: 'primer', photos: [KODAK(PRIMER)], scale: 1, columns: 1 };
  for (const spec of [...pages, primerSpec]) {
    const l = layout(spec, spec.photos.map((p) => assets.get(p)!));
    layouts.set(spec.name, l);
    for (const m of ALL_METHODS) await writeFile(join(www, `${spec.name}-${m}.html`), pageHtml(spec, m, l));
  }
  await sh('npx', ['tsx', 'scripts/seed-edge.ts', '--persist-to', persist, seedDir]);
  const edge = await startEdge(persist);
  const relay = await countingRelay(Number(new URL(edge.url).port));
  const cpu = new CpuThrottle(mode, Number(values.cpu));
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-default-apps', '--disable-dev-shm-usage', ...cpu.args],
  });
  const results: RunResult[] = [];
  const chromiumVersion = browser.version();
  const jxlVersion = methods.includes('jxl') ? await cjxlVersion() : '';
  try {
    console.error(`visitor: Chromium ${chromiumVersion}; edge ${edge.url}; CPU: ${cpu.describe()}`);
    for (const spec of pages) {
      const l = layouts.get(spec.name)!;
      const regions: Region[] = await Promise.all(l.placed.map(async (p) => ({ x: p.x, y: p.y, width: p.w, height: p.h, reference: await reference(p.a, p.w, p.h) })));
      for (const net of nets) {
        for (let rep = 1; rep <= reps; rep++) {
        for (const method of methods) {
          for (const cache of caches) {
            const raw = await visit(browser, relay, spec, l, method, net, cache, cpu, timeoutMs, `/visitor/primer-${method}`);
            const r = { rep, ...(await score(raw, regions)) };
            results.push(r);
            console.error(`visitor: ${spec.name} ${method} ${net.name} ${cache}${reps > 1 ? ` #${rep}` : ''}: first paint ${s(r.firstPaint)}, 25 dB ${s(r.t25, r.timedOut, timeoutMs)}, final ${r.final.psnr.toFixed(2)} dB at ${s(r.final.t)}${r.timedOut ? ' (timed out)' : ''}, ${r.bytes} B${r.elements.length ? ` [${r.elements.join(", ")}]` : ""}${r.errors.length ? `; console: ${r.errors.join(' | ')}` : ''}`);
          }
        }
        }
      }
    }
  } finally {
    await browser.close().catch(() => undefined);
    cpu.close();
    relay.close();
    stopEdge(edge.proc);
    await rm(www, { recursive: true, force: true });
  }

  const files = pages.flatMap((p) => p.photos.map((ph) => assets.get(ph)!));
  const fileRows = [
    '| photo | size | .mrt (whole-file PSNR) | AVIF + placeholder | progressive JPEG | JPEG XL |',
    '|---|---|---|---|---|---|',
    ...files.map((a) => `| ${a.key} | ${a.width}×${a.height} | ${a.mrtBytes.toLocaleString('en-US')} B (${a.mrtPsnr.toFixed(2)} dB) | ${a.peers.avif!.bytes.toLocaleString('en-US')} B q${a.peers.avif!.quality} (${a.peers.avif!.psnr.toFixed(2)} dB) + ${a.placeholder.bytes} B inline | ${a.peers.pjpeg!.bytes.toLocaleString('en-US')} B q${a.peers.pjpeg!.quality} (${a.peers.pjpeg!.psnr.toFixed(2)} dB) | ${a.peers.jxl!.bytes.toLocaleString('en-US')} B q${a.peers.jxl!.quality} (${a.peers.jxl!.psnr.toFixed(2)} dB) |`),
  ];
  const table = tableRows(results, timeoutMs);
  const ratios = lcpRatios(results);
  const cmd = `npx tsx bench/visitor.ts ${process.argv.slice(2).join(' ')}`.trim();
  console.log(`\n${cmd}\n\n${table.join('\n')}\n${ratios.length ? `\n${ratios.join('\n')}\n` : ''}`);
  const md = [
    `# Visitor benchmark`,
    '',
    `What a visitor sees over time in headless Chromium ${chromiumVersion} (Debian), measured ${started.toISOString().slice(0, 10)} on a ${cpus().length}-core ${cpus()[0]?.model ?? ''} machine shared with other work, at ${commit}, with \`${cmd}\` (${((Date.now() - t0) / 60000).toFixed(1)} min).`,
    '',
    `- Pages: ${pages.map((p) => `${p.name} (${p.photos.length} × ${p.scale === 1 ? 'natural size' : `${p.scale}× size`})`).join(', ')}; each also has one line of text. MRT is \`<mrt-img>\` with default settings, served by the local edge (\`npm run dev:edge\`, wrangler ${'4.86'}, local R2); the peers are plain \`<img>\` files served by the same edge as static assets.`,
    `- Every peer file is the smallest its encoder makes at or above the .mrt's whole-file PSNR (sharp AVIF at its default effort; mozjpeg progressive; ${jxlVersion || 'cjxl'} with -p). AVIF + placeholder shows the .mrt's own AVIF placeholder inline (CSS background) under the \`<img>\`.`,
    `- Network: DevTools emulation of the whole page (workers included), ${nets.map((n) => `${n.bps / 1e6} Mbit/s with ${n.rttMs} ms added per request`).join('; ')}. CPU: ${cpu.describe()}.`,
    `- Cold: a fresh browser context. Warm: the same context after a visit to the same kind of page with ${PRIMER} (so the runtime and model are cached as far as their headers allow), image not cached.`,
    `- Screen: DevTools screencast (a PNG frame whenever it changes), each image region scored against the original at its displayed size (grid: Lanczos-downscaled): RGB PSNR over the pixels of all images together, and the mean SSIMULACRA 2.1 of the images (built from ../shared/metrics). First paint: every image region differs from the blank page by more than 1 dB. Final: the last change on screen. Mean over the first 5 s: the area under the curve sampled every 100 ms, divided by 5 s (SSIMULACRA 2 floored at ${SSIM2_FLOOR}: a blank region scores about −540). LCP and long tasks: PerformanceObserver in the page. Bytes: what the server sent from navigation start to the end of the run, counted by a TCP relay in front of the edge (headers and bodies of every response, workers' requests and unfinished responses included). Load: the machine's 1-minute load average at the end of the run (2 cores; above 2, other work competed for the CPU).`,
    `- A run ends when every image is complete (an <mrt-img> with a learned paint last) and no request has been in flight for ${QUIET_MS / 1000} s, or after ${timeoutMs / 1000} s ("> ${timeoutMs / 1000} s").`,
    '',
    '## Files',
    '',
    ...fileRows,
    '',
    '## Results',
    '',
    ...table,
    '',
    ...(ratios.length ? ['## LCP against AVIF', '', ...ratios, ''] : []),
    ...pages.flatMap((p) => nets.map((n) => `![${p.name} ${n.name}](${`visitor-${p.name}-${n.name}.svg`})`)),
    '',
  ].join('\n');
  await mkdir(dirname(resolve(ROOT, out)), { recursive: true });
  await writeFile(resolve(ROOT, `${out}.md`), md);
  for (const p of pages) for (const n of nets) await writeFile(resolve(dirname(resolve(ROOT, out)), `visitor-${p.name}-${n.name}.svg`), plot(results, p.name, n.name, timeoutMs, 'psnr'));
  await writeFile(resolve(ROOT, `${out}.json`), JSON.stringify({ command: cmd, commit, started: started.toISOString(), minutes: (Date.now() - t0) / 60000, chromium: chromiumVersion, cpu: cpu.describe(), files, results }, null, 1));
  console.error(`visitor: wrote ${out}.md, ${out}.json and ${pages.length * nets.length} SVG plots in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

function fail(msg: string): never {
  throw new Error(msg);
}

main().catch((e) => {
  console.error(`visitor: ${e instanceof Error ? e.stack : e}`);
  process.exit(1);
});

