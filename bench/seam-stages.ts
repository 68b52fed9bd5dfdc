// Where the 32-px window seams of a learned-layer paint come from: the window seam ratio
// (bench/lib/seams.ts) of each stage of decoder.onnx, image = clamp(linear + residual) with
//   base     the placeholder upscaled ×16 (bilinear), what the decoder starts from;
//   linear   base + the windowed linear synthesis of the tokens (the "tail basis" path;
//            DepthToSpace(32) of per-window sums, plus the output conv's 2×2-periodic bias);
//   residual the conv decoder's output (ConvTranspose), added to linear;
//   image    the decoder's output, what the Node decoder returns with deblock: false;
//   deblocked that output through src/model/deblock.ts (the decoder's default).
// The graph is run with its two inner tensors added as outputs (same weights, same run).
//
//   npx tsx bench/seam-stages.ts [--images kodim01,kodim05,...] [--budgets 1024,2048]
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { decodeMrt } from '../src/codec/index.ts';
import { decoderInputs } from '../src/encoder/decode.ts';
import { loadModels } from '../src/encoder/index.ts';
import { modelHashBytes } from '../src/encoder/models.ts';
import { loadOrt } from '../src/encoder/peers.ts';
import { DEBLOCK_DEFAULT, deblockChw, knownFraction } from '../src/model/deblock.ts';
import { chwToPixels } from '../src/model/io.ts';
import { decodeOnnx, encodeOnnx } from '../src/model/lean/onnx.ts';
import { previewPixels } from '../src/model/preview.ts';
import { kodakMrt } from './lib/kodak-mrt.ts';
import { loadRgb, KODAK_DIR, meanBy } from './lib/kodak.ts';
import { psnr } from './lib/metrics.ts';
import { seamStats } from './lib/seams.ts';

const { values } = parseArgs({ options: { images: { type: 'string', default: 'kodim01,kodim05,kodim13,kodim19,kodim23' }, budgets: { type: 'string', default: '1024,2048' } } });
const images = values.images!.split(',').map((s) => `${s.replace(/\.png$/, '')}.png`);
const budgets = values.budgets!.split(',').map(Number);

const models = await loadModels();
if (!models.preview) throw new Error('the model ships no preview.bin (needed for the bilinear base)');
// decoder.onnx with the linear image and the conv residual as extra outputs: the final Clip's Add sums them
const graph = decodeOnnx(new Uint8Array(await readFile(join(models.dir, 'decoder.onnx'))));
const clip = graph.graph.node.find((n) => n.opType === 'Clip' && n.output[0] === 'image')!;
const add = graph.graph.node.find((n) => n.output[0] === clip.input[0])!;
const producer = (name: string) => graph.graph.node.find((n) => n.output.includes(name))!;
const linName = add.input.find((i) => producer(i).opType === 'DepthToSpace')!;
const resName = add.input.find((i) => i !== linName)!;
graph.graph.output.push({ name: linName }, { name: resName });
const ort = await loadOrt();
const session = await ort.InferenceSession.create(encodeOnnx(graph), { intraOpNumThreads: 1, interOpNumThreads: 1 });

type Stage = 'base' | 'linear' | 'residual' | 'image' | 'deblocked';
const STAGES: Stage[] = ['base', 'linear', 'residual', 'image', 'deblocked'];
const rows: { img: string; budget: number; stage: Stage | 'original'; ratio: number; boundary: number; psnr?: number }[] = [];
for (const name of images) {
  const src = await loadRgb(join(KODAK_DIR, name));
  const mrt = await kodakMrt(models, name);
  rows.push({ img: name, budget: 0, stage: 'original', ...seamStats(src.data, src.width, src.height) });
  for (const budget of budgets) {
    const sd = decodeMrt(mrt.subarray(0, budget), { rcm: models.rcm, modelHash: modelHashBytes(models.manifest), ended: false });
    const { g, z, mask, base } = await decoderInputs(models, sd.header!, sd, false);
    const T = models.manifest.layout.tokens;
    const out = await session.run({
      z: new ort.Tensor('float32', z, [1, T, g.gridH, g.gridW]),
      mask: new ort.Tensor('float32', mask, [1, T, g.gridH, g.gridW]),
      base: new ort.Tensor('float32', base, [1, 3, g.baseH, g.baseW]),
    });
    const rgb = (chw: Float32Array) => chwToPixels(chw, g.paddedW, g.paddedH, g.width, g.height, 3);
    // the residual around mid-grey, so that its own steps are measured (not clipped at 0)
    const res = (out[resName].data as Float32Array).map((v) => v + 0.5);
    const rgba = previewPixels(models.preview, g, T, new Float32Array(z.length), base); // z = 0: the bilinear base alone
    const baseRgb = new Uint8Array(g.width * g.height * 3);
    for (let p = 0; p < g.width * g.height; p++) for (let c = 0; c < 3; c++) baseRgb[3 * p + c] = rgba[4 * p + c]!;
    const deblocked = (out.image.data as Float32Array).slice();
    deblockChw(deblocked, g.paddedW, g.paddedH, models.manifest.layout.window, knownFraction(sd.known, g.gridW * g.gridH, T), DEBLOCK_DEFAULT);
    const px: Record<Stage, ArrayLike<number>> = { base: baseRgb, linear: rgb(out[linName].data as Float32Array), residual: rgb(res), image: rgb(out.image.data as Float32Array), deblocked: rgb(deblocked) };
    for (const stage of STAGES) rows.push({ img: name, budget, stage, ...seamStats(px[stage], g.width, g.height), psnr: stage === 'residual' ? undefined : psnr(src.data, px[stage] as Uint8Array) });
  }
}
await session.release();

const lines = [`Seam ratio per decoder stage (model ${models.manifest.id}, regeneration off; mean over ${images.join(', ')}). Boundary: mean |step| across window boundaries, 8-bit levels.`, ''];
lines.push('| stage | ' + budgets.map((b) => `seam ratio @ ${b} B | boundary step @ ${b} B | PSNR @ ${b} B`).join(' | ') + ' |', '|---|' + budgets.map(() => '---|---|---').join('|') + '|');
const orig = rows.filter((r) => r.stage === 'original');
lines.push(`| original | ` + budgets.map(() => `${meanBy(orig, (r) => r.ratio).toFixed(3)} | ${meanBy(orig, (r) => r.boundary).toFixed(2)} | –`).join(' | ') + ' |');
for (const stage of STAGES) {
  lines.push(`| ${stage} | ` + budgets.map((b) => {
    const r = rows.filter((x) => x.stage === stage && x.budget === b);
    return `${meanBy(r, (x) => x.ratio).toFixed(3)} | ${meanBy(r, (x) => x.boundary).toFixed(2)} | ${stage === 'residual' ? '–' : meanBy(r, (x) => x.psnr!).toFixed(2)}`;
  }).join(' | ') + ' |');
}
process.stdout.write(lines.join('\n') + '\n');
