// Where an encode's time goes: the stages of src/encoder/encode.ts's encodeRgb run one by one
// (the same functions and parameters, 'auto' placeholder target taken as its usual 235 B) on
// Kodak images, one job, with the process's CPU time per stage (all threads: sharp's and
// onnxruntime's included; less sensitive to a shared machine than wall time).
//
//   npx tsx bench/encode-profile.ts [--images N] [--effort E] [--final avif|none]
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { geometry, pixelsToChw, quantise } from '../src/model/io.ts';
import { createPrior, encodeChunks, layoutForImage, streamSymbols, tokensToZ } from '../src/codec/index.ts';
import { chunkLayers, chunkRanges } from '../src/format/index.ts';
import { encode, normaliseOptions } from '../src/encoder/encode.ts';
import { effortLevel } from '../src/encoder/effort.ts';
import { readImage } from '../src/encoder/image-io.ts';
import { loadModels, runDecoder, runEncoder } from '../src/encoder/models.ts';
import { makePlaceholder } from '../src/encoder/placeholder.ts';
import { COARSE_BITS_ALPHA, rechooseTokens } from '../src/encoder/tail-rdo.ts';
import { KODAK_DIR, kodakImages } from './lib/kodak.ts';

const { values } = parseArgs({ options: { images: { type: 'string', default: '4' }, effort: { type: 'string', default: '9' }, final: { type: 'string', default: 'avif' } } });
const models = await loadModels();
const opts = normaliseOptions(models, { effort: Number(values.effort), final: values.final as 'avif' | 'none' });
const level = effortLevel(opts.effort);
const names = kodakImages().slice(0, Number(values.images));
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const spent = new Map<string, number>();
async function stage<R>(name: string, f: () => Promise<R> | R): Promise<R> {
  const t0 = cpu();
  const r = await f();
  spent.set(name, (spent.get(name) ?? 0) + cpu() - t0);
  return r;
}

await encode(join(KODAK_DIR, names[0]!), { models, effort: opts.effort }); // warm-up (first ONNX runs, Gram matrices)
let total = 0;
for (const name of names) {
  const t0 = cpu();
  const img = await stage('read + pad', () => readImage(new Uint8Array(readFileSync(join(KODAK_DIR, name))), opts.alpha));
  const layout = models.manifest.layout;
  const g = geometry(img.width, img.height, layout);
  const padded = new Uint8Array(await stage('read + pad', () => sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .extend({ right: g.paddedW - img.width, bottom: g.paddedH - img.height, extendWith: 'copy' }).raw().toBuffer()));
  const ph = await stage(`placeholder (AVIF effort ${level.placeholderEffort}, ${level.placeholderSearch})`, () => makePlaceholder(padded, g.paddedW, g.paddedH, g.baseW, g.baseH, 235, opts.placeholderFormat, level));
  const base = pixelsToChw(ph.rgb, g.baseW, g.baseH, 3);
  const image = pixelsToChw(padded, g.paddedW, g.paddedH, 3);
  const z = await stage('encoder network (onnxruntime)', () => runEncoder(models, image, base, g));
  const perLayer = g.gridW * g.gridH;
  const tokens = new Uint8Array(opts.layers * perLayer);
  for (let i = 0; i < tokens.length; i++) tokens[i] = quantise(z[i]!, layout.levels);
  const modelLayout = { window: layout.window, baseFactor: layout.baseFactor, tokensPerWindow: layout.tokens, levels: layout.levels };
  const tokenLayout = layoutForImage(img.width, img.height, modelLayout);
  let paints = 0;
  const paint = (known: number) => stage('  of which decoder runs (onnxruntime)', () => {
    paints++;
    const { z: zs, mask } = tokensToZ(tokenLayout, tokens, known * perLayer);
    return runDecoder(models, zs, mask, base, g);
  });
  await stage(`closed loop (early group ${level.earlyGroup || 'off'}, tail passes ${level.tailPasses})`, () =>
    rechooseTokens(tokens, opts.layers, layout.levels, g, image, models.preview, models.tail!, paint, level, { layers: opts.coarseLayers, alpha: COARSE_BITS_ALPHA }));
  spent.set('  decoder runs per image', paints);
  await stage('entropy coding', () => {
    const streamLayout = layoutForImage(img.width, img.height, { ...modelLayout, coarseLayers: opts.coarseLayers });
    const prior = createPrior(streamLayout, models.rcm, { sharedLate: true, lateContexts: true, coarseRcm: !!models.rcm?.coarse });
    const ranges = chunkRanges(chunkLayers(opts.layers + opts.coarseLayers, opts.layersPerChunk).map((n) => n * perLayer));
    return encodeChunks(prior, streamSymbols(streamLayout, tokens), ranges, 'chained');
  });
  if (opts.final === 'avif') {
    await stage(`final AVIF (quality ${opts.finalQuality}, effort ${level.finalEffort})`, () =>
      sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } }).avif({ quality: opts.finalQuality, effort: level.finalEffort }).toBuffer());
  }
  total += cpu() - t0;
}
console.log(`CPU time per image, effort ${opts.effort}, final ${opts.final}, ${names.length} Kodak images, one job (model ${models.manifest.id}):`);
for (const [k, v] of spent) {
  if (k === '  decoder runs per image') console.log(`${k.padEnd(58)} ${(v).toFixed(0).padStart(6)}`);
  else console.log(`${k.padEnd(58)} ${(v / names.length).toFixed(0).padStart(6)} ms ${((100 * v) / total).toFixed(1).padStart(5)} %`);
}
console.log(`${'total'.padEnd(58)} ${(total / names.length).toFixed(0).padStart(6)} ms; load averages ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
