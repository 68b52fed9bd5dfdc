// Regeneration on vs off: what a client paints from a prefix, on Kodak, with the missing
// tokens filled from the RCM (regenerate) or masked (mask = 0). Decides the client default.
//
//   npx tsx bench/client-regen.ts [--images 24] [--layers 1,2,4,8,16,32]
//
// Same pipeline as the browser (shared StreamDecoder/regenerate, the same decoder.onnx),
// run in Node (onnxruntime-node) to keep it fast; the browser tests check that Chromium
// decodes the same tokens and the same pixels (WASM/WebGPU vs onnxruntime-node).
import { prefixLength, readHeader } from '../src/format/index.ts';
import { psnr } from '../test/browser/harness.ts';
import { encodeFixture, haveModels, KODAK_NAMES, MODELS, sourceRgb } from '../test/browser/fixtures.ts';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : def;
}

async function main() {
  if (!haveModels()) throw new Error(`no models in ${MODELS} (set MRT_MODELS_DIR)`);
  const { decode, loadModels } = await import('../src/encoder/index.ts');
  const models = await loadModels(MODELS.endsWith('/') ? MODELS : MODELS + '/');
  const names = KODAK_NAMES.slice(0, Number(arg('--images', '24')));
  const layers = arg('--layers', '1,2,4,8,16,32').split(',').map(Number);
  const rows: Record<number, { on: number[]; off: number[]; bytes: number[] }> = {};
  for (const l of layers) rows[l] = { on: [], off: [], bytes: [] };
  for (const name of names) {
    const mrt = await encodeFixture({ name });
    const info = readHeader(mrt);
    const src = await sourceRgb({ name });
    for (const l of layers) {
      const bytes = prefixLength(info, { chunks: l });
      const on = await decode(mrt, { models, bytes, regenerate: true });
      const off = await decode(mrt, { models, bytes, regenerate: false });
      rows[l].on.push(psnr(on.image.data, 3, src.data, 3, src.width * src.height));
      rows[l].off.push(psnr(off.image.data, 3, src.data, 3, src.width * src.height));
      rows[l].bytes.push(bytes);
    }
    process.stderr.write('.');
  }
  process.stderr.write('\n');
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  console.log(`regeneration on Kodak (${names.length} images, model ${MODELS}); mean PSNR dB`);
  console.log('layers  mean bytes  regen on  regen off  on - off  images better with regen');
  for (const l of layers) {
    const r = rows[l];
    const better = r.on.filter((v, i) => v > r.off[i]).length;
    console.log(
      `${String(l).padStart(6)}  ${mean(r.bytes).toFixed(0).padStart(10)}  ${mean(r.on).toFixed(2).padStart(8)}  ${mean(r.off).toFixed(2).padStart(9)}  ${(mean(r.on) - mean(r.off)).toFixed(2).padStart(8)}  ${better}/${r.on.length}`,
    );
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
