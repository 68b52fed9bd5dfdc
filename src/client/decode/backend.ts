// The decoder runtime and the backend it runs on: created once per page (on the first header,
// or MrtImg.warm()), WebGPU when chosen and working, else WASM; the page hears which, and why
// a backend was left. Both runtimes (lean, ort) fall back to their own WASM build.
import { geometry } from '../../model/io.ts';
import type { SharedWeights } from '../../model/lean/weights.ts';
import { createLeanGpuRuntime, createLeanRuntime, createRuntime, webgpuChoice, type Runtime } from '../runtime.ts';
import type { Backend } from '../types.ts';
import { cfg, send } from './env.ts';
import { graphBytes, graphFile, models, previewSettled, runtimeKind, type Models } from './models.ts';

/**
 * Module memory a lean decoder run may take. The largest image the format allows (16 Mi
 * padded pixels) needs ~821 MB with the shipped model (48.8 bytes per padded pixel of
 * activations, plus 2.9 MB of weights): a run planned above this fails before allocating.
 */
const LEAN_MAX_BYTES = 1 << 30;

/** One runtime per model (by folder): the page's model, and each other model a stream names. */
const runtimes = new Map<string, Promise<Runtime>>();
/** The backend the first session settled on; a later session (after a fallback, or of another model) uses it. */
let settledBackend: Backend | null = null;

/** The runtime of model `model` (default: the page's model), created once. */
export async function runtime(model?: Models): Promise<Runtime> {
  const m = model ?? (await models());
  let p = runtimes.get(m.base);
  if (!p) {
    p = (async () => {
      const graph = graphBytes(m);
      if (runtimeKind(m) === 'lean') return createLean(graphFile(m), await graph, m);
      return createSession(graphFile(m), await graph);
    })();
    runtimes.set(m.base, p);
  }
  return p;
}

/**
 * WASM threads: 'auto' (the default) uses up to 4 of the device's cores when the page is
 * cross-origin isolated (threads need SharedArrayBuffer), else 1. A number above 1 on a page
 * that is not isolated cannot be honoured: 1 thread, and the page is told why.
 */
function wasmThreads(): { n: number; why?: string } {
  const isolated = (self as unknown as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  const want = cfg().wasmThreads ?? 'auto';
  if (want === 'auto') return { n: isolated ? Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1)) : 1 };
  if (want > 1 && !isolated) return { n: 1, why: `wasmThreads ${want} needs a cross-origin isolated page (COOP/COEP headers): using 1 thread` };
  return { n: Math.max(1, Math.floor(want)) };
}

async function createSession(file: string, model: Uint8Array): Promise<Runtime> {
  const first = settledBackend === null;
  let left = '';
  const threads = wasmThreads();
  try {
    const rt = await createRuntime(model, {
      ortBase: cfg().ortBase,
      backend: settledBackend ?? cfg().backend ?? 'auto',
      threads: threads.n,
      integrity: cfg().integrity,
      onFallback: ({ why, skipped }) => (left = skipped ? `webgpu skipped: ${why}` : `webgpu failed (${file}): ${why}`),
    });
    settledBackend ??= rt.backend;
    // WebGPU left for this graph: say why (the page logs it), and use WASM from now on
    if (left) settledBackend = 'wasm';
    const notes = [left, first && rt.backend === 'wasm' && threads.why].filter(Boolean).join('; ');
    return announce(rt, first || !!left, notes);
  } catch (e) {
    send({ type: 'backend', backend: null, error: (e as Error).message });
    throw e;
  }
}

/**
 * Tells the page which backend a new session settled on (and why WebGPU was left), and
 * leaves WebGPU at once when its device is lost: runs on a lost device may never settle
 * (runs racing `lost` fail and are repeated on WASM).
 */
function announce(rt: Runtime, tell: boolean, notes: string): Runtime {
  if (tell) send({ type: 'backend', backend: rt.backend, ...(notes ? { error: notes } : {}) });
  rt.lost?.then((why) => {
    if (runtimes.size && settledBackend === 'webgpu') fallbackToWasm(why).catch(() => undefined);
  });
  return rt;
}

/** The lean runtime on WASM per model: the reference of the WebGPU probe run, and what the page falls back to. */
const leanWasms = new Map<string, Promise<Runtime>>();

function leanWasm(model: Uint8Array, shared: SharedWeights, m: Models): Promise<Runtime> {
  let p = leanWasms.get(m.base);
  if (!p) {
    p = createLeanRuntime(model, { ortBase: cfg().ortBase, integrity: cfg().integrity, maxBytes: LEAN_MAX_BYTES, shared });
    leanWasms.set(m.base, p);
    p.catch(() => leanWasms.delete(m.base));
  }
  return p;
}

/**
 * The lean runtime: on WebGPU (our WGSL kernels) when the page asked for 'webgpu' (any
 * adapter, software ones included) or 'auto' with a hardware adapter (webgpuChoice: the rule
 * of both runtimes), once a probe run has matched WASM; else, and after any failure, on WASM.
 * The page hears which, and why WebGPU was left.
 */
async function createLean(file: string, model: Uint8Array, m: Models): Promise<Runtime> {
  const first = settledBackend === null;
  try {
    const shared = { preview: await previewSettled(m) };
    const wasm = await leanWasm(model, shared, m);
    const asked = settledBackend ?? cfg().backend ?? 'auto';
    let left = '';
    let rt = wasm;
    if (asked !== 'wasm') {
      const choice = await webgpuChoice();
      if (asked === 'auto' && choice.why) left = `webgpu skipped: ${choice.why}`;
      else if (asked === 'webgpu' && !choice.adapter) left = `webgpu failed (${file}): ${choice.why || 'the browser gives no WebGPU adapter'}`;
      if (choice.adapter && (choice.use || asked === 'webgpu')) {
        try {
          const layout = m.files.manifest.layout;
          rt = await createLeanGpuRuntime(model, { adapter: choice.adapter, shared, reference: wasm, probe: geometry(2 * layout.window, layout.window, layout), maxBytes: LEAN_MAX_BYTES });
        } catch (e) {
          left = `webgpu failed (${file}): ${(e as Error).message}`;
        }
      }
    }
    settledBackend = left ? 'wasm' : rt.backend;
    return announce(rt, first || !!left, left);
  } catch (e) {
    send({ type: 'backend', backend: null, error: (e as Error).message });
    throw e;
  }
}

/** Loads the runtime and the decoder graph (on the first header, and MrtImg.warm()). */
export function warmRuntime(): void {
  runtime().catch(() => undefined);
}

/** WebGPU failed at run time: switch the page to WASM (once; every model's runtime) and retry with model `m`'s. */
export async function fallbackToWasm(why: string, m?: Models): Promise<Runtime> {
  if (settledBackend !== 'wasm') {
    settledBackend = 'wasm';
    // the lean runtime's GPU device is ours alone: free it (onnxruntime-web keeps its own)
    for (const p of runtimes.values()) {
      p.then((rt) => (rt.kind === 'lean' && rt.backend === 'webgpu' ? rt.destroyDevice?.() : undefined)).catch(() => undefined);
    }
    runtimes.clear();
    send({ type: 'backend', backend: 'wasm', error: `webgpu failed at run time: ${why}` });
  }
  return runtime(m);
}

/** Destroys the WebGPU devices of the current sessions, if any (tests: a simulated device loss). */
export function loseDevice(): void {
  for (const p of runtimes.values()) {
    p.then(async (rt) => {
      await rt.destroyDevice?.();
    }).catch((e) => console.warn(`[mrt-worker] lose-device: ${(e as Error).message}`));
  }
}
