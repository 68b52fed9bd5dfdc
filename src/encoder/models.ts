// Loading the shipped models in Node (onnxruntime-node, CPU), with their hashes checked
// against the manifest so that a .mrt always names the exact models that made it.
import { createHash } from 'node:crypto';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as Ort from 'onnxruntime-node';
import { coarseMaskOf, type Geometry, type Manifest } from '../model/io.ts';
import { MODEL_HASH_BYTES } from '../format/index.ts';
import { parseRcm, type RcmWeights } from '../codec/index.ts';
import { parseTail, tailMismatch, type TailBasis } from '../model/tail.ts';
import { parsePreview, type PreviewBasis } from '../model/preview.ts';
import { manifestHashProblem } from '../model/model-hash.ts';
import { loadOrt } from './peers.ts';

export const DEFAULT_MODELS_DIR = fileURLToPath(new URL('../../models/', import.meta.url));

export type { Manifest };

export interface Models {
  dir: string;
  manifest: Manifest;
  /** The RCM weights, or null when the model ships none (static prior only). */
  rcm: RcmWeights | null;
  /** Null for a decode-only copy of a model (its folder has no encoder.onnx): it decodes the files stored with it and encodes nothing. */
  encoder: Ort.InferenceSession | null;
  decoder: Ort.InferenceSession;
  /** The split decoder's tail basis (models with more layers than the split), for the encoder's tail optimisation; null in a decode-only copy. */
  tail: TailBasis | null;
  /** The linear synthesis basis of the first layers (preview.bin), for the encoder's closed loop over layers before the split; null when the model ships none. */
  preview: PreviewBasis | null;
}

export class ModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelError';
  }
}

async function readChecked(dir: string, name: string, manifest: Manifest): Promise<Buffer> {
  const entry = manifest.files[name];
  if (!entry) throw new ModelError(`manifest in ${dir} does not list ${name}`);
  const bytes = await readFile(join(dir, name));
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (sha !== entry.sha256) throw new ModelError(`${name} in ${dir} does not match its manifest (sha256 ${sha}, expected ${entry.sha256})`);
  return bytes;
}

export async function loadModels(dir = DEFAULT_MODELS_DIR): Promise<Models> {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
  } catch (e) {
    throw new ModelError(`cannot read ${join(dir, 'manifest.json')}: ${(e as Error).message}`);
  }
  try {
    coarseMaskOf(manifest);
  } catch (e) {
    throw new ModelError(`${(e as Error).message} (in ${dir})`);
  }
  // the hash streams name must be the one the files give: a folder is chosen by it (model-dirs.ts)
  const badHash = typeof manifest.modelHash === 'string' && manifest.files ? await manifestHashProblem(manifest) : `manifest lacks files or modelHash`;
  if (badHash) throw new ModelError(`${badHash} (in ${dir})`);
  // One thread per session: on this 2-core machine two threads gave latency spikes, and
  // --jobs runs several images side by side instead.
  const ort = await loadOrt();
  const opts: Ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' };
  // An earlier model shipped in the npm package is a decode-only copy (package.json `files`):
  // what its stored files need, without the encoder and the encoder's tail basis.
  const encodes = await access(join(dir, 'encoder.onnx')).then(() => true, () => false);
  const [enc, dec] = await Promise.all([encodes ? readChecked(dir, 'encoder.onnx', manifest) : null, readChecked(dir, 'decoder.onnx', manifest)]);
  const rcm = manifest.files['rcm.json'] ? parseRcm((await readChecked(dir, 'rcm.json', manifest)).toString('utf8')) : null;
  const [encoder, decoder] = await Promise.all([enc && ort.InferenceSession.create(enc, opts), ort.InferenceSession.create(dec, opts)]);
  const sd = manifest.splitDecoder;
  const tail = sd && encodes ? parseTail(await readChecked(dir, sd.tail, manifest)) : null;
  const bad = tail && tailMismatch(tail, manifest);
  if (bad) throw new ModelError(`${bad} (in ${dir})`);
  const preview = manifest.files['preview.bin'] ? parsePreview(await readChecked(dir, 'preview.bin', manifest)) : null;
  return { dir, manifest, rcm, encoder, decoder, tail, preview };
}

/** The manifest's model hash as bytes (what a stream's stored hash must be a prefix of). */
export function modelHashBytes(manifest: Manifest): Uint8Array {
  return Uint8Array.from(Buffer.from(manifest.modelHash, 'hex'));
}

/** What a .mrt header stores: the first MODEL_HASH_BYTES of the model hash. */
export function modelHashPrefix(manifest: Manifest): Uint8Array {
  return modelHashBytes(manifest).subarray(0, MODEL_HASH_BYTES);
}

/** The models' encoder, or a ModelError for a decode-only copy. */
export function requireEncoder(models: Models): Ort.InferenceSession {
  if (!models.encoder) throw new ModelError(`${models.manifest.id} in ${models.dir} is a decode-only copy (no encoder.onnx): it decodes the files stored with it; encode with the default model`);
  return models.encoder;
}

export async function runEncoder(models: Models, image: Float32Array, base: Float32Array, g: Geometry): Promise<Float32Array> {
  const encoder = requireEncoder(models);
  const ort = await loadOrt();
  const out = await encoder.run({
    image: new ort.Tensor('float32', image, [1, 3, g.paddedH, g.paddedW]),
    base: new ort.Tensor('float32', base, [1, 3, g.baseH, g.baseW]),
  });
  return out.z.data as Float32Array;
}

export async function runDecoder(models: Models, z: Float32Array, mask: Float32Array, base: Float32Array, g: Geometry): Promise<Float32Array> {
  const T = models.manifest.layout.tokens;
  const ort = await loadOrt();
  const out = await models.decoder.run({
    z: new ort.Tensor('float32', z, [1, T, g.gridH, g.gridW]),
    mask: new ort.Tensor('float32', mask, [1, T, g.gridH, g.gridW]),
    base: new ort.Tensor('float32', base, [1, 3, g.baseH, g.baseW]),
  });
  return out.image.data as Float32Array;
}
