// A genuinely different model for the tests of files that name a model other than the
// default: a copy of models/ whose decoders (decoder.onnx, decoder-split.onnx and the lean
// file built from it) have their last layer's weights negated, so they paint other pixels
// from the same tokens, with a manifest that lists the new files and the modelHash they give
// (src/model/model-hash.ts, as export.py computes it). Written to a temporary folder.
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Manifest } from '../../src/model/io.ts';
import { convertOnnx } from '../../src/model/lean/convert.ts';
import { decodeOnnx, encodeOnnx, floatTensor, tensorValues } from '../../src/model/lean/onnx.ts';
import { modelDirName, modelHashOf } from '../../src/model/model-hash.ts';
import { parsePreview } from '../../src/model/preview.ts';

export const MODELS_DIR = fileURLToPath(new URL('../../models/', import.meta.url));

/** The decoder's last layer (the ConvTranspose to RGB): negating it changes every learned paint. */
const LAST_LAYER = 'out_ct';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function negateLastLayer(onnx: Uint8Array): Uint8Array {
  const m = decodeOnnx(onnx);
  const i = m.graph.initializer.findIndex((t) => t.name === LAST_LAYER);
  if (i < 0) throw new Error(`the decoder has no initializer ${LAST_LAYER}`);
  const t = m.graph.initializer[i]!;
  const v = Float32Array.from(tensorValues(t) as Float32Array, (x) => -x);
  m.graph.initializer[i] = floatTensor(t.name, t.dims.map(Number), v);
  return encodeOnnx(m);
}

export interface AltModel {
  dir: string;
  manifest: Manifest;
  /** The versioned folder name (first 8 hex digits of its modelHash). */
  prefix: string;
}

/** Writes the other model into `dir` (created) from the default model in `from` (default models/). */
export async function makeAltModel(dir: string, from: string = MODELS_DIR): Promise<AltModel> {
  const manifest = JSON.parse(await readFile(join(from, 'manifest.json'), 'utf8')) as Manifest;
  await mkdir(dir, { recursive: true });
  const files = { ...manifest.files };
  const write = async (name: string, bytes: Uint8Array) => {
    await writeFile(join(dir, name), bytes);
    files[name] = { sha256: sha(bytes), bytes: bytes.length };
  };
  const changed = new Set(['decoder.onnx', ...(manifest.splitDecoder ? [manifest.splitDecoder.file] : []), ...(manifest.lean ? [manifest.lean.file] : [])]);
  for (const name of Object.keys(manifest.files)) if (!changed.has(name)) await copyFile(join(from, name), join(dir, name));
  await write('decoder.onnx', negateLastLayer(await readFile(join(from, 'decoder.onnx'))));
  if (manifest.splitDecoder) await write(manifest.splitDecoder.file, negateLastLayer(await readFile(join(from, manifest.splitDecoder.file))));
  if (manifest.lean) {
    // as scripts/build-lean-model.ts builds it
    const preview = files['preview.bin'] ? parsePreview(await readFile(join(dir, 'preview.bin'))) : null;
    await write(manifest.lean.file, convertOnnx(await readFile(join(dir, manifest.lean.source)), { weights: manifest.lean.weights, preview }).lean);
  }
  const modelHash = await modelHashOf(files['decoder.onnx']!.sha256, files['encoder.onnx']!.sha256, files['rcm.json']?.sha256);
  const next: Manifest = { ...manifest, id: `${manifest.id}-negated-test`, files, modelHash };
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(next, null, 2) + '\n');
  return { dir, manifest: next, prefix: modelDirName(modelHash)! };
}

/**
 * A models root as a deployment would ship it after the default changed: the default
 * (models/, linked file by file) at `root`, and the other model in its versioned folder
 * root/<prefix>/.
 */
export async function makeModelsRoot(root: string, alt: AltModel | null, from: string = MODELS_DIR): Promise<string> {
  const { symlink, readdir, cp } = await import('node:fs/promises');
  await mkdir(root, { recursive: true });
  for (const e of await readdir(from, { withFileTypes: true })) if (e.isFile()) await symlink(join(from, e.name), join(root, e.name));
  if (alt) await cp(alt.dir, join(root, alt.prefix), { recursive: true });
  return root;
}
