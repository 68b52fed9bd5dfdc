// The lean decoder (src/model/lean): the committed lean files are what the converter makes
// of the model of record; the runtime matches onnxruntime-web running the same dequantised
// weights on real streams (3 Kodak images x 6 budgets, the full set in bench/lean-decoder.ts);
// and the converter, planner and tail format refuse what they cannot run.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { encode, loadModels, type Models } from '../../src/encoder/index.ts';
import { convertOnnx } from '../../src/model/lean/convert.ts';
import { decodeLean, encodeLean } from '../../src/model/lean/format.ts';
import { instantiateKernels } from '../../src/model/lean/kernels.ts';
import { decodeOnnx, encodeOnnx } from '../../src/model/lean/onnx.ts';
import { LeanDecoder } from '../../src/model/lean/run.ts';
import { encodeTailI8, parseTail } from '../../src/model/tail.ts';
import { KERNELS_WASM, loadParityDecoders, parityRun, type ParityDecoders } from '../../bench/lib/lean-parity.ts';
import { KODAK_DIR } from '../../bench/lib/kodak.ts';

const ROOT = join(import.meta.dirname, '../..');
const MODELS = join(ROOT, 'models');

describe('lean decoder files', () => {
  it('models/decoder-lean.bin and tail-i8.bin are a rebuild of the model of record (scripts/build-lean-model.ts --check)', () => {
    const out = execFileSync('npx', ['tsx', 'scripts/build-lean-model.ts', '--check'], { cwd: ROOT, encoding: 'utf8' });
    expect(out).toMatch(/match a rebuild/);
  });

  it('the linear path weight comes from preview.bin, and the decoder refuses to start without it', async () => {
    const bytes = readFileSync(join(MODELS, 'decoder-lean.bin'));
    const { graph } = decodeLean(bytes);
    expect(graph.shares).toEqual(['preview.bin']);
    expect(Object.values(graph.weights).filter((w) => w.dtype === 'preview')).toHaveLength(1);
    const k = await instantiateKernels(readFileSync(KERNELS_WASM));
    expect(() => LeanDecoder.create(bytes, k)).toThrow(/preview\.bin, which is not loaded/);
  });

  it('an op outside the lean op set is refused by name', () => {
    const m = decodeOnnx(readFileSync(join(MODELS, 'decoder-split.onnx')));
    const clip = m.graph.node.find((n) => n.opType === 'Clip')!;
    clip.opType = 'Sigmoid';
    expect(() => convertOnnx(encodeOnnx(m))).toThrow(/op Sigmoid is outside the lean op set/);
  });

  it('a lean file whose weights point outside its data is refused', () => {
    const { graph, data } = decodeLean(readFileSync(join(MODELS, 'decoder-lean.bin')));
    const [name, w] = Object.entries(graph.weights).find(([, t]) => t.dtype === 'i8')!;
    const bad = encodeLean({ ...graph, weights: { ...graph.weights, [name]: { ...w, offset: data.length - 10 } } }, data);
    expect(() => decodeLean(bad)).toThrow(new RegExp(`weight ${name.replace(/\./g, '\\.')}: bytes .* outside the data block`));
  });

  it('the int8 tail format round-trips within half a step per layer', () => {
    const tb = parseTail(readFileSync(join(MODELS, 'tail.bin')));
    const back = parseTail(encodeTailI8(tb, 127));
    expect(back.split).toBe(tb.split);
    const per = 3 * tb.window * tb.window;
    for (let t = 0; t < tb.tokens - tb.split; t += 37) {
      let max = 0;
      let err = 0;
      for (let i = t * per; i < (t + 1) * per; i++) {
        max = Math.max(max, Math.abs(tb.basis[i]!));
        err = Math.max(err, Math.abs(back.basis[i]! - tb.basis[i]!));
      }
      expect(err).toBeLessThanOrEqual((max / 127) * 0.5 + 1e-7);
    }
  });

  it('the run plan says what a size needs before allocating, and a limit below it fails with the number', async () => {
    const k = await instantiateKernels(readFileSync(KERNELS_WASM));
    const models = await loadModels();
    const d = LeanDecoder.create(readFileSync(join(MODELS, 'decoder-lean.bin')), k, { preview: models.preview });
    const dims = (gh: number, gw: number) => ({ z: [1, 512, gh, gw], mask: [1, 512, gh, gw], base: [1, 3, 2 * gh, 2 * gw], tail: [1, 3072, gh, gw] });
    const small = d.plan(dims(16, 24));
    const big = d.plan(dims(32, 48));
    expect(big.arenaBytes / small.arenaBytes).toBeCloseTo(4, 1);
    const before = d.memoryBytes;
    const feed = (n: number[]) => ({ data: new Float32Array(n.reduce((a, b) => a * b, 1)), dims: n });
    const f = Object.fromEntries(Object.entries(dims(32, 48)).map(([n, v]) => [n, feed(v)]));
    expect(() => d.run(f, small.totalBytes)).toThrow(new RegExp(`needs ${big.totalBytes} bytes, more than the limit of ${small.totalBytes}`));
    expect(d.memoryBytes).toBe(before);
    expect(() => d.plan({ ...dims(16, 24), base: [1, 3, 31, 48] })).toThrow(/Concat .* differ|Add .* differ/);
  });
});

describe('lean decoder parity with onnxruntime-web (same dequantised weights)', () => {
  let models: Models;
  let d: ParityDecoders;
  beforeAll(async () => {
    models = await loadModels();
    d = await loadParityDecoders(models);
  });

  for (const img of ['kodim03.png', 'kodim15.png', 'kodim23.png']) {
    it(`${img} at 512 B … 8 KB and whole: max abs ≤ 2e-3, and within 0.05 dB of the float32 reference`, async () => {
      const mrt = await encode(join(KODAK_DIR, img), { models, final: 'none' });
      const { psnr } = await import('../../bench/lib/metrics.ts');
      const { loadRgb } = await import('../../bench/lib/kodak.ts');
      const orig = await loadRgb(join(KODAK_DIR, img));
      for (const b of [512, 1024, 2048, 4096, 8192, mrt.length]) {
        const r = await parityRun(d, models, mrt.subarray(0, b), b === mrt.length);
        expect(r, `${b} B`).not.toBeNull();
        expect(r!.maxAbs, `${img} at ${b} B`).toBeLessThanOrEqual(2e-3);
        expect(Math.abs(psnr(r!.lean, orig.data) - psnr(r!.reference, orig.data)), `${img} at ${b} B`).toBeLessThan(0.05);
      }
    });
  }
});
