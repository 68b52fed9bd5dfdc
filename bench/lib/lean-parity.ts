// One .mrt prefix through three browser decoders, on the same decoder inputs:
//   reference  onnxruntime-web (WASM, 1 thread) on the split decoder .onnx with the float16
//              tail basis: what the browser painted before the lean decoder
//   lean       src/model/lean on its WASM SIMD kernels with the int8 weights and tail
//   oracle     onnxruntime-web on the .onnx with the lean file's weights dequantised and the
//              int8 tail: same numbers as `lean`, other kernels (the parity check)
// Used by bench/lean-decoder.ts and test/node/lean-decoder.test.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { decodeMrt, REGENERATE_BY_DEFAULT } from '../../src/codec/index.ts';
import { decoderInputs } from '../../src/encoder/decode.ts';
import type { Models } from '../../src/encoder/models.ts';
import { dequantisedOnnx } from '../../src/model/lean/convert.ts';
import { decodeLean } from '../../src/model/lean/format.ts';
import { instantiateKernels } from '../../src/model/lean/kernels.ts';
import { LeanDecoder } from '../../src/model/lean/run.ts';
import { chwToPixels, type Geometry } from '../../src/model/io.ts';
import { parseTail, TailSynthesis, type TailBasis } from '../../src/model/tail.ts';

ort.env.wasm.numThreads = 1;

export const KERNELS_WASM = new URL('../../src/model/lean/kernels.wasm', import.meta.url);

export interface ParityDecoders {
  reference: ort.InferenceSession;
  oracle: ort.InferenceSession;
  lean: LeanDecoder;
  tailF16: TailBasis;
  tailI8: TailBasis;
}

export async function loadParityDecoders(models: Models): Promise<ParityDecoders> {
  const m = models.manifest;
  if (!m.lean || !m.splitDecoder || !m.lean.tail) throw new Error('the model has no lean split decoder (run scripts/build-lean-model.ts)');
  const onnx = readFileSync(join(models.dir, m.lean.source));
  const leanBytes = readFileSync(join(models.dir, m.lean.file));
  const opts = { executionProviders: ['wasm'], graphOptimizationLevel: 'all' as const };
  const shared = { preview: models.preview };
  return {
    reference: await ort.InferenceSession.create(onnx, opts),
    oracle: await ort.InferenceSession.create(dequantisedOnnx(onnx, decodeLean(leanBytes), shared), opts),
    lean: LeanDecoder.create(leanBytes, await instantiateKernels(readFileSync(KERNELS_WASM)), shared),
    tailF16: parseTail(readFileSync(join(models.dir, m.splitDecoder.tail))),
    tailI8: parseTail(readFileSync(join(models.dir, m.lean.tail))),
  };
}

export interface ParityRun {
  g: Geometry;
  /** Interleaved RGB, cropped to the image. */
  reference: Uint8Array;
  lean: Uint8Array;
  /** Largest |lean − oracle| over the padded float output. */
  maxAbs: number;
  referenceMs: number;
  leanMs: number;
  /** Entropy decoding of the prefix (the RCM), and the int8 tail sum from scratch (src/model/tail.ts). */
  entropyMs: number;
  tailMs: number;
  tokens: number;
}

export async function parityRun(d: ParityDecoders, models: Models, prefix: Uint8Array, ended: boolean): Promise<ParityRun | null> {
  const te = performance.now();
  const sd = decodeMrt(prefix, { rcm: models.rcm, ended });
  const entropyMs = performance.now() - te;
  if (!sd.header || !sd.header.placeholder || sd.final) return null;
  const { g, z, mask, base } = await decoderInputs(models, sd.header, sd, REGENERATE_BY_DEFAULT);
  const T = models.manifest.layout.tokens;
  const cells = g.gridW * g.gridH;
  const tailOf = (tb: TailBasis) => new TailSynthesis(tb, cells).update(z).slice();
  const dims = { z: [1, T, g.gridH, g.gridW], mask: [1, T, g.gridH, g.gridW], base: [1, 3, g.baseH, g.baseW] };
  const ortRun = async (s: ort.InferenceSession, tail: Float32Array) => {
    const t0 = performance.now();
    const o = await s.run({
      z: new ort.Tensor('float32', z, dims.z), mask: new ort.Tensor('float32', mask, dims.mask), base: new ort.Tensor('float32', base, dims.base),
      tail: new ort.Tensor('float32', tail, [1, tail.length / cells, g.gridH, g.gridW]),
    });
    return { data: o.image!.data as Float32Array, ms: performance.now() - t0 };
  };
  const tt = performance.now();
  const tailI8 = tailOf(d.tailI8);
  const tailMs = performance.now() - tt;
  const ref = await ortRun(d.reference, tailOf(d.tailF16));
  const oracle = await ortRun(d.oracle, tailI8);
  const t0 = performance.now();
  const lean = d.lean.run({
    z: { data: z, dims: dims.z }, mask: { data: mask, dims: dims.mask }, base: { data: base, dims: dims.base },
    tail: { data: tailI8, dims: [1, tailI8.length / cells, g.gridH, g.gridW] },
  });
  const leanMs = performance.now() - t0;
  let maxAbs = 0;
  for (let i = 0; i < lean.data.length; i++) maxAbs = Math.max(maxAbs, Math.abs(lean.data[i]! - oracle.data[i]!));
  const px = (chw: Float32Array) => {
    const p = chwToPixels(chw, g.paddedW, g.paddedH, g.width, g.height, 3);
    return new Uint8Array(p.buffer, p.byteOffset, p.byteLength);
  };
  return { g, reference: px(ref.data), lean: px(lean.data), maxAbs, referenceMs: ref.ms, leanMs, entropyMs, tailMs, tokens: sd.known };
}
