// When the learned decoder (our kernels or onnxruntime-web, and the decoder graph) may load,
// and whether it may paint at all on this page.
//
// 1. After the page's first paint. The page (mrt-img.ts) opens the gate once it has seen
//    `first-contentful-paint` (PerformanceObserver, buffered), or, for a page with nothing
//    contentful, once it is idle with its first frame on screen (requestIdleCallback; a timer
//    where there is none; at the latest 2 s after that frame), whichever comes first;
//    MrtImg.warm() opens it at once. Until then the worker fetches
//    the stream, paints the placeholder, decodes tokens and paints the token preview (none of
//    which needs the runtime), but neither downloads nor compiles the runtime and the decoder
//    graph, and runs nothing: the page's own first paint never competes with them.
// 2. Save-Data. When the visitor asked to save data (MrtConfig.saveData) and the page did not
//    ask for the runtime anyway (saveDataRuntime: 'load'), learned paints happen only if every
//    file they need is in the HTTP cache already (a returning visitor's): checked with
//    `fetch(url, { cache: 'only-if-cached', mode: 'same-origin' })`, which never touches the
//    network. A file on another origin cannot be checked that way and counts as not cached.
//    Otherwise the images stay at their placeholder (and the token preview, if preview.bin is
//    cached: models.ts), and the console says so once.
import { assetUrl } from '../assets.ts';
import { KERNELS_FILE } from '../runtime.ts';
import { warmRuntime } from './backend.ts';
import { isCached, sameOrigin } from '../http-cache.ts';
import { cfg, saveDataHolds, send } from './env.ts';
import { graphFile, models, previewSettled, runtimeKind, tailBasis, tailFile, type Models } from './models.ts';

let release!: () => void;
const opened = new Promise<void>((r) => (release = r));
let openedBy: string | null = null;

/** Opens the gate (idempotent): `why` is 'fcp', 'idle' or 'warm'. */
export function openGate(why: string): void {
  if (openedBy) return;
  openedBy = why;
  if (cfg().debug) console.log(`[mrt] runtime gate opened (${why})`);
  release();
}

/** Why the gate opened, or null while it is closed. */
export function gateOpenedBy(): string | null {
  return openedBy;
}

let allowedP: Promise<boolean> | null = null;
/** Under Save-Data: whether the tail basis is cached (learned paints then skip it: interim paints). */
let tailCached = true;

/**
 * Resolves once the gate is open with whether learned paints may happen on this page (false
 * only under Save-Data, when the runtime files are not cached). Rejects when the models fail
 * to load (the caller reports that as it reports any model error).
 */
export function learnedAllowed(): Promise<boolean> {
  allowedP ??= opened.then(async () => {
    if (!saveDataHolds()) return true;
    const m = await models();
    const files = learnedFiles(m);
    const cached = await Promise.all(files.map(async (f) => ((await isCached(f.url)) ? null : f.file)));
    const missing = cached.filter((f): f is string => f !== null);
    const tail = tailUrl(m);
    tailCached = !tail || (await isCached(tail));
    if (!missing.length) {
      if (cfg().debug) console.log(`[mrt] Save-Data: the learned decoder is cached (${files.map((f) => f.file).join(', ')}${tailCached ? '' : '; the tail basis is not: paints without it'})`);
      return true;
    }
    const preview = await previewSettled();
    send({
      type: 'backend',
      backend: null,
      note:
        `Save-Data: the learned decoder is not in the HTTP cache (${missing.join(', ')}): images stay at their placeholder` +
        `${preview ? ' and token preview' : ''}; MrtImg.configure({ saveDataRuntime: 'load' }) loads it anyway`,
    });
    return false;
  });
  return allowedP;
}

/**
 * Under Save-Data with the learned decoder cached: whether the tail basis may be fetched
 * (only when cached too; without it, learned paints stay interim). Valid once
 * learnedAllowed() resolved true.
 */
export function tailAllowed(): boolean {
  return !saveDataHolds() || tailCached;
}

/**
 * Loads the runtime once the gate is open and learned paints are allowed (first header,
 * MrtImg.warm()); `tail`: the tail basis too (after a first visit's final layers, for the next).
 */
export function warmLearned(o: { tail?: boolean } = {}): void {
  learnedAllowed().then(
    async (ok) => {
      if (!ok) return;
      warmRuntime();
      if (o.tail && tailAllowed()) {
        const m = await models();
        if (tailUrl(m)) await tailBasis(m).catch(() => undefined); // (a learned paint that needs it later says why it failed)
      }
    },
    () => undefined, // the models' error reaches the images through their paints
  );
}

let learnedCached: boolean | null = null;
let probe: Promise<void> | null = null;

/**
 * Starts finding out (once per worker) whether the learned decoder's files are all in the HTTP
 * cache, without touching the network: the manifest first (not cached: a first visit), then the
 * files it names. Runs while the first streams are on their way, so their Index usually finds
 * the answer (learnedCachedNow).
 */
export function probeLearnedCache(): void {
  if (probe) return;
  const t0 = performance.now();
  probe = (async () => {
    const manifest = assetUrl(cfg().modelBase, 'manifest.json');
    if (!sameOrigin(manifest)) return; // another origin's cache cannot be asked: unknown
    if (!(await isCached(manifest))) {
      learnedCached = false;
      return;
    }
    const files = learnedFiles(await models());
    if (!files.every((f) => sameOrigin(f.url))) return;
    learnedCached = (await Promise.all(files.map((f) => isCached(f.url)))).every(Boolean);
  })()
    .catch(() => undefined)
    .finally(() => {
      if (cfg().debug) console.log(`[mrt] the learned decoder is ${learnedCached === null ? 'of unknown cache state' : learnedCached ? 'cached' : 'not cached'} (${(performance.now() - t0).toFixed(0)} ms)`);
    });
}

/** The probe's answer, waiting for it at most `ms` (HTTP cache lookups: a few ms; null when still unknown). */
export async function learnedCachedSoon(ms: number): Promise<boolean | null> {
  if (probe && learnedCached === null) await Promise.race([probe, new Promise((r) => setTimeout(r, ms))]);
  return learnedCached;
}

/** Whether the learned decoder's files are all cached: true / false once known, null while unknown (or not knowable). */
export function learnedCachedNow(): boolean | null {
  return learnedCached;
}

/** The files a learned paint needs (the runtime and the decoder graph; the lean one takes a weight from preview.bin). */
function learnedFiles(m: Models): { file: string; url: string }[] {
  const { ortBase, modelBase } = cfg();
  const model = (file: string) => ({ file, url: assetUrl(modelBase, file) });
  const rt = (file: string) => ({ file, url: assetUrl(ortBase, file) });
  const graph = graphFile(m);
  if (runtimeKind(m) === 'lean') return [rt(KERNELS_FILE), model(graph), ...(m.files.manifest.files['preview.bin'] ? [model('preview.bin')] : [])];
  // onnxruntime-web: the WASM build, and the WebGPU build where it may be chosen
  const wasm = ['ort.wasm.min.mjs', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm'];
  const webgpu = ['ort.webgpu.min.mjs', 'ort-wasm-simd-threaded.asyncify.mjs', 'ort-wasm-simd-threaded.asyncify.wasm'];
  const backend = cfg().backend ?? 'auto';
  const hasGpu = !!(navigator as unknown as { gpu?: unknown }).gpu;
  const names = backend === 'wasm' || !hasGpu ? wasm : backend === 'webgpu' ? webgpu : [...webgpu, ...wasm];
  return [...names.map(rt), model(graph)];
}

function tailUrl(m: Models): string | null {
  const manifest = m.files.manifest;
  if (!manifest.splitDecoder && !manifest.lean?.tail) return null;
  return assetUrl(cfg().modelBase, tailFile(m));
}
