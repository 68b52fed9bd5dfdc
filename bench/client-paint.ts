// Paint timing of <mrt-img> in headless Debian Chromium, WASM backend, 768x512 Kodak.
//
//   npx tsx bench/client-paint.ts [--image kodim23] [--image2 kodim05] [--delay 250] [--piece BYTES] [--regen on|off|both] [--threads auto|N] [--tail-rdo on|off]
//
// What it measures (all clocks in Node, from the test server's response log and from
// page callbacks exposed with page.exposeFunction):
// - placeholder: time from navigation to the placeholder paint, and the bytes of ML files
//   (ort*, *.wasm, models/*) whose responses had completed by then (target: 0).
// - cold first ML paint: first chunk decoded (progress event) → first paint that uses the
//   tokens: the token preview (preview.bin, JS) and the first decoder paint, with the
//   runtime and model loading in between (the decoder graph: decoder.onnx or the split decoder); JS + WASM + model bytes loaded before each.
// - warm first ML paint: a second image on the same page (runtime and session warm):
//   first chunk → first token preview paint and → first decoder paint (target ≤ 30 ms).
// - refinement: each later chunk (the server sends one chunk every --delay ms; with --piece N,
//   N bytes every --delay ms: tokens decode as their bytes arrive, mid-chunk) → its ML
//   paint; and the worker's own split: regeneration ms + ONNX run ms (target ≤ 100 ms).
import { readHeader } from '../src/format/index.ts';
import { encodeFixture, ensureClient, haveModels, MODELS } from '../test/browser/fixtures.ts';
import { launchChromium, startServer, testPage } from '../test/browser/harness.ts';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : def;
}

const IMAGE = arg('--image', 'kodim23');
const IMAGE2 = arg('--image2', 'kodim05');
const DELAY = Number(arg('--delay', '250'));
const REGEN = arg('--regen', 'both');
const PIECE = Number(arg('--piece', '0'));
const TAIL_RDO = arg('--tail-rdo', 'on') !== 'off'; // the encoder's closed-loop tail (its default: on)
// 'auto' = the client's default (up to 4 threads on a cross-origin isolated page, as the demo is)
const THREADS_ARG = arg('--threads', 'auto');
const THREADS = THREADS_ARG === 'auto' ? 'auto' : Number(THREADS_ARG);

const q = (xs: number[], p: number) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * (s.length - 1) + 0.5))];
};
const f = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '-');
// runtime and model files: plain names, or the build's content-hashed copies under /assets/
const isMl = (p: string) => /^\/(ort[.-]|models\/|assets\/(ort[.-]|decoder|tail|preview|rcm|manifest))/.test(p) || p.endsWith('.wasm');
const isJs = (p: string) => p.endsWith('.js') || p.endsWith('.mjs');

async function main() {
  if (!haveModels()) throw new Error(`no models in ${MODELS} (set MRT_MODELS_DIR)`);
  await ensureClient();
  const a = await encodeFixture({ name: IMAGE, tailRdo: TAIL_RDO });
  const b = await encodeFixture({ name: IMAGE2, tailRdo: TAIL_RDO });
  const ia = readHeader(a);
  const ib = readHeader(b);
  console.log(`client-paint: ${IMAGE} ${ia.header.width}x${ia.header.height}, ${a.length} B, ${ia.chunkEnds.length} chunks; model ${MODELS}; tail RDO ${TAIL_RDO ? "on" : "off"}`);
  const modes = REGEN === 'both' ? ['on', 'off'] : [REGEN];
  for (const regen of modes) {
    // More than one WASM thread needs a cross-origin isolated page (COOP/COEP).
    const srv = await startServer({ isolate: THREADS === 'auto' || THREADS > 1 });
    const browser = await launchChromium();
    try {
      const cuts = (info: typeof ia, n: number) => [info.headerEnd, ...(PIECE > 0 ? Array.from({ length: Math.ceil((n - info.headerEnd) / PIECE) }, (_, k) => Math.min(n, info.headerEnd + (k + 1) * PIECE)) : info.chunkEnds)];
      srv.streams.set('/i/a.mrt', { bytes: a, boundaries: cuts(ia, a.length), pieceDelayMs: DELAY });
      srv.streams.set('/i/b.mrt', { bytes: b, boundaries: cuts(ib, b.length), pieceDelayMs: DELAY });
      const page = await browser.context.newPage();
      const events: { el: string; type: string; t: number; detail: any }[] = [];
      // The page's own wall clock (Date.now(), the same clock as this process) at each event.
      await page.exposeFunction('report', (el: string, type: string, detail: any, t: number) => events.push({ el, type, t, detail }));
      srv.streams.set('/t/bench.html', {
        bytes: new TextEncoder().encode(
          testPage(
            `<mrt-img id="a" src="/i/a.mrt" width="768" height="512" budget="full" refine="none" regenerate="${regen}"></mrt-img>
             <div id="slot"></div>
             <script type="module">
               const track = (m, name) => { for (const t of ['progress', 'paint', 'load', 'error', 'mrt-stats']) m.addEventListener(t, (e) => window.report(name, t, e.detail, Date.now())); };
               track(document.getElementById('a'), 'a');
               window.addB = () => {
                 const m = document.createElement('mrt-img');
                 Object.entries({ src: '/i/b.mrt', width: 768, height: 512, budget: 'full', refine: 'none', regenerate: '${regen}' }).forEach(([k, v]) => m.setAttribute(k, v));
                 track(m, 'b');
                 document.getElementById('slot').append(m);
               };
             </script>`,
            `<script type="module">customElements.whenDefined('mrt-img').then(() => customElements.get('mrt-img').configure({ backend: 'wasm', wasmThreads: ${JSON.stringify(THREADS)}, maxLearnedPaints: Infinity }));</script>`,
          ),
        ),
      });
      const nav = Date.now();
      await page.goto(`${srv.url}/t/bench.html`);
      const waitLoad = async (el: string) => {
        for (let i = 0; i < 1200 && !events.some((e) => e.el === el && (e.type === 'load' || e.type === 'error')); i++) await new Promise((r) => setTimeout(r, 100));
      };
      await waitLoad('a');
      page.evaluate(() => (window as any).addB());
      await waitLoad('b');

      const err = events.find((e) => e.type === 'error');
      if (err) throw new Error(`error event: ${JSON.stringify(err.detail)}`);
      const ph = events.find((e) => e.el === 'a' && e.type === 'paint' && e.detail.kind === 'placeholder')!;
      const done = (t: number) => srv.log.filter((r) => r.end !== undefined && r.end <= t);
      const mlBytesAt = (t: number) => done(t).filter((r) => isMl(r.path)).reduce((n, r) => n + r.sent, 0);
      // Causal check: ML requests the server saw before the worker handed the placeholder over.
      const posted = events.find((e) => e.el === 'a' && e.type === 'mrt-stats' && e.detail.placeholderPostedAt)!.detail.placeholderPostedAt as number;
      const mlRequestsBefore = srv.log.filter((r) => isMl(r.path) && r.start < posted).length;
      const firstProgress = (el: string) => events.find((e) => e.el === el && e.type === 'progress')!;
      const mlPaints = (el: string) => events.filter((e) => e.el === el && e.type === 'paint' && e.detail.kind === 'ml');
      const previews = (el: string) => events.filter((e) => e.el === el && e.type === 'paint' && e.detail.kind === 'preview');
      const stats = (el: string) => events.filter((e) => e.el === el && e.type === 'mrt-stats' && e.detail.runMs !== undefined).map((e) => e.detail);

      const aFirst = mlPaints('a')[0];
      const bFirst = mlPaints('b')[0];
      const loaded = (t: number) => {
        const before = done(t);
        const js = before.filter((r) => isJs(r.path)).reduce((n, r) => n + r.sent, 0);
        const wasm = before.filter((r) => r.path.endsWith('.wasm')).reduce((n, r) => n + r.sent, 0);
        const model = before.filter((r) => r.path.startsWith('/models/')).reduce((n, r) => n + r.sent, 0);
        return `JS ${js} B, WASM ${wasm} B, model ${model} B; total ${js + wasm + model} B`;
      };
      const aPrev = previews('a')[0];
      const bPrev = previews('b')[0];

      // Refinements: progress(chunk k) → the ML paint that includes its tokens.
      const lat: number[] = [];
      for (const el of ['a', 'b']) {
        const ps = mlPaints(el);
        for (const p of events.filter((e) => e.el === el && e.type === 'progress').slice(1)) {
          const paint = ps.find((x) => x.t >= p.t && x.detail.tokens >= p.detail.tokens);
          if (paint) lat.push(paint.t - p.t);
        }
      }
      const st = [...stats('a').slice(1), ...stats('b').slice(1)];
      const regenMs = st.map((s) => s.regenMs);
      const runMs = st.map((s) => s.runMs);
      const totalMs = st.map((s) => s.totalMs);
      const bStats = stats('b')[0];
      console.log(`\n== regenerate=${regen} (${PIECE > 0 ? `${PIECE} B` : 'chunks'} every ${DELAY} ms; WASM, threads ${THREADS}${THREADS === 'auto' ? ` = ${await page.evaluate(() => navigator.hardwareConcurrency)} cores, cross-origin isolated page` : ''})`);
      console.log(`placeholder paint: ${ph.t - nav} ms after navigation; ML requests before the worker handed it over: ${mlRequestsBefore}; ML bytes received by the paint event: ${mlBytesAt(ph.t)} (requests issued right after the hand-off may finish first)`);
      console.log(`cold first token paint (preview.bin, JS): ${aPrev ? `${aPrev.t - firstProgress('a').t} ms after the first chunk (${aPrev.detail.tokens} tokens, synthesis ${f(aPrev.detail.runMs)} ms)` : 'none'}`);
      if (aPrev) console.log(`  loaded before it: ${loaded(aPrev.t)}`);
      console.log(`cold first decoder paint: ${aFirst.t - firstProgress('a').t} ms after the first chunk (includes runtime + model load; ${aFirst.detail.tokens} tokens)`);
      console.log(`  loaded before it: ${loaded(aFirst.t)} (JS = mrt-img.js, mrt-worker.js, ort.wasm.min.mjs, ort-wasm-simd-threaded.mjs)`);
      console.log(`warm first token paint (2nd image, preview): ${bPrev ? `${bPrev.t - firstProgress('b').t} ms after its first chunk (synthesis ${f(bPrev.detail.runMs)} ms)` : 'none'}`);
      console.log(`warm first decoder paint (2nd image): ${bFirst.t - firstProgress('b').t} ms after its first chunk; worker: regen ${f(bStats.regenMs)} + run ${f(bStats.runMs)} = ${f(bStats.totalMs)} ms`);
      console.log(`refinement, chunk → paint (n=${lat.length}): median ${f(q(lat, 0.5))} ms, p90 ${f(q(lat, 0.9))} ms, max ${f(Math.max(...lat))} ms`);
      console.log(`  worker split: regen median ${f(q(regenMs, 0.5))} / p90 ${f(q(regenMs, 0.9))} ms; ONNX run median ${f(q(runMs, 0.5))} / p90 ${f(q(runMs, 0.9))} ms; total median ${f(q(totalMs, 0.5))} / p90 ${f(q(totalMs, 0.9))} ms`);
      console.log(`  ML paints: ${mlPaints('a').length + mlPaints('b').length} for ${ia.chunkEnds.length + ib.chunkEnds.length} chunks`);
      await page.close();
    } finally {
      await browser.close();
      await srv.close();
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
