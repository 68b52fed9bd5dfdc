// Speed of the lean runtime's WASM kernels (src/model/lean/kernels.wasm) on each convolution
// configuration of the decoder at its real sizes for a 768x512 image, against
// onnxruntime-web's WASM backend (single thread) running the same layer as a one-node ONNX
// model built in memory, in the same process. GMAC/s per configuration, ratio ours/ORT, and
// the whole set weighted by MACs (total MACs / total time). ORT's time includes its per-run
// overhead (feeding the input, copying the output out), which is what a graph of such nodes
// pays too; ours is the bare kernel call on buffers already in WASM memory.
//
//   npx tsx bench/lean-kernels.ts [--quick] [--no-ort]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { instantiateKernels } from '../src/model/lean/kernels.ts';

ort.env.wasm.numThreads = 1;
const QUICK = process.argv.includes('--quick');
const NO_ORT = process.argv.includes('--no-ort');
const MIN_MS = QUICK ? 200 : 800;

interface Cfg {
  name: string; t?: boolean; C: number; H: number; W: number; OC: number; KH: number; KW: number;
  SH?: number; SW?: number; P?: [number, number, number, number]; groups?: number; bias?: boolean;
}
const p1: [number, number, number, number] = [1, 1, 1, 1];
const CFGS: Cfg[] = [
  { name: '3x3 96->48 @24x16', C: 96, H: 16, W: 24, OC: 48, KH: 3, KW: 3, P: p1 },
  { name: '3x3 48->96 @24x16', C: 48, H: 16, W: 24, OC: 96, KH: 3, KW: 3, P: p1 },
  { name: '3x3 72->48 @48x32', C: 72, H: 32, W: 48, OC: 48, KH: 3, KW: 3, P: p1 },
  { name: '3x3 48->48 @48x32', C: 48, H: 32, W: 48, OC: 48, KH: 3, KW: 3, P: p1 },
  { name: '3x3 32->32 @96x64', C: 32, H: 64, W: 96, OC: 32, KH: 3, KW: 3, P: p1 },
  { name: '3x3 16->16 @192x128', C: 16, H: 128, W: 192, OC: 16, KH: 3, KW: 3, P: p1 },
  { name: '3x3 8->8 @384x256', C: 8, H: 256, W: 384, OC: 8, KH: 3, KW: 3, P: p1 },
  { name: '3x3 3->24 @48x32', C: 3, H: 32, W: 48, OC: 24, KH: 3, KW: 3, P: p1 },
  { name: '3x3 s2 24->32 @48x32', C: 24, H: 32, W: 48, OC: 32, KH: 3, KW: 3, SH: 2, SW: 2, P: p1 },
  { name: '1x1 1056->96 @24x16', C: 1056, H: 16, W: 24, OC: 96, KH: 1, KW: 1 },
  { name: '1x1 64->3072 @24x16', C: 64, H: 16, W: 24, OC: 3072, KH: 1, KW: 1 },
  { name: '4x1 s(2,1) 3->96 @26x34', C: 3, H: 34, W: 26, OC: 96, KH: 4, KW: 1, SH: 2, SW: 1 },
  { name: '1x4 s(1,2) g96 96->3072 @50x16', C: 96, H: 16, W: 50, OC: 3072, KH: 1, KW: 4, SH: 1, SW: 2, groups: 96 },
  { name: '8x8 s8 3->32 @768x512', C: 3, H: 512, W: 768, OC: 32, KH: 8, KW: 8, SH: 8, SW: 8 },
  { name: '4x4 s4 3->16 @768x512', C: 3, H: 512, W: 768, OC: 16, KH: 4, KW: 4, SH: 4, SW: 4 },
  { name: '2x2 s2 3->8 @768x512', C: 3, H: 512, W: 768, OC: 8, KH: 2, KW: 2, SH: 2, SW: 2 },
  { name: 'T2x2 s2 97->48 @24x16', t: true, C: 97, H: 16, W: 24, OC: 48, KH: 2, KW: 2, SH: 2, SW: 2, bias: false },
  { name: 'T2x2 s2 49->32 @48x32', t: true, C: 49, H: 32, W: 48, OC: 32, KH: 2, KW: 2, SH: 2, SW: 2, bias: false },
  { name: 'T2x2 s2 33->16 @96x64', t: true, C: 33, H: 64, W: 96, OC: 16, KH: 2, KW: 2, SH: 2, SW: 2, bias: false },
  { name: 'T2x2 s2 17->8 @192x128', t: true, C: 17, H: 128, W: 192, OC: 8, KH: 2, KW: 2, SH: 2, SW: 2, bias: false },
  { name: 'T2x2 s2 8->3 @384x256', t: true, C: 8, H: 256, W: 384, OC: 3, KH: 2, KW: 2, SH: 2, SW: 2, bias: false },
];

function shape(c: Cfg) {
  const SH = c.SH ?? 1, SW = c.SW ?? 1, [PT, PL, PB, PR] = c.P ?? [0, 0, 0, 0], g = c.groups ?? 1;
  if (c.t) {
    const OH = (c.H - 1) * SH + c.KH, OW = (c.W - 1) * SW + c.KW;
    return { SH, SW, PT, PL, PB, PR, g, OH, OW, wlen: c.C * (c.OC / g) * c.KH * c.KW, macs: c.C * c.H * c.W * (c.OC / g) * c.KH * c.KW, wdims: [c.C, c.OC / g, c.KH, c.KW] };
  }
  const OH = Math.floor((c.H + PT + PB - c.KH) / SH) + 1, OW = Math.floor((c.W + PL + PR - c.KW) / SW) + 1;
  return { SH, SW, PT, PL, PB, PR, g, OH, OW, wlen: c.OC * (c.C / g) * c.KH * c.KW, macs: c.OC * OH * OW * (c.C / g) * c.KH * c.KW, wdims: [c.OC, c.C / g, c.KH, c.KW] };
}

// --- a minimal ONNX (protobuf) writer: one Conv / ConvTranspose node, weights as initializers
const enc = new TextEncoder();
function varint(n: number): number[] {
  const out: number[] = [];
  let v = BigInt.asUintN(64, BigInt(n));
  do { let b = Number(v & 0x7fn); v >>= 7n; if (v) b |= 0x80; out.push(b); } while (v);
  return out;
}
const fInt = (f: number, v: number) => [...varint(f << 3), ...varint(v)];
const fBytes = (f: number, b: Uint8Array | number[]) => [...varint((f << 3) | 2), ...varint(b.length), ...b];
const fStr = (f: number, s: string) => fBytes(f, enc.encode(s));
function tensor(name: string, dims: number[], data: Float32Array) {
  return [...dims.flatMap((d) => fInt(1, d)), ...fInt(2, 1), ...fStr(8, name), ...fBytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength))];
}
function valueInfo(name: string, dims: number[]) {
  const shapeP = dims.flatMap((d) => fBytes(1, fInt(1, d)));
  return [...fStr(1, name), ...fBytes(2, fBytes(1, [...fInt(1, 1), ...fBytes(2, shapeP)]))];
}
const attrInts = (name: string, v: number[]) => [...fStr(1, name), ...v.flatMap((x) => fInt(8, x)), ...fInt(20, 7)];
const attrInt = (name: string, v: number) => [...fStr(1, name), ...fInt(3, v), ...fInt(20, 2)];
function onnxModel(c: Cfg, w: Float32Array, b: Float32Array | null): Uint8Array {
  const s = shape(c);
  const attrs = [attrInts('kernel_shape', [c.KH, c.KW]), attrInts('strides', [s.SH, s.SW]), attrInt('group', s.g)];
  if (!c.t) attrs.push(attrInts('pads', [s.PT, s.PL, s.PB, s.PR]));
  const node = [...fStr(1, 'x'), ...fStr(1, 'w'), ...(b ? fStr(1, 'b') : []), ...fStr(2, 'y'), ...fStr(4, c.t ? 'ConvTranspose' : 'Conv'), ...attrs.flatMap((a) => fBytes(5, a))];
  const graph = [
    ...fBytes(1, node), ...fStr(2, 'g'),
    ...fBytes(5, tensor('w', s.wdims, w)), ...(b ? fBytes(5, tensor('b', [c.OC], b)) : []),
    ...fBytes(11, valueInfo('x', [1, c.C, c.H, c.W])), ...fBytes(12, valueInfo('y', [1, c.OC, s.OH, s.OW])),
  ];
  return new Uint8Array([...fInt(1, 8), ...fBytes(8, [...fStr(1, ''), ...fInt(2, 17)]), ...fBytes(7, graph)]);
}

// Best time per run of each function over alternating rounds of >= MIN_MS / 8 each (this
// machine may be shared: alternating gives both sides the same conditions).
async function timeEach(runs: (() => unknown | Promise<unknown>)[]): Promise<number[]> {
  for (const run of runs) for (let i = 0; i < 2; i++) await run();
  const best = runs.map(() => Infinity);
  for (let round = 0; round < 8; round++)
    for (const [i, run] of runs.entries()) {
      const t1 = performance.now();
      let m = 0;
      do { await run(); m++; } while (performance.now() - t1 < MIN_MS / 8);
      best[i] = Math.min(best[i], (performance.now() - t1) / m);
    }
  return best;
}

const k = await instantiateKernels(new Uint8Array(readFileSync(join(import.meta.dirname, '../src/model/lean/kernels.wasm'))));
let seed = 1;
const rand = (n: number) => Float32Array.from({ length: n }, () => { seed = (seed * 1103515245 + 12345) >>> 0; return seed / 2 ** 31 - 1; });

const rows: string[][] = [['layer', 'MMAC', 'ours GMAC/s', 'ORT GMAC/s', 'ours/ORT', 'max|d|']];
let totM = 0, totOurs = 0, totOrt = 0;
for (const c of CFGS) {
  const s = shape(c);
  const x = rand(c.C * c.H * c.W), w = rand(s.wlen).map((v) => v / Math.sqrt(s.wlen / c.OC)), b = c.bias === false ? null : rand(c.OC);
  const ylen = c.OC * s.OH * s.OW;
  let top = (k.heapBase + 63) & ~63;
  const alloc = (n: number) => { const p = top; top = (top + n * 4 + 63) & ~63; return p; };
  const px = alloc(x.length), pw = alloc(w.length), pb = b ? alloc(b.length) : 0, py = alloc(ylen);
  if (top > k.memory.buffer.byteLength) k.memory.grow(Math.ceil((top - k.memory.buffer.byteLength) / 65536));
  new Float32Array(k.memory.buffer, px, x.length).set(x);
  new Float32Array(k.memory.buffer, pw, w.length).set(w);
  if (b) new Float32Array(k.memory.buffer, pb, b.length).set(b);
  const run = c.t
    ? () => k.conv_transpose2d(px, c.C, c.H, c.W, pw, pb, py, c.OC, c.KH, c.KW, s.SH, s.SW, s.g, 0)
    : () => k.conv2d(px, c.C, c.H, c.W, pw, pb, py, c.OC, c.KH, c.KW, s.SH, s.SW, s.PT, s.PL, s.PB, s.PR, s.g, 0);
  let tOurs: number, tOrt = NaN, d = NaN;
  if (NO_ORT) [tOurs] = await timeEach([run]);
  else {
    const sess = await ort.InferenceSession.create(onnxModel(c, w, b), { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
    const feeds = { x: new ort.Tensor('float32', x, [1, c.C, c.H, c.W]) };
    let out: Float32Array = new Float32Array(0);
    [tOurs, tOrt] = await timeEach([run, async () => { const r = await sess.run(feeds); out = r.y.data as Float32Array; }]);
    await sess.release();
    const ours = new Float32Array(k.memory.buffer, py, ylen);
    d = 0;
    for (let i = 0; i < ylen; i++) d = Math.max(d, Math.abs(out[i] - ours[i]));
  }
  const M = s.macs / 1e6;
  totM += M; totOurs += tOurs; totOrt += tOrt;
  rows.push([c.name, M.toFixed(1), (M / tOurs).toFixed(2), (M / tOrt).toFixed(2), (tOrt / tOurs).toFixed(2), d.toExponential(1)]);
  if (QUICK) console.error(rows.at(-1)!.join('  '));
}
rows.push(['total (MAC-weighted)', totM.toFixed(1), (totM / totOurs).toFixed(2), (totM / totOrt).toFixed(2), (totOrt / totOurs).toFixed(2), '']);
const wid = rows[0].map((_, j) => Math.max(...rows.map((r) => r[j].length)));
for (const r of rows) console.log(r.map((v, j) => (j ? v.padStart(wid[j]) : v.padEnd(wid[j]))).join('  '));
console.log(`kernels.wasm ${readFileSync(join(import.meta.dirname, '../src/model/lean/kernels.wasm')).length} bytes; ORT ${ort.env.versions?.web ?? ''} wasm, 1 thread; times are the best of 8 alternating rounds of >= ${MIN_MS / 8} ms each.`);
