// The model files, loaded once per page: manifest + RCM weights first (token decoding),
// then the token preview basis, the decoder graph and, for a split decoder, the tail basis.
import { parseRcm } from '../../codec/index.ts';
import { geometry } from '../../model/io.ts';
import { previewPixels, type PreviewBasis } from '../../model/preview.ts';
import type { TailBasis } from '../../model/tail.ts';
import { assetUrl } from '../assets.ts';
import { ClientError, loadDecoder, loadPreview, loadPriorFiles, loadTail, type PriorFiles, type RuntimeKind } from '../runtime.ts';
import { cfg, isCached, saveDataHolds } from './env.ts';

export interface Models {
  files: PriorFiles;
  rcm: ReturnType<typeof parseRcm> | null;
}

let modelsP: Promise<Models> | null = null;
let loaded: Models | null = null;
let preview: PreviewBasis | null = null;
let previewP: Promise<PreviewBasis | null> | null = null;
let graphP: Promise<Uint8Array> | null = null;
let tailP: Promise<TailBasis> | null = null;
let tailLoaded: TailBasis | null = null;
const previewListeners: (() => void)[] = [];

/** Manifest + RCM weights: all that token decoding needs (small, loaded first). */
export function models(): Promise<Models> {
  modelsP ??= loadPriorFiles(cfg().modelBase, cfg().integrity).then((files) => {
    loaded = { files, rcm: files.rcmJson ? parseRcm(files.rcmJson) : null };
    startPreview(files);
    return loaded;
  });
  return modelsP;
}

/** The models once loaded, else null (the parser buffers until then). */
export function loadedModels(): Models | null {
  return loaded;
}

/** The token preview basis once loaded, else null. */
export function previewBasis(): PreviewBasis | null {
  return preview;
}

/** Called when the preview basis arrives (images without a decoder paint get a preview then). */
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
function startPreview(files: PriorFiles): void {
  if (cfg().paint === false) return;
  const allowed = saveDataHolds() && files.manifest.files['preview.bin'] ? isCached(assetUrl(cfg().modelBase, 'preview.bin')) : Promise.resolve(true);
  previewP = allowed.then((ok) => (ok ? loadPreview(cfg().modelBase, files.manifest) : null)).then(
    (p) => {
      if (p) warmPreview(p, files.manifest.layout.baseFactor);
      preview = p;
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

/** The preview basis once its load settled (null: none, or it failed). */
export function previewSettled(): Promise<PreviewBasis | null> {
  return previewP ?? Promise.resolve(null);
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

/** The decoder graph's bytes, checked against the manifest (fetched once). */
export function graphBytes(m: Models): Promise<Uint8Array> {
  graphP ??= loadDecoder(cfg().modelBase, m.files, graphFile(m));
  return graphP;
}

/** The split decoder's tail basis: loaded when the first token past the split arrives. */
export function tailBasis(m: Models): Promise<TailBasis> {
  tailP ??= loadTail(cfg().modelBase, m.files.manifest, tailFile(m)).then((tb) => (tailLoaded = tb));
  return tailP;
}

/** The tail basis once loaded, else null (the first learned paints do not wait for it). */
export function loadedTailBasis(): TailBasis | null {
  return tailLoaded;
}
