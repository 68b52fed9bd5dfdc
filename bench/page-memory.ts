// What one <mrt-img> costs the page: peak resident memory of Chromium's renderer processes
// below this browser's main process (the page and its decode worker live there), sampled
// every 100 ms with `ps` until the
// image's `load` or `error` event, and the time to it. Headless Chromium 1 core per renderer as
// the machine gives it, no WebGPU, the default (lean) runtime unless --runtime ort. Learned
// paints first also for a stream with a final layer (directFinal 'never': what a warm visit
// decodes; `--direct-final auto` measures a first visit, which skips to the final).
//
//   npx tsx bench/worst-stream.ts /tmp/worst.mrt          (the worst legal stream)
//   npx tsx bench/page-memory.ts [--runtime lean|ort] [--direct-final never|auto] FILE.mrt [FILE.mrt ...]
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { readHeader } from '../src/format/index.ts';
import { ensureClient } from '../test/browser/fixtures.ts';
import { launchChromium, startServer, testPage } from '../test/browser/harness.ts';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { runtime: { type: 'string', default: 'lean' }, 'direct-final': { type: 'string', default: 'never' } } });
if (!positionals.length) throw new Error('usage: page-memory.ts [--runtime lean|ort] FILE.mrt ...');

interface Proc { pid: number; ppid: number; rss: number; args: string }
function procs(): Proc[] {
  const out = execFileSync('ps', ['-eo', 'pid=,ppid=,rss=,args='], { encoding: 'utf8', maxBuffer: 1 << 24 });
  return out.split('\n').filter(Boolean).map((l) => {
    const [pid, ppid, rss, ...args] = l.trim().split(/\s+/);
    return { pid: Number(pid), ppid: Number(ppid), rss: Number(rss) * 1024, args: args.join(' ') };
  });
}
/** Browser main processes (other benchmarks may run Chromium beside this one). */
const mains = () => new Set(procs().filter((p) => /chromium/.test(p.args) && /--user-data-dir=/.test(p.args) && !/--type=/.test(p.args)).map((p) => p.pid));

/** Summed RSS (bytes) of the renderer processes below browser `root`. */
function rendererRss(root: number): number {
  const all = procs();
  const mine = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of all) if (mine.has(p.ppid) && !mine.has(p.pid)) (mine.add(p.pid), (grew = true));
  }
  return all.filter((p) => mine.has(p.pid) && /--type=renderer/.test(p.args)).reduce((a, p) => a + p.rss, 0);
}

await ensureClient();
const srv = await startServer();
console.log(`| stream | image (learned layer) | renderer peak | time to load / error | outcome |\n|---|---|---|---|---|`);
for (const file of positionals) {
  const bytes = new Uint8Array(readFileSync(file));
  const h = readHeader(bytes).header;
  const name = basename(file);
  srv.streams.set(`/i/${name}`, { bytes });
  srv.streams.set(`/t/${name}.html`, {
    bytes: new TextEncoder().encode(
      testPage(
        `<mrt-img id="m" src="/i/${name}" width="${Math.min(h.imageWidth, 768)}" height="${Math.round((Math.min(h.imageWidth, 768) * h.imageHeight) / h.imageWidth)}" alt="" budget="full"></mrt-img>
         <script type="module">const m = document.getElementById('m'); window.ev = [];
           for (const t of ['load', 'error']) m.addEventListener(t, (e) => window.ev.push({ type: t, detail: e.detail }));</script>`,
        `<script type="module">customElements.whenDefined('mrt-img').then(() => customElements.get('mrt-img').configure({ runtime: '${values.runtime}', backend: 'wasm', workerTimeout: 0, directFinal: '${values['direct-final']}' }));</script>`,
      ),
    ),
  });
  const before = mains();
  const b = await launchChromium();
  const root = [...mains()].find((p) => !before.has(p));
  if (!root) throw new Error('cannot find the browser process');
  try {
    const page = await b.context.newPage();
    let peak = 0;
    const timer = setInterval(() => (peak = Math.max(peak, rendererRss(root))), 100);
    const t0 = Date.now();
    await page.goto(`${srv.url}/t/${name}.html`);
    await page.waitForFunction(() => (window as any).ev.length > 0, null, { timeout: 180_000, polling: 100 });
    const ms = Date.now() - t0;
    clearInterval(timer);
    peak = Math.max(peak, rendererRss(root));
    const ev = (await page.evaluate(() => (window as any).ev[0])) as { type: string; detail: { message?: string } };
    const shown = await page.evaluate(() => document.getElementById('m')!.getAttribute('data-state'));
    console.log(`| ${name} (${bytes.length} B) | ${h.imageWidth}×${h.imageHeight}${h.imageWidth !== h.width ? ` (${h.width}×${h.height})` : ''} | ${(peak / 2 ** 20).toFixed(0)} MB | ${(ms / 1000).toFixed(1)} s | ${ev.type} (${shown})${ev.detail?.message ? `: ${ev.detail.message.slice(0, 80)}` : ''} |`);
  } finally {
    await b.close();
  }
}
await srv.close();
