// Run time of decoder graphs in onnxruntime-web (WASM, 1 thread) at 768x512, as ratios to
// the first one, measured interleaved in one process (this machine is shared and noisy),
// with the largest output difference to the first graph.
//
//   npx tsx bench/decoder-graphs.ts A/decoder.onnx B/decoder-split.onnx C/decoder-p64.onnx:64 ...
//
// Token channels come from the manifest.json beside each graph (or FILE:T); a graph with a
// `tail` input (the split decoder) gets a zero tail. 20 runs each after 2 warm-up runs;
// 8 layers of tokens received, the rest masked.
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-web';
ort.env.wasm.numThreads = 1;
import { dirname, join } from 'node:path';
const cands = process.argv.slice(2).map((a) => a.split(':')[0]);
const ss = await Promise.all(cands.map((p) => ort.InferenceSession.create(readFileSync(p), { executionProviders: ['wasm'] })));
const Ts = process.argv.slice(2).map((a) => Number(a.split(':')[1]) || JSON.parse(readFileSync(join(dirname(a), 'manifest.json'), 'utf8')).layout.tokens);
const feeds = (T: number, s: ort.InferenceSession) => {
  const z = new Float32Array(T * 384), m = new Float32Array(T * 384);
  for (let i = 0; i < 8 * 384; i++) { z[i] = ((i * 7919) % 9) / 4 - 1; m[i] = 1; }
  const f: Record<string, ort.Tensor> = { z: new ort.Tensor('float32', z, [1, T, 16, 24]), mask: new ort.Tensor('float32', m, [1, T, 16, 24]), base: new ort.Tensor('float32', new Float32Array(3 * 32 * 48).map((_, i) => (i % 13) / 13), [1, 3, 32, 48]) };
  if (s.inputNames.includes('tail')) f.tail = new ort.Tensor('float32', new Float32Array(3072 * 384), [1, 3072, 16, 24]);
  return f;
};
const times: number[][] = cands.map(() => []);
const outs: Float32Array[] = [];
for (let r = 0; r < 22; r++) for (let i = 0; i < ss.length; i++) { const f = feeds(Ts[i], ss[i]); const t0 = performance.now(); const o = await ss[i].run(f); if (r >= 2) times[i].push(performance.now() - t0); outs[i] = o.image.data as Float32Array; }
const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
cands.forEach((c, i) => { let d = 0; for (let k = 0; k < outs[0].length; k++) d = Math.max(d, Math.abs(outs[i][k] - outs[0][k])); console.log(c, 'T', Ts[i], 'median ms', med(times[i]).toFixed(1), 'ratio', (med(times[i]) / med(times[0])).toFixed(3), 'max|d| vs first', d.toExponential(1)); });
