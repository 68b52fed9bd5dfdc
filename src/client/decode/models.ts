// The model files, loaded once per page and model: manifest + RCM weights first (token
// decoding), then the token preview basis, the decoder graph and, for a split decoder, the
// tail basis. The page's model comes from modelBase; a stream that names another model (one
// encoded before the default changed) has it loaded from <modelBase><hash prefix>/.
import { parseRcm } from '../../codec/index.ts';
import { modelHashMatches, modelLabel, type MrtHeader } from '../../format/index.ts';
import { geometry } from '../../model/io.ts';
import { manifestHashProblem, modelDirName } from '../../model/model-hash.ts';
import { previewPixels, type PreviewBasis } from '../../model/preview.ts';
import type { TailBasis } from '../../model/tail.ts';
import { assetUrl, buildRoot } from '../assets.ts';
import { ClientError, loadDecoder, loadPreview, loadPriorFiles, loadTail, type PriorFiles, type RuntimeKind } from '../runtime.ts';
import { isCached } from '../http-cache.ts';
import { cfg, saveDataHolds } from './env.ts';

export interface Models {
  files: PriorFiles;
  rcm: ReturnType<typeof parseRcm> | null;
  /** The folder its files come from: modelBase for the page's model, <modelBase><hash prefix>/ for another (docs/design.md). */
  base: string;
}

/** One model's files, loaded lazily and once per page (the page's model, and each other model a stream names). */
interface ModelState {
  modelsP: Promise<Models> | null;
  loaded: Models | null;
  preview: PreviewBasis | null;
  previewP: Promise<PreviewBasis | null> | null;
  graphP: Promise<Uint8Array> | null;
  tailP: Promise<TailBasis> | null;
  tailLoaded: TailBasis | null;
}

/** By folder URL. */
const states = new Map<string, ModelState>();
const previewListeners: (() => void)[] = [];

function stateOf(base: string): ModelState {
  let s = states.get(base);
  if (!s) states.set(base, (s = { modelsP: null, loaded: null, preview: null, previewP: null, graphP: null, tailP: null, tailLoaded: null }));
  return s;
}

/** The page's model folder as an absolute URL. */
function defaultBase(): string {
  return new URL(cfg().modelBase, buildRoot()).href;
}

/**
 * Manifest + RCM weights of the model in `base`: all that token decoding needs (small,
 * loaded first). `pinName`: the manifest's name in the page's `integrity` setting.
 */
function loadAt(base: string, pinName = 'manifest.json'): Promise<Models> {
  const st = stateOf(base);
  st.modelsP ??= loadPriorFiles(base, cfg().integrity, pinName).then((files) => {
    st.loaded = { files, rcm: files.rcmJson ? parseRcm(files.rcmJson) : null, base };
    startPreview(st, st.loaded);
    return st.loaded;
  });
  return st.modelsP;
}

/** The page's model (modelBase): loaded after the first placeholder paint, whatever the streams name. */
export function models(): Promise<Models> {
  return loadAt(defaultBase());
}

/** The page's model once loaded, else null. */
export function loadedModels(): Models | null {
  return states.get(defaultBase())?.loaded ?? null;
}

/** The folder of the model a stored hash names when it is not the page's: <modelBase><first 8 hex digits>/. */
export function modelFolder(stored: Uint8Array): string | null {
  const dir = modelDirName(stored);
  return dir && new URL(`${dir}/`, defaultBase()).href;
}

/** The stream's model once loaded (the page's or another), else null (the caller then waits for streamModels). */
export function loadedStreamModels(h: Pick<MrtHeader, 'modelHash'>): Models | null {
  const def = loadedModels();
  if (!def) return null;
  if (!h.modelHash.length || modelHashMatches(h.modelHash, def.files.modelHash)) return def;
  const folder = modelFolder(h.modelHash);
  const m = folder ? states.get(folder)?.loaded : null;
  return m && modelHashMatches(h.modelHash, m.files.modelHash) ? m : null;
}

/**
 * The model a stream names: the page's model when its hash is that model's (or the stream
 * names none), else the model in <modelBase><hash prefix>/, whose manifest must be pinned
 * (by the build, or the page's `integrity` under '<prefix>/manifest.json') and name that
 * hash. Only streams that need another model load it. When it cannot be had (not there,
 * integrity, network): a 'model-hash' error naming the hash and why, never another model.
 */
export async function streamModels(h: Pick<MrtHeader, 'modelHash' | 'modelId'>): Promise<Models> {
  const def = await models();
  if (!h.modelHash.length || modelHashMatches(h.modelHash, def.files.modelHash)) return def;
  const need = `stream needs model ${modelLabel(h)}, not the page's model ${def.files.manifest.id}`;
  const folder = modelFolder(h.modelHash);
  if (!folder) throw new ClientError('model-hash', `${need} (hash differs), and its hash is too short to name a model folder`);
  let m: Models;
  try {
    m = await loadAt(folder, `${modelDirName(h.modelHash)}/manifest.json`);
  } catch (e) {
    throw new ClientError('model-hash', `${need} (hash differs), and that model cannot be loaded from ${folder}: ${(e as Error).message}`);
  }
  if (!modelHashMatches(h.modelHash, m.files.modelHash)) {
    throw new ClientError('model-hash', `${need} (hash differs), and ${folder} holds model ${m.files.manifest.id} (hash ${m.files.manifest.modelHash.slice(0, 16)}…)`);
  }
  // before a token is decoded with its RCM: the hash the folder was chosen by must be the one its digests give
  const bad = await manifestHashProblem(m.files.manifest);
  if (bad) throw new ClientError('model-hash', `${need} (hash differs), and the manifest in ${folder} is not that model's: ${bad}`);
  return m;
}

/** The token preview basis of model `m` (default: the page's) once loaded, else null. */
export function previewBasis(m: Models | null = loadedModels()): PreviewBasis | null {
  return m ? (states.get(m.base)?.preview ?? null) : null;
}

/** Called when a model's preview basis arrives (images without a decoder paint get a preview then). */
export function onPreviewReady(listener: () => void): void {
  previewListeners.push(listener);
}

/**
 * V8 runs a function unoptimised until it is hot: the first 768x512 preview took ~30 ms
 * (Node, Chromium) and later ones ~3 ms. A few small runs while the chunks are still on
 * their way make the first real preview a fast one.
 */
function warmPreview(p: PreviewBasis, baseFactor: number): void {
  const g = geometry(256, 256, { window: p.window, baseFactor });
  const z = new Float32Array(p.components * g.gridW * g.gridH).fill(0.25);
  const base = new Float32Array(3 * g.baseW * g.baseH).fill(0.5);
  for (let i = 0; i < 6; i++) previewPixels(p, g, p.components, z, base, i % 2 ? 2 : 1);
}

/**
 * preview.bin loads beside the rest (it does not wait for the page's first paint, as the
 * learned decoder does: 150 KB and a few ms of JS per paint); once here, images without a
 * decoder paint get one. Under Save-Data only when it is in the HTTP cache already.
 */
function startPreview(st: ModelState, m: Models): void {
  if (cfg().paint === false) return;
  const files = m.files;
  const allowed = saveDataHolds() && files.manifest.files['preview.bin'] ? isCached(assetUrl(m.base, 'preview.bin')) : Promise.resolve(true);
  st.previewP = allowed.then((ok) => (ok ? loadPreview(m.base, files.manifest) : null)).then(
    (p) => {
      if (p) warmPreview(p, files.manifest.layout.baseFactor);
      st.preview = p;
      if (p) for (const l of previewListeners) l();
      return p;
    },
    // Not fatal for the token preview (the decoder paints the same tokens) but never
    // silent: a broken preview.bin means a broken deployment. (The lean decoder, which takes
    // a weight from it, then fails with its own error.)
    (e) => {
      console.warn(`[mrt-worker] no token preview: ${(e as Error).message}`);
      return null;
    },
  );
}

/** Model `m`'s preview basis once its load settled (null: none, or it failed); default: the page's model. */
export function previewSettled(m: Models | null = loadedModels()): Promise<PreviewBasis | null> {
  return (m && states.get(m.base)?.previewP) || Promise.resolve(null);
}

/**
 * Which runtime runs the decoder: the lean one (our kernels, src/model/lean) unless the page
 * asked for onnxruntime-web. A model without a lean file cannot run lean: a clear error, not
 * a silent switch to the 14 MB runtime.
 */
export function runtimeKind(m: Models): RuntimeKind {
  const want = cfg().runtime ?? 'lean';
  if (want === 'lean' && !m.files.manifest.lean) throw new ClientError('model', `model ${m.files.manifest.id} has no lean decoder (manifest.lean): set runtime: 'ort' or build it with scripts/build-lean-model.ts`);
  return want;
}

/**
 * The decoder graph's file: the lean decoder file for the lean runtime; for onnxruntime-web
 * the manifest's split decoder when it has one (models with more than 64 layers: the linear
 * synthesis of later tokens is summed in JS, src/model/tail.ts, from the tail basis), else
 * decoder.onnx.
 */
export function graphFile(m: Models): string {
  const manifest = m.files.manifest;
  if (runtimeKind(m) === 'lean') return manifest.lean!.file;
  return manifest.splitDecoder?.file ?? 'decoder.onnx';
}

/** The tail basis file the runtime's graph takes (the lean one is int8). */
export function tailFile(m: Models): string {
  const manifest = m.files.manifest;
  return (runtimeKind(m) === 'lean' && manifest.lean?.tail) || manifest.splitDecoder!.tail;
}

/** The decoder graph's bytes, checked against the manifest (fetched once per model). */
export function graphBytes(m: Models): Promise<Uint8Array> {
  const st = stateOf(m.base);
  st.graphP ??= loadDecoder(m.base, m.files, graphFile(m));
  return st.graphP;
}

/** The split decoder's tail basis: loaded when the first token past the split arrives. */
export function tailBasis(m: Models): Promise<TailBasis> {
  const st = stateOf(m.base);
  st.tailP ??= loadTail(m.base, m.files.manifest, tailFile(m)).then((tb) => (st.tailLoaded = tb));
  return st.tailP;
}

/** Model `m`'s tail basis once loaded, else null (the first learned paints do not wait for it). */
export function loadedTailBasis(m: Models): TailBasis | null {
  return states.get(m.base)?.tailLoaded ?? null;
}
