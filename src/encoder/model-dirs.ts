// Which model folder decodes a stream: a .mrt names its model by a prefix of the manifest's
// modelHash. The default model is in models/; every other shipped model in a versioned folder
// models/<first 8 hex digits of its modelHash>/ (models/README.md), so files stored with an
// earlier default keep decoding after the default changes. Only manifests are read to choose
// (small); the chosen folder's files are then loaded and checked against it (loadModels).
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { modelHashMatches } from '../format/index.ts';
import { isModelDirName } from '../model/model-hash.ts';
import { DEFAULT_MODELS_DIR, loadModels, ModelError, modelHashBytes, type Manifest, type Models } from './models.ts';

export interface ModelDir {
  dir: string;
  manifest: Manifest;
}

async function readManifest(dir: string): Promise<Manifest | null> {
  let text: string;
  try {
    text = await readFile(join(dir, 'manifest.json'), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw e;
  }
  try {
    const m = JSON.parse(text) as Manifest;
    if (typeof m?.modelHash !== 'string') throw new Error('no modelHash');
    return m;
  } catch (e) {
    throw new ModelError(`${join(dir, 'manifest.json')} is not a model manifest: ${(e as Error).message}`);
  }
}

/**
 * The shipped models under `root` (default: the package's models/): the default (root
 * itself), then each versioned folder root/<8 hex digits>/ in name order. A versioned folder
 * whose name is not its modelHash's prefix is an error: it would be found under a hash it
 * does not have.
 */
export async function shippedModels(root: string = DEFAULT_MODELS_DIR): Promise<ModelDir[]> {
  const out: ModelDir[] = [];
  const def = await readManifest(root);
  if (def) out.push({ dir: root, manifest: def });
  let names: string[] = [];
  try {
    names = (await readdir(root, { withFileTypes: true })).filter((e) => e.isDirectory() && isModelDirName(e.name)).map((e) => e.name).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  for (const name of names) {
    const dir = join(root, name);
    const manifest = await readManifest(dir);
    if (!manifest) continue;
    if (!manifest.modelHash.toLowerCase().startsWith(name)) throw new ModelError(`${dir}: the folder's name is not the start of its modelHash ${manifest.modelHash}`);
    out.push({ dir, manifest });
  }
  return out;
}

/** The first of `candidates` whose modelHash the stream's stored hash names, or null. */
export function modelDirFor(stored: Uint8Array, candidates: ModelDir[]): ModelDir | null {
  return candidates.find((c) => modelHashMatches(stored, modelHashBytes(c.manifest))) ?? null;
}

/** Loaded models by folder and hash: a process decodes many files with few models. */
const loaded = new Map<string, Promise<Models>>();

/** loadModels(dir), once per folder and modelHash (a failed load is tried again next time). */
export function cachedModels(d: ModelDir): Promise<Models> {
  const key = `${d.dir}\0${d.manifest.modelHash}`;
  let p = loaded.get(key);
  if (!p) {
    p = loadModels(d.dir);
    loaded.set(key, p);
    p.catch(() => loaded.delete(key));
  }
  return p;
}

/**
 * The models that decode a stream whose header stores `stored`: `given` (the caller's, e.g.
 * `mrt decode --models DIR`) when the stream names it, else the shipped default, else a
 * shipped versioned folder. None of another hash: when none matches, `missing` lists the
 * models that were looked at (for the caller's error).
 */
export async function modelsForStream(stored: Uint8Array, o: { given?: Models; root?: string } = {}): Promise<{ models: Models } | { missing: string }> {
  if (o.given && modelHashMatches(stored, modelHashBytes(o.given.manifest))) return { models: o.given };
  const root = o.root ?? DEFAULT_MODELS_DIR;
  const shipped = await shippedModels(root);
  const found = modelDirFor(stored, shipped);
  if (found) return { models: await cachedModels(found) };
  const seen = [...(o.given ? [`${o.given.manifest.id} (${o.given.dir})`] : []), ...shipped.map((s) => `${s.manifest.id} (${s.dir})`)];
  return { missing: seen.length ? seen.join(', ') : `none in ${root}` };
}

/** `mrt info`: the id of the shipped model a stored hash names, if any. */
export async function shippedModelIds(root: string = DEFAULT_MODELS_DIR): Promise<(hash: Uint8Array) => string | undefined> {
  const shipped = await shippedModels(root);
  return (hash) => modelDirFor(hash, shipped)?.manifest.id;
}
