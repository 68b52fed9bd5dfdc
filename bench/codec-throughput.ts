// Token coder throughput and bits per token, static prior vs RCM, one core.
//   npx tsx bench/codec-throughput.ts [--images N] [--reps R] [--synthetic] [--D 16 --H 32]
// Uses real Kodak tokens when models/ (manifest.json + rcm.json) and the Kodak images exist
// (tokens from the encoder library), otherwise synthetic 768x512 tokens and a random RCM
// of the given size (bits per token of a random RCM mean nothing; its speed does).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPrior, decodeChunk, encodeChunk, parseRcm, StreamDecoder, tokenLayout, type RcmWeights, type TokenLayout } from '../src/codec/index.ts';
import { fakeRcm, syntheticTokens } from '../test/codec/fixtures.ts';

const argv = process.argv.slice(2);
const arg = (name: string, def: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1]! : def;
};
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MODELS = join(ROOT, 'models');
const KODAK = resolve(process.env.MRT_KODAK_DIR ?? join(ROOT, '../shared/data/kodak'));
const reps = Number(arg('reps', '5'));
const nImages = Number(arg('images', '4'));

interface Item { name: string; layout: TokenLayout; tokens: Uint8Array; count: number }
let items: Item[] = [];
let rcm: RcmWeights;
let source: string;

const haveModels = existsSync(join(MODELS, 'rcm.json')) && existsSync(join(MODELS, 'manifest.json'));
const haveKodak = existsSync(join(KODAK, 'kodim01.png'));
if (!argv.includes('--synthetic') && haveModels && haveKodak) {
  rcm = parseRcm(readFileSync(join(MODELS, 'rcm.json'), 'utf8'));
  const { encode } = await import('../src/encoder/index.ts');
  const files = readdirSync(KODAK).filter((f) => /^kodim\d+\.png$/.test(f)).sort().slice(0, nImages);
  for (const f of files) {
    // the layer-major order (coarseLayers 0): this bench codes the tokens one layer per chunk itself
    const mrt = await encode(join(KODAK, f), { prior: 'static', final: 'none', coarseLayers: 0 } as any);
    const d = new StreamDecoder();
    d.push(mrt);
    d.end();
    if (!d.layout) throw new Error(`could not decode ${f}`);
    items.push({ name: f, layout: d.layout, tokens: d.tokens.slice(0, d.known), count: d.known });
  }
  source = `real Kodak tokens (${files.length} images, encoder library), models/rcm.json D=${rcm.D} H=${rcm.H}`;
} else {
  const D = Number(arg('D', '16'));
  const H = Number(arg('H', '32'));
  rcm = fakeRcm(1, { D, H, L: 9, T: 64 });
  const layout = tokenLayout({ gridW: 24, gridH: 16, tokensPerWindow: 64, levels: 9 });
  for (let s = 1; s <= Math.min(nImages, 2); s++) items.push({ name: `synthetic-${s}`, layout, tokens: syntheticTokens(layout, s), count: layout.total });
  source = `SYNTHETIC tokens (768x512, 24x16 windows x 64 tokens; ${haveModels ? '' : 'no models/rcm.json, '}${haveKodak ? '' : 'no Kodak images, '}` +
    `random RCM D=${D} H=${H}: its bits/token are meaningless, its speed is not)`;
}

console.log(`codec throughput — ${source}`);
console.log(`one core, Node ${process.version}, best of ${reps} decodes per image (wall clock and process CPU time: the machine is shared); chunk = one layer\n`);

// The RCM first: V8 specialises decodeChunk's prior calls for the first prior class it sees, and
// an RCM stream also calls the static prior (layers past the RCM's); the static prior measured
// second pays the polymorphic calls instead (its time is small either way). Measured once the
// other way round with mrt-v0.4: RCM 46-53 ms vs 35 ms via decodeMrt alone in a fresh process.
for (const kind of ['rcm', 'static'] as const) {
  let cpuMsTotal = 0;
  let tokensTotal = 0, bytesTotal = 0, bestMsTotal = 0, medMsTotal = 0, encMsTotal = 0;
  const perImage: string[] = [];
  for (const it of items) {
    const w = kind === 'rcm' ? rcm : null;
    const step = it.layout.windows;
    const t0 = performance.now();
    const prior = createPrior(it.layout, w);
    const payloads: Uint8Array[] = [];
    for (let s = 0; s < it.count; s += step) payloads.push(encodeChunk(prior, it.tokens, s, Math.min(it.count, s + step)));
    encMsTotal += performance.now() - t0;
    const bytes = payloads.reduce((a, p) => a + p.length, 0);
    const times: number[] = [];
    const cpus: number[] = [];
    const out = new Uint8Array(it.layout.total);
    for (let r = 0; r < reps; r++) {
      const q = createPrior(it.layout, w);
      const c1 = process.cpuUsage();
      const t1 = performance.now();
      for (let c = 0; c < payloads.length; c++) decodeChunk(q, payloads[c]!, out, c * step, Math.min(it.count, (c + 1) * step));
      times.push(performance.now() - t1);
      cpus.push(process.cpuUsage(c1).user / 1000);
    }
    for (let i = 0; i < it.count; i++) if (out[i] !== it.tokens[i]) throw new Error(`${kind} ${it.name}: mismatch at ${i}`);
    times.sort((a, b) => a - b);
    cpus.sort((a, b) => a - b);
    cpuMsTotal += cpus[0]!;
    tokensTotal += it.count;
    bytesTotal += bytes;
    bestMsTotal += times[0]!;
    medMsTotal += times[times.length >> 1]!;
    perImage.push(`${it.name} ${((bytes * 8) / it.count).toFixed(3)} bpt ${times[0]!.toFixed(1)} ms`);
  }
  const n = items.length;
  console.log(`${kind.padEnd(6)} bits/token ${((bytesTotal * 8) / tokensTotal).toFixed(3)}  payload ${(bytesTotal / n).toFixed(0)} B/image`);
  console.log(`       decode whole stream: best ${(bestMsTotal / n).toFixed(1)} ms, median ${(medMsTotal / n).toFixed(1)} ms per image (${(tokensTotal / n).toFixed(0)} tokens); best CPU time ${(cpuMsTotal / n).toFixed(1)} ms`);
  console.log(`       ${((tokensTotal / bestMsTotal) * 1000 / 1e6).toFixed(2)} M tokens/s, ${((bytesTotal / bestMsTotal) * 1000 / 1e6).toFixed(3)} MB/s compressed; encode ${(encMsTotal / n).toFixed(1)} ms/image`);
  console.log(`       ${perImage.join('; ')}`);
}
