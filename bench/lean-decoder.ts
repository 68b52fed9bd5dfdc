// The lean browser decoder against onnxruntime-web on Kodak: what quantising the weights
// (int8 per row) and the tail basis (int8 per layer) costs in PSNR, the parity of our WASM
// SIMD kernels with onnxruntime-web running the same dequantised weights, and run time.
// All three decoders run in this process on the same inputs (bench/lib/lean-parity.ts).
//
//   npx tsx bench/lean-decoder.ts [--images N] [--chunks] [--models DIR] [--out bench/results/lean-decoder]
//
// Prefixes: the rd budgets (256 B … 8 KB) and the whole file, or with --chunks every chunk
// boundary. Writes OUT.md and OUT.jsonl.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { decodeMrt } from '../src/codec/index.ts';
import { encode, loadModels } from '../src/encoder/index.ts';
import { BUDGETS, KODAK_DIR, kodakImages, loadRgb } from './lib/kodak.ts';
import { loadParityDecoders, parityRun } from './lib/lean-parity.ts';
import { psnr } from './lib/metrics.ts';

const { values } = parseArgs({ options: { images: { type: 'string' }, chunks: { type: 'boolean' }, models: { type: 'string' }, out: { type: 'string', default: 'bench/results/lean-decoder' } } });
const images = kodakImages().slice(0, values.images ? Number(values.images) : undefined);
const models = await loadModels(values.models);
const d = await loadParityDecoders(models);
interface Row { img: string; prefix: string; bytes: number; psnrRef: number; psnrLean: number; maxAbs: number; refMs: number; leanMs: number; entropyMs: number; tailMs: number }
const rows: Row[] = [];
const t0 = Date.now();
for (const img of images) {
  const mrt = await encode(join(KODAK_DIR, img), { models, final: 'none' });
  const orig = await loadRgb(join(KODAK_DIR, img));
  const info = decodeMrt(mrt, { rcm: models.rcm }).info!;
  const cuts: [string, number][] = values.chunks
    ? info.chunkEnds.map((e, i) => [`chunk ${i + 1}`, e] as [string, number])
    : [...BUDGETS.filter((b) => b < mrt.length).map((b) => [`${b} B`, b] as [string, number]), ['whole', mrt.length]];
  for (const [prefix, bytes] of cuts) {
    const r = await parityRun(d, models, mrt.subarray(0, bytes), bytes === mrt.length);
    if (!r) continue;
    rows.push({ img, prefix, bytes, psnrRef: psnr(r.reference, orig.data), psnrLean: psnr(r.lean, orig.data), maxAbs: r.maxAbs, refMs: r.referenceMs, leanMs: r.leanMs, entropyMs: r.entropyMs, tailMs: r.tailMs });
  }
  process.stderr.write(`${img} ${mrt.length} B, ${cuts.length} prefixes (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
}

const groups = values.chunks ? ['all'] : [...new Set(rows.map((r) => r.prefix))];
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const lines = [
  `# Lean decoder vs onnxruntime-web on Kodak (${images.length} images, ${rows.length} prefixes)`,
  '',
  `Command: \`npx tsx bench/lean-decoder.ts${values.images ? ` --images ${values.images}` : ''}${values.chunks ? ' --chunks' : ''}\` (${new Date().toISOString().slice(0, 10)}).`,
  'Reference: onnxruntime-web 1.30 WASM (1 thread, in Node) on decoder-split.onnx with the float16 tail. Lean: our WASM SIMD kernels,',
  'int8 weights (per row) and int8 tail (per layer). Oracle: onnxruntime-web on the same dequantised weights and tail.',
  'ΔPSNR = lean − reference (RGB PSNR against the original); max |lean − oracle| over the float output in [0, 1].',
  'Also timed, on the same prefixes: entropy decoding (decodeMrt with the RCM) and the int8 tail sum from scratch (TailSynthesis), the two other parts of a paint.',
  '',
  '| prefix | mean PSNR reference | mean ΔPSNR | worst ΔPSNR | max abs vs oracle | median ms ref | median ms lean | lean / ref time | median ms entropy decoding | median ms tail sum |',
  '|---|---|---|---|---|---|---|---|---|---|',
];
for (const gname of groups) {
  const rs = gname === 'all' ? rows : rows.filter((r) => r.prefix === gname);
  const dps = rs.map((r) => r.psnrLean - r.psnrRef);
  lines.push(`| ${gname} | ${mean(rs.map((r) => r.psnrRef)).toFixed(3)} | ${mean(dps).toFixed(4)} | ${Math.min(...dps).toFixed(4)} | ${Math.max(...rs.map((r) => r.maxAbs)).toExponential(2)} | ${med(rs.map((r) => r.refMs)).toFixed(0)} | ${med(rs.map((r) => r.leanMs)).toFixed(0)} | ${(med(rs.map((r) => r.leanMs)) / med(rs.map((r) => r.refMs))).toFixed(2)} | ${med(rs.map((r) => r.entropyMs)).toFixed(0)} | ${med(rs.map((r) => r.tailMs)).toFixed(0)} |`);
}
lines.push('', `Took ${((Date.now() - t0) / 1000).toFixed(0)} s.`);
mkdirSync(dirname(values.out!), { recursive: true });
writeFileSync(`${values.out}.md`, lines.join('\n') + '\n');
writeFileSync(`${values.out}.jsonl`, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
console.log(lines.join('\n'));
