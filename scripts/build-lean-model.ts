// Writes the browser's lean decoder files from the model of record, and lists them in
// models/manifest.json (`lean`, `files`):
//   decoder-lean.bin  the decoder graph (manifest.splitDecoder.file, else decoder.onnx) in the
//                     lean op set, weights int8 with per-row scales (src/model/lean/convert.ts);
//                     the linear path's weight is taken from preview.bin (not shipped twice)
//   tail-i8.bin       the split decoder's tail basis, int8 with a scale per token layer
// Deterministic: `--check` rebuilds in memory and fails if the committed files differ.
//
// Usage: npx tsx scripts/build-lean-model.ts [--models DIR] [--weights i8|f16|f32] [--tail-levels N] [--check]
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { convertOnnx, type WeightMode } from '../src/model/lean/convert.ts';
import type { Manifest } from '../src/model/io.ts';
import { encodeTailI8, parseTail } from '../src/model/tail.ts';
import { parsePreview } from '../src/model/preview.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const dir = resolve(arg('--models') ?? join(root, 'models'));
const manifestPath = join(dir, 'manifest.json');
const manifest: Manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
const check = process.argv.includes('--check');
const weights = (arg('--weights') ?? manifest.lean?.weights ?? 'i8') as WeightMode;
if (!['i8', 'f16', 'f32'].includes(weights)) throw new Error(`--weights must be i8, f16 or f32, got ${weights}`);
const tailLevels = Number(arg('--tail-levels') ?? manifest.lean?.tailLevels ?? 127);

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const source = manifest.splitDecoder?.file ?? 'decoder.onnx';
const onnx = readFileSync(join(dir, source));
const want = manifest.files[source]?.sha256;
if (want !== sha(onnx)) throw new Error(`${source} does not match its manifest entry`);

// the linear path's 1x1 convolution is preview.bin's basis: taken from there, not shipped twice
const preview = manifest.files['preview.bin'] ? parsePreview(readFileSync(join(dir, 'preview.bin'))) : null;
const out: Record<string, Uint8Array> = { 'decoder-lean.bin': convertOnnx(onnx, { weights, preview }).lean };
if (manifest.splitDecoder) out['tail-i8.bin'] = encodeTailI8(parseTail(readFileSync(join(dir, manifest.splitDecoder.tail))), tailLevels);

const lean: NonNullable<Manifest['lean']> = {
  file: 'decoder-lean.bin',
  ...(out['tail-i8.bin'] ? { tail: 'tail-i8.bin' } : {}),
  source,
  weights,
  tailLevels,
};
const files = { ...manifest.files };
for (const [name, bytes] of Object.entries(out)) files[name] = { sha256: sha(bytes), bytes: bytes.length };
const next: Manifest = { ...manifest, files, lean };

if (check) {
  const bad = Object.entries(out).filter(([name, b]) => manifest.files[name]?.sha256 !== sha(b) || sha(readFileSync(join(dir, name))) !== sha(b));
  if (bad.length || JSON.stringify(manifest.lean) !== JSON.stringify(lean)) {
    console.error(`build-lean-model --check: ${bad.map(([n]) => n).join(', ') || 'manifest.lean'} differ from a rebuild from ${source}; run npx tsx scripts/build-lean-model.ts`);
    process.exit(1);
  }
  console.log(`build-lean-model --check: ${Object.keys(out).join(', ')} match a rebuild from ${source}`);
} else {
  for (const [name, bytes] of Object.entries(out)) writeFileSync(join(dir, name), bytes);
  writeFileSync(manifestPath, JSON.stringify(next, null, 2) + '\n');
  for (const [name, bytes] of Object.entries(out)) console.log(`${name}: ${bytes.length} bytes (from ${name === 'tail-i8.bin' ? manifest.splitDecoder!.tail : source}, ${name === 'tail-i8.bin' ? `${tailLevels} levels` : weights})`);
}
