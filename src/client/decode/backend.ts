// The ONNX session and the backend it runs on: created once per page (on the first header,
// or MrtImg.warm()), WebGPU when chosen and working, else WASM; the page hears which, and why
// a backend was left.
import { createRuntime, type Runtime } from '../runtime.ts';
import type { Backend } from '../types.ts';
import { cfg, send } from './env.ts';
import { graphBytes, graphFile, models } from './models.ts';

let runtimeP: Promise<Runtime> | null = null;
/** The backend the first session settled on; a later session (after a fallback) uses it. */
let settledBackend: Backend | null = null;

export function runtime(): Promise<Runtime> {
  runtimeP ??= (async () => {
    const m = await models();
    const graph = graphBytes(m);
    return createSession(graphFile(m), await graph);
  })();
  return runtimeP;
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
  let why = '';
  const threads = wasmThreads();
  try {
    const rt = await createRuntime(model, {
      ortBase: cfg().ortBase,
      backend: settledBackend ?? cfg().backend ?? 'auto',
      threads: threads.n,
      onFallback: (w) => (why = w),
    });
    settledBackend ??= rt.backend;
    // WebGPU given up for this graph: say why (the page logs it), and use WASM from now on
    if (why) settledBackend = 'wasm';
    const notes = [why && `webgpu failed (${file}): ${why}`, first && rt.backend === 'wasm' && threads.why].filter(Boolean).join('; ');
    if (first || why) send({ type: 'backend', backend: rt.backend, ...(notes ? { error: notes } : {}) });
    return rt;
  } catch (e) {
    send({ type: 'backend', backend: null, error: (e as Error).message });
    throw e;
  }
}

/** Loads the runtime and the decoder graph (on the first header, and MrtImg.warm()). */
export function warmRuntime(): void {
  runtime().catch(() => undefined);
}

/** WebGPU failed at run time: switch the page to WASM (once) and retry. */
export async function fallbackToWasm(why: string): Promise<Runtime> {
  if (settledBackend !== 'wasm') {
    settledBackend = 'wasm';
    runtimeP = null;
    send({ type: 'backend', backend: 'wasm', error: `webgpu failed at run time: ${why}` });
  }
  return runtime();
}
