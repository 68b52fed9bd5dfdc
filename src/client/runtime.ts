// Lazy runtime + model loading inside the decode worker. Nothing here runs until the first
// image has a header, so the placeholder paints with zero ML bytes. Loaded once per worker
// (= once per page) and cached by the browser like any other static file. Two runtimes run
// the same decoder: the lean one (our kernels, src/model/lean: WASM SIMD, and WGSL on WebGPU;
// the default) and onnxruntime-web (`runtime: 'ort'`, with WebGPU; the reference).
import type * as Ort from 'onnxruntime-web';
import { instantiateKernels } from '../model/lean/kernels.ts';
import { LeanGpuDecoder, type GpuDevice } from '../model/lean/gpu.ts';
import { LeanDecoder, type Feed } from '../model/lean/run.ts';
import type { SharedWeights } from '../model/lean/weights.ts';
import { coarseMaskOf, type Manifest } from '../model/io.ts';
import { modelHashOf } from '../model/model-hash.ts';
import { parsePreview, type PreviewBasis } from '../model/preview.ts';
import { parseTail, tailMismatch, type TailBasis } from '../model/tail.ts';
import { assetUrl } from './assets.ts';
import { pinFor, pinProblem, warnUnpinned } from './integrity.ts';
import type { Backend } from './types.ts';

export type { Manifest };

export class ClientError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'ClientError';
  }
}

/** What token decoding needs: the manifest and the RCM weights (small; loaded first). */
export interface PriorFiles {
  manifest: Manifest;
  /** The RCM weights as parsed JSON, or null when the model ships none (static prior). */
  rcmJson: unknown | null;
  /** Verified sha256 of rcm.json ('' without one). */
  rcmSha: string;
  /** The manifest's model hash as bytes (a .mrt header names a prefix of it). */
  modelHash: Uint8Array;
  bytes: number;
}

export interface Runtime {
  backend: Backend;
  /** Which runtime runs the decoder: 'lean' (our kernels) or 'ort' (onnxruntime-web). */
  kind: RuntimeKind;
  /** One decoder run: the `image` output, float32 CHW. */
  run(feeds: Record<string, Feed>): Promise<Float32Array>;
  /** Milliseconds the runtime took to load (fetch, compile, first session). */
  loadMs: number;
  /** WebGPU: resolves with a message when the GPU device is lost (runs on it may never settle). */
  lost?: Promise<string>;
  /** Tests: destroys the GPU device (a simulated device loss); undefined off WebGPU. */
  destroyDevice?(): Promise<void>;
}

export type RuntimeKind = 'lean' | 'ort';

/** The lean runtime's kernels, served beside onnxruntime-web's files (ortBase). */
export const KERNELS_FILE = 'mrt-kernels.wasm';

function hex(buf: ArrayBuffer): string {
  return [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

function unhex(s: string): Uint8Array {
  const out = new Uint8Array(s.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

async function sha256(bytes: Uint8Array): Promise<string> {
  return hex(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}

async function fetchBytes(url: string, what: string, code: 'model' | 'runtime' = 'model'): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new ClientError(code, `cannot fetch ${what} (${url}): ${(e as Error).message}`);
  }
  if (!res.ok) throw new ClientError(code, `cannot fetch ${what} (${url}): HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/**
 * Fetches `file` under `base` and checks it against its pin (integrity.ts): a mismatch is a
 * `code` error; a file without a pin is fetched unchecked (and the console says so). `name`:
 * the file's name in the page's `integrity` setting (another model's manifest: '<prefix>/manifest.json').
 */
async function fetchPinned(base: string, file: string, integrity: Record<string, string> | undefined, code: 'model' | 'runtime', mismatch: 'model-hash' | 'runtime', name = file): Promise<Uint8Array> {
  const url = assetUrl(base, file);
  let pin;
  try {
    pin = pinFor(name, url, integrity);
  } catch (e) {
    throw new ClientError(code, (e as Error).message);
  }
  const bytes = await fetchBytes(url, name, code);
  if (!pin) {
    warnUnpinned(name, url);
    return bytes;
  }
  const bad = await pinProblem(bytes, pin, name, url);
  if (bad) throw new ClientError(mismatch, bad);
  return bytes;
}

/**
 * Fetches manifest.json (checked against its pin: the root of the model files' digests) and
 * rcm.json, checked against its sha256 in the manifest. `pinName`: the manifest's name in
 * the page's `integrity` setting ('<prefix>/manifest.json' for a model in a versioned folder).
 */
export async function loadPriorFiles(modelBase: string, integrity?: Record<string, string>, pinName = 'manifest.json'): Promise<PriorFiles> {
  const manifestBytes = await fetchPinned(modelBase, 'manifest.json', integrity, 'model', 'model-hash', pinName);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(new TextDecoder().decode(manifestBytes));
  } catch (e) {
    throw new ClientError('model', `manifest.json is not JSON: ${(e as Error).message}`);
  }
  if (!manifest?.files?.['decoder.onnx'] || typeof manifest.modelHash !== 'string') {
    throw new ClientError('model', 'manifest.json lacks decoder.onnx or modelHash');
  }
  try {
    coarseMaskOf(manifest);
  } catch (e) {
    throw new ClientError('model', (e as Error).message);
  }
  let rcmJson: unknown | null = null;
  let rcmSha = '';
  let n = manifestBytes.length;
  if (manifest.files['rcm.json']) {
    const rcm = await fetchListed(modelBase, manifest, 'rcm.json');
    n += rcm.bytes.length;
    rcmSha = rcm.sha;
    rcmJson = JSON.parse(new TextDecoder().decode(rcm.bytes));
  }
  return { manifest, rcmJson, rcmSha, modelHash: unhex(manifest.modelHash), bytes: n };
}

/** Fetches the split decoder's tail basis (`file`: manifest.splitDecoder.tail, or the lean one) and checks it. */
export async function loadTail(modelBase: string, manifest: Manifest, file = manifest.splitDecoder!.tail): Promise<TailBasis> {
  const tb = await loadParsed(modelBase, manifest, file, parseTail);
  const bad = tailMismatch(tb, manifest);
  if (bad) throw new ClientError('model', bad);
  return tb;
}

/**
 * Fetches preview.bin (the token preview basis) and checks it against the manifest; null
 * when the model ships none. Separate from the prior files: token decoding never waits
 * for it, and without it the element still paints (placeholder, then decoder.onnx).
 */
export async function loadPreview(modelBase: string, manifest: Manifest): Promise<PreviewBasis | null> {
  if (!manifest.files['preview.bin']) return null;
  return loadParsed(modelBase, manifest, 'preview.bin', parsePreview);
}

/** Fetches a file the manifest lists and checks it against its sha256 there. */
async function fetchListed(modelBase: string, manifest: Manifest, file: string): Promise<{ bytes: Uint8Array; sha: string }> {
  const entry = manifest.files[file];
  if (!entry) throw new ClientError('model', `manifest.json does not list ${file}`);
  const bytes = await fetchBytes(assetUrl(modelBase, file), file);
  const sha = await sha256(bytes);
  if (sha !== entry.sha256) throw new ClientError('model-hash', `${file} sha256 ${sha} does not match the manifest`);
  return { bytes, sha };
}

/** Fetches a derived model file (not in modelHash), checks its sha256 and parses it; a file that does not parse is a 'model' error. */
async function loadParsed<T>(modelBase: string, manifest: Manifest, file: string, parse: (bytes: Uint8Array) => T): Promise<T> {
  const { bytes } = await fetchListed(modelBase, manifest, file);
  try {
    return parse(bytes);
  } catch (e) {
    throw new ClientError('model', (e as Error).message);
  }
}

/**
 * Fetches a decoder graph (decoder.onnx, or the manifest's split decoder) and checks it
 * against the manifest, and the manifest's modelHash against the digests:
 * sha256(digest(decoder.onnx) || digest(encoder) || digest(rcm)), docs/design.md (files the
 * page does not download, encoder.onnx and with a split decoder decoder.onnx, count with
 * the digests the manifest lists).
 */
export async function loadDecoder(modelBase: string, prior: PriorFiles, file = 'decoder.onnx'): Promise<Uint8Array> {
  const { manifest } = prior;
  const { bytes: decoder, sha } = await fetchListed(modelBase, manifest, file);
  const decSha = file === 'decoder.onnx' ? sha : manifest.files['decoder.onnx']?.sha256;
  if (!decSha) throw new ClientError('model', 'manifest.json does not list decoder.onnx');
  // every digest of modelHash must be listed, or the hash the streams name cannot be checked
  if (!manifest.files['encoder.onnx']?.sha256) throw new ClientError('model-hash', "manifest.json does not list encoder.onnx's sha256: its modelHash cannot be checked");
  const mh = await modelHashOf(decSha, manifest.files['encoder.onnx'].sha256, prior.rcmSha);
  if (mh !== manifest.modelHash.toLowerCase()) {
    throw new ClientError('model-hash', `manifest modelHash ${manifest.modelHash} does not match its files (${mh})`);
  }
  return decoder;
}

/** The parts of a WebGPU adapter the backend choice reads (the DOM types are not in this build). */
export interface GpuAdapterLike {
  isFallbackAdapter?: boolean;
  info?: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
  limits?: Record<string, number>;
  requestDevice?(d?: { requiredLimits?: Record<string, number> }): Promise<unknown>;
}

/** Software rasterisers that expose WebGPU: far too slow for the decoder (a 768x512 run takes minutes). */
const SOFTWARE_ADAPTER = /swiftshader|llvmpipe|lavapipe|softpipe|microsoft basic render|\bwarp\b/i;

/** Why `adapter` is no GPU worth using (a fallback or software adapter), or '' for a hardware one. */
export function softwareAdapter(adapter: GpuAdapterLike): string {
  const info = adapter.info ?? {};
  const name = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ');
  if (adapter.isFallbackAdapter || info.isFallbackAdapter) return `the WebGPU adapter is a fallback adapter (${name || 'no name'})`;
  if (SOFTWARE_ADAPTER.test(name)) return `the WebGPU adapter is a software renderer (${name})`;
  return '';
}

/**
 * Whether 'auto' should try WebGPU: an adapter that is a real GPU (the one rule of both
 * runtimes). `why` says why not when there is an adapter that is left (nothing to say when
 * the browser has no WebGPU at all); `adapter`: the adapter, if any (backend 'webgpu' uses
 * even a software one).
 */
export async function webgpuChoice(): Promise<{ use: boolean; why: string; adapter: GpuAdapterLike | null }> {
  const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<GpuAdapterLike | null> } }).gpu;
  if (!gpu) return { use: false, why: '', adapter: null };
  let adapter: GpuAdapterLike | null;
  try {
    adapter = await gpu.requestAdapter();
  } catch (e) {
    return { use: false, why: `requestAdapter failed: ${(e as Error).message}`, adapter: null };
  }
  if (!adapter) return { use: false, why: '', adapter: null };
  const soft = softwareAdapter(adapter);
  return soft ? { use: false, why: soft, adapter } : { use: true, why: '', adapter };
}

/** Resolves with a message when the GPU device the session runs on is lost (never for WASM). */
async function deviceLost(ort: typeof Ort): Promise<string> {
  const never = new Promise<string>(() => undefined);
  let device: { lost?: Promise<{ reason?: string; message?: string }> } | undefined;
  try {
    device = (await ort.env.webgpu.device) as unknown as typeof device;
  } catch {
    return never; // no device to watch: a failed run still falls back
  }
  if (!device?.lost) return never;
  return lostMessage(device.lost);
}

/** What the page is told when a GPU device is lost (either runtime). */
async function lostMessage(lost: Promise<{ reason?: string; message?: string }>): Promise<string> {
  const info = await lost;
  return `the GPU device was lost (${info.reason ?? 'unknown'}${info.message ? `: ${info.message}` : ''})`;
}

/**
 * Fetches one of onnxruntime-web's ES modules (`file` under `ortBase`) through fetchPinned and
 * returns a same-origin `blob:` URL of the checked bytes: `import()` takes no integrity, so
 * the module never runs from its own URL. The caller revokes it.
 */
async function pinnedModuleUrl(ortBase: string, file: string, integrity: Record<string, string> | undefined): Promise<string> {
  const bytes = await fetchPinned(ortBase, file, integrity, 'runtime', 'runtime');
  return URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'text/javascript' }));
}

async function importOrt(ortBase: string, file: string, integrity: Record<string, string> | undefined): Promise<typeof Ort> {
  const url = await pinnedModuleUrl(ortBase, file, integrity);
  try {
    const m = (await import(/* @vite-ignore */ url)) as typeof Ort & { default?: typeof Ort };
    return (m.InferenceSession ? m : m.default) as typeof Ort;
  } catch (e) {
    throw new ClientError('runtime', `cannot load onnxruntime-web from ${assetUrl(ortBase, file)}: ${(e as Error).message}`);
  } finally {
    URL.revokeObjectURL(url); // evaluated: nothing resolves against its URL later (no proxy worker)
  }
}

/** The .mjs/.wasm pair each onnxruntime-web build loads (named here: the build may serve them under hashed names). */
const ORT_BUILDS = {
  wasm: { module: 'ort.wasm.min.mjs', wasm: 'ort-wasm-simd-threaded' },
  webgpu: { module: 'ort.webgpu.min.mjs', wasm: 'ort-wasm-simd-threaded.asyncify' },
} as const;

/** One onnxruntime-web build, loaded and configured. */
interface OrtBuild {
  ort: typeof Ort;
  /**
   * Revokes the glue's `blob:` URL, once a session exists: emscripten starts the thread
   * workers from the glue's URL while the module starts, and onnxruntime-web revokes its own
   * blob copies (a glue on another origin) at that point too.
   */
  release(): void;
}

/** Whether a worker may start from a blob: URL here (Content-Security-Policy worker-src): one that says hello, or not. */
async function blobWorkersAllowed(): Promise<boolean> {
  const url = URL.createObjectURL(new Blob(['postMessage(1)'], { type: 'text/javascript' }));
  let w: Worker | null = null;
  try {
    w = new Worker(url);
    const worker = w;
    return await new Promise<boolean>((resolve) => {
      worker.onmessage = () => resolve(true);
      worker.onerror = () => resolve(false);
      setTimeout(() => resolve(false), BLOB_WORKER_WAIT_MS);
    });
  } catch {
    return false;
  } finally {
    w?.terminate();
    URL.revokeObjectURL(url);
  }
}

/** How long a blob: worker may take to say hello before it counts as refused (a refusal is an error event, at once). */
const BLOB_WORKER_WAIT_MS = 5000;

/** Each build once per worker and `ortBase` (a second import of a blob: copy would be a second runtime). */
const ortBuilds = new Map<string, Promise<OrtBuild>>();

function loadOrt(backend: Backend, ortBase: string, threads: number, integrity?: Record<string, string>): Promise<OrtBuild> {
  const key = `${backend} ${ortBase}`;
  let p = ortBuilds.get(key);
  if (!p) {
    p = importOrtBuild(backend, ortBase, threads, integrity);
    ortBuilds.set(key, p);
    p.catch(() => ortBuilds.delete(key));
  }
  return p;
}

async function importOrtBuild(backend: Backend, ortBase: string, threads: number, integrity?: Record<string, string>): Promise<OrtBuild> {
  const b = ORT_BUILDS[backend];
  // The .wasm is checked before it runs when there is a pin for it: fetched here and handed
  // over as bytes (no streaming compile: the price of the check). Without a pin the runtime
  // fetches it itself.
  const wasmFile = `${b.wasm}.wasm`;
  const wasmUrl = assetUrl(ortBase, wasmFile);
  let pinned: boolean;
  try {
    pinned = !!pinFor(wasmFile, wasmUrl, integrity);
  } catch (e) {
    throw new ClientError('runtime', (e as Error).message);
  }
  if (!pinned) warnUnpinned(wasmFile, wasmUrl);
  // The glue is checked as the module is, and given as a blob: URL (onnxruntime-web imports
  // it from there, and with threads starts its workers from it).
  const glueP = pinnedModuleUrl(ortBase, `${b.wasm}.mjs`, integrity);
  try {
    const [ort, wasmBinary, glue] = await Promise.all([importOrt(ortBase, b.module, integrity), pinned ? fetchPinned(ortBase, wasmFile, integrity, 'runtime', 'runtime') : undefined, glueP]);
    ort.env.wasm.wasmPaths = { mjs: glue, wasm: wasmUrl };
    if (wasmBinary) ort.env.wasm.wasmBinary = wasmBinary;
    // onnxruntime-web starts its thread workers from the glue's blob: URL; a policy that refuses
    // them would leave its session waiting for good: one thread then, and the console says why
    if (threads > 1 && !(await blobWorkersAllowed())) {
      console.warn(`[mrt-worker] WASM threads need blob: in worker-src (onnxruntime-web starts them from a blob: URL), which this page's policy refuses: decoding on 1 thread`);
      threads = 1;
    }
    ort.env.wasm.numThreads = threads;
    ort.env.wasm.proxy = false;
    ort.env.logLevel = 'error';
    return { ort, release: () => URL.revokeObjectURL(glue) };
  } catch (e) {
    glueP.then(URL.revokeObjectURL, () => undefined);
    throw e;
  }
}

/**
 * Creates the decoder session: WebGPU when requested, or for 'auto' when there is a hardware
 * adapter (fallback and software adapters are skipped: SwiftShader took a minute or more per
 * run), and on any failure there (session or probe run fails) the WASM build.
 * `onFallback` is told why WebGPU was left.
 */
export async function createRuntime(
  model: Uint8Array,
  opts: { ortBase: string; backend: 'auto' | Backend; threads: number; integrity?: Record<string, string>; onFallback?: (left: { why: string; skipped: boolean }) => void },
  probe?: (rt: Runtime) => Promise<void>,
): Promise<Runtime> {
  const t0 = performance.now();
  let wantGpu = opts.backend === 'webgpu';
  if (opts.backend === 'auto') {
    const choice = await webgpuChoice();
    wantGpu = choice.use;
    if (choice.why) opts.onFallback?.({ why: choice.why, skipped: true });
  }
  if (wantGpu) {
    try {
      const build = await loadOrt('webgpu', opts.ortBase, opts.threads, opts.integrity);
      const { ort } = build;
      const session = await createSession(build, model, 'webgpu');
      const rt: Runtime = {
        ...ortRun(ort, session),
        backend: 'webgpu',
        loadMs: performance.now() - t0,
        lost: deviceLost(ort),
        destroyDevice: async () => ((await ort.env.webgpu.device) as unknown as { destroy(): void }).destroy(),
      };
      if (probe) await probe(rt);
      return rt;
    } catch (e) {
      opts.onFallback?.({ why: (e as Error).message ?? String(e), skipped: false });
    }
  }
  const build = await loadOrt('wasm', opts.ortBase, opts.threads, opts.integrity);
  let session: Ort.InferenceSession;
  try {
    session = await createSession(build, model, 'wasm');
  } catch (e) {
    throw new ClientError('runtime', `cannot create the WASM decoder session: ${(e as Error).message ?? e}`);
  }
  return { ...ortRun(build.ort, session), backend: 'wasm', loadMs: performance.now() - t0 };
}

/**
 * A session on `build`. Once one exists its WASM module runs, with its thread workers
 * started: the glue's blob: URL is released. (Not after a failure: one that came before the
 * module started would leave a later session a revoked URL to import.)
 */
async function createSession(build: OrtBuild, model: Uint8Array, ep: Backend): Promise<Ort.InferenceSession> {
  const session = await build.ort.InferenceSession.create(model, { executionProviders: [ep], graphOptimizationLevel: 'all' });
  build.release();
  return session;
}

function ortRun(ort: typeof Ort, session: Ort.InferenceSession): Pick<Runtime, 'kind' | 'run'> {
  return {
    kind: 'ort',
    run: async (feeds) => {
      const res = await session.run(Object.fromEntries(Object.entries(feeds).map(([n, f]) => [n, new ort.Tensor('float32', f.data, f.dims)])));
      const img = res.image!;
      const data = (await img.getData()) as Float32Array;
      img.dispose?.();
      return data;
    },
  };
}

/**
 * The lean runtime on WASM: our WASM SIMD kernels (mrt-kernels.wasm under `ortBase`, checked against
 * its pin) running the lean decoder file. A run that would need more than `maxBytes` of
 * module memory fails before allocating.
 */
export async function createLeanRuntime(model: Uint8Array, opts: { ortBase: string; integrity?: Record<string, string>; maxBytes: number; shared: SharedWeights }): Promise<Runtime> {
  const t0 = performance.now();
  const wasm = await fetchPinned(opts.ortBase, KERNELS_FILE, opts.integrity, 'runtime', 'runtime');
  let decoder: LeanDecoder;
  try {
    decoder = LeanDecoder.create(model, await instantiateKernels(wasm), opts.shared);
  } catch (e) {
    throw new ClientError('runtime', `cannot start the lean decoder: ${(e as Error).message}`);
  }
  return {
    backend: 'wasm',
    kind: 'lean',
    loadMs: performance.now() - t0,
    run: async (feeds) => decoder.run(feeds, opts.maxBytes).data,
  };
}

/** What the first WebGPU run of the lean decoder may take before it counts as hung (setup included). */
const LEAN_GPU_SETUP_MS = 20_000;
/** Largest |WebGPU − WASM| the probe run accepts (the image is in [0, 1]). */
const LEAN_GPU_PROBE_TOLERANCE = 1e-2;

/** The probe run's inputs: a `gridW` x `gridH` grid of deterministic noise in the graph's input shapes (base at `baseW` x `baseH`). */
function probeFeeds(graph: { inputs: { name: string; dims: (number | string)[] }[] }, g: { gridW: number; gridH: number; baseW: number; baseH: number }): Record<string, Feed> {
  let seed = 0x2545f491;
  const rnd = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const feeds: Record<string, Feed> = {};
  for (const i of graph.inputs) {
    const c = i.dims[1];
    if (typeof c !== 'number') throw new ClientError('runtime', `the lean graph's input ${i.name} has no fixed channel count`);
    const dims = i.name === 'base' ? [1, c, g.baseH, g.baseW] : [1, c, g.gridH, g.gridW];
    const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
    for (let k = 0; k < data.length; k++) {
      const r = rnd();
      data[k] = i.name === 'mask' ? (r < 0.5 ? 1 : 0) : i.name === 'base' ? r : i.name === 'tail' ? 0.05 * (r - 0.5) : 2 * r - 1;
    }
    feeds[i.name] = { data, dims };
  }
  return feeds;
}

/**
 * The lean runtime on WebGPU: the lean decoder file on our WGSL kernels (src/model/lean/gpu.ts)
 * on a device of `adapter` with its largest storage buffers. Verified before use: a probe run
 * (a `probe`-sized grid of noise) must match `reference` (the lean WASM runtime) within 1e-2,
 * and setup plus probe must finish within LEAN_GPU_SETUP_MS; otherwise it throws (and the
 * device is destroyed). A run past the device's limits or `maxBytes` fails before dispatching.
 */
export async function createLeanGpuRuntime(
  model: Uint8Array,
  opts: { adapter: GpuAdapterLike; shared: SharedWeights; reference: Runtime; probe: { gridW: number; gridH: number; baseW: number; baseH: number }; maxBytes: number },
): Promise<Runtime> {
  const t0 = performance.now();
  let device: GpuDevice | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let abandoned = false;
  const setup = async (): Promise<Runtime> => {
    const a = opts.adapter;
    if (!a.requestDevice) throw new Error('the adapter cannot give a device');
    const l = a.limits ?? {};
    const want = Object.fromEntries(['maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupsPerDimension'].filter((k) => typeof l[k] === 'number').map((k) => [k, l[k]!]));
    device = (await a.requestDevice({ requiredLimits: want })) as GpuDevice;
    if (abandoned) device.destroy(); // timed out meanwhile
    const decoder = await LeanGpuDecoder.create(model, device, opts.shared);
    const d = device;
    const rt: Runtime = {
      backend: 'webgpu',
      kind: 'lean',
      loadMs: 0,
      run: async (feeds) => (await decoder.run(feeds, opts.maxBytes)).data,
      lost: lostMessage(d.lost),
      destroyDevice: async () => d.destroy(),
    };
    const feeds = probeFeeds(decoder.graph, opts.probe);
    const [gpu, cpu] = [await rt.run(feeds), await opts.reference.run(feeds)];
    let worst = gpu.length === cpu.length ? 0 : Infinity;
    for (let k = 0; k < cpu.length && worst <= LEAN_GPU_PROBE_TOLERANCE; k++) worst = Math.max(worst, Math.abs(gpu[k]! - cpu[k]!));
    if (!(worst <= LEAN_GPU_PROBE_TOLERANCE)) throw new Error(`the probe run differs from WASM by ${worst} (more than ${LEAN_GPU_PROBE_TOLERANCE})`);
    rt.loadMs = performance.now() - t0;
    return rt;
  };
  try {
    const hung = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`WebGPU setup and probe run took more than ${LEAN_GPU_SETUP_MS} ms`)), LEAN_GPU_SETUP_MS);
    });
    return await Promise.race([setup(), hung]);
  } catch (e) {
    abandoned = true;
    (device as GpuDevice | null)?.destroy();
    throw new ClientError('runtime', (e as Error).message ?? String(e));
  } finally {
    clearTimeout(timer);
  }
}
