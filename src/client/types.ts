// Public types of the <mrt-img> client. dist/client/mrt-img.d.ts is generated from this
// file (scripts/build-client.ts), so everything a page author can touch is declared here.

/** Which ONNX Runtime backend decodes tokens to pixels. */
export type Backend = 'webgpu' | 'wasm';

/** Page-wide settings: call `MrtImg.configure()` before the first element loads. */
export interface MrtConfig {
  /** URL prefix (ending in '/') of the runtime files: mrt-kernels.wasm (the lean runtime) and onnxruntime-web's (ort.*.mjs, ort-wasm-*.wasm). Default: next to mrt-img.js. */
  ortBase?: string;
  /**
   * Which runtime runs the decoder network. 'lean' (default): our WASM SIMD kernels
   * (mrt-kernels.wasm, ~30 KB) on the model's int8 lean decoder file, WASM only.
   * 'ort': onnxruntime-web (~14 MB of WASM) on the model's .onnx, with WebGPU when `backend`
   * allows; the reference the lean runtime is tested against.
   */
  runtime?: 'lean' | 'ort';
  /** URL prefix (ending in '/') of manifest.json, decoder.onnx and rcm.json. Default: `models/` next to mrt-img.js. */
  modelBase?: string;
  /** URL of the decode worker. Default: mrt-worker.js next to mrt-img.js. */
  workerUrl?: string;
  /** With `runtime: 'ort'`: 'auto' (default) uses WebGPU on a hardware adapter (software and fallback adapters are skipped, with a console line saying why), else WASM; a lost GPU device repaints on WASM. The lean runtime runs on WASM (a console line says so when 'webgpu' was asked for). */
  backend?: 'auto' | Backend;
  /**
   * WASM threads. 'auto' (default): up to 4 (the device's cores) on a cross-origin isolated
   * page (COOP/COEP headers: threads need SharedArrayBuffer), 1 elsewhere. A number above 1
   * on a page that is not isolated runs 1 thread and says so on the console.
   */
  wasmThreads?: number | 'auto';
  /** Fill tokens that were not received from the prior (default REGENERATE_BY_DEFAULT in src/codec/regenerate.ts; attribute `regenerate="on"` per element). */
  regenerate?: boolean;
  /** Pace every stream read to this many bytes per second (a demo / test throttle; 0 = off). */
  throttle?: number;
  /** false: decode tokens only, never run the ONNX decoder (token prefetch, tests). Default true. */
  paint?: boolean;
  /**
   * Learned paints per image and load: decoder runs (interim ones, made before the tail basis
   * arrived, count too), the last of which is kept for the state the stream ends with, so the
   * image is never left stale: past `maxLearnedPaints - 1` runs, chunks arriving only update
   * the token state, and the end of the stream (its `load`) is painted. A refine starts a new
   * count. Default 10 (MAX_LEARNED_PAINTS_DEFAULT): one per chunk of the encoder's default
   * streams (8-10 chunks). A run of a 768x512 image costs ~100-300 ms of CPU on a desktop core
   * and several times that on a phone: an image-heavy page for phones may want 3-4. At least 1;
   * `Infinity`: no cap.
   */
  maxLearnedPaints?: number;
  /**
   * Whether the visitor asked to save data. 'auto' (default): `navigator.connection.saveData`
   * (Chromium; the `Save-Data: on` request header's value). `true`: the page knows otherwise,
   * e.g. its server saw `Save-Data: on` on the page's request (browsers without
   * navigator.connection): render `MrtImg.configure({ saveData: true })` into the page.
   * `false`: never. Read when the decode worker starts, and by `budget="auto"`.
   */
  saveData?: boolean | 'auto';
  /**
   * What Save-Data means for the learned decoder. 'if-cached' (default): learned paints only
   * when the runtime and decoder files are in the HTTP cache already (a returning visitor's:
   * they are never downloaded under Save-Data); else the images stay at their placeholder (and
   * the token preview, when preview.bin is cached), and the console says so once. 'load':
   * load them as without Save-Data.
   */
  saveDataRuntime?: 'if-cached' | 'load';
  /**
   * Streams with a final layer, when the learned decoder would have to be downloaded first, or
   * the final would come before learned paints could help. 'auto' (default): when its files are
   * known not to be in the HTTP cache (a first visit: caches are per site), when the link the
   * browser reports (navigator.connection: 4g, downlink, RTT) brings a final of the element's
   * size within 400 ms (direct-rule.ts finalSoon), or the device reports under 2 GB of memory,
   * the image paints its placeholder
   * and shows the final layer without the learned chunks: from the edge as two parts
   * (`?part=placeholder`, `?part=final`: no decode worker before them), else with a Range request
   * that skips the learned chunks (a cold visitor pays the header over the plain image); the
   * runtime then loads in the background for later images. 'always': every such image does;
   * 'never': learned paints first, as on a warm visit.
   */
  directFinal?: 'auto' | 'always' | 'never';
  /** Log stream decisions to the console. */
  debug?: boolean;
  /** Name of the query parameter the server uses for a byte budget (default 'bytes'; '' = cut on the client only). */
  budgetParam?: string;
  /**
   * Milliseconds without an answer from the decode worker, while images wait on it, after
   * which it counts as dead: it is replaced and the images it held start over once. Default
   * 30000 (a decoder run at the size limit blocks the worker for seconds); 0 turns the watchdog off.
   */
  workerTimeout?: number;
  /**
   * Digests the page trusts, by file name: `manifest.json` (the model files are checked
   * against the digests it lists) and the runtime's files (`mrt-kernels.wasm`; with
   * `runtime: 'ort'` `ort.wasm.min.mjs`, `ort-wasm-simd-threaded.mjs` and
   * `ort-wasm-simd-threaded.wasm`, and for WebGPU `ort.webgpu.min.mjs`,
   * `ort-wasm-simd-threaded.asyncify.mjs` and `ort-wasm-simd-threaded.asyncify.wasm`), as SRI values (`'sha256-<base64>'`,
   * sha384/sha512, several separated by spaces) or 64 hex digits. Files of the build the worker
   * came from are pinned already (their content-hashed names); set these for another model
   * folder or a CDN copy of the runtime. A file with no digest is not checked (the console says so).
   */
  integrity?: Record<string, string>;
}

/** Detail of the `progress` event, fired after every chunk the decoder accepted. */
export interface MrtProgressDetail {
  /** Bytes of the stream received so far. */
  bytes: number;
  /** Chunks decoded so far. */
  chunks: number;
  /** Stream symbols received so far (tokens; in a 2.8 coarse-first stream also coarse trits; not counting regenerated ones). */
  tokens: number;
  /** Stream symbols in the full image (tokens, plus a coarse-first stream's coarse trits). */
  totalTokens: number;
  /** Length of the whole .mrt, when known. */
  totalBytes: number | null;
}

/**
 * What is on the canvas after a `paint` event: the header's placeholder (no ML), a token
 * `preview` (the decoder's linear path in plain JS, painted while decoder.onnx loads or
 * runs for the first time), the full decoder's `ml` image, or the native `final` layer.
 */
export type PaintKind = 'placeholder' | 'preview' | 'ml' | 'final';

export interface MrtPaintDetail {
  kind: PaintKind;
  bytes: number;
  chunks: number;
  tokens: number;
  /** Milliseconds spent in the ONNX run (ml paints) or in the JS synthesis (preview paints). */
  runMs?: number;
  /** Backend that produced an ml paint. */
  backend?: Backend;
  /**
   * An ml paint made before the tail basis (the linear synthesis of the layers past the
   * split decoder's, about 1 MB) arrived, without those layers' linear part; the full paint
   * of the same tokens follows when it has.
   */
  interim?: boolean;
}

export interface MrtLoadDetail {
  bytes: number;
  chunks: number;
  tokens: number;
  /** True when the whole stream (every chunk, and the final layer if any) is on screen. */
  complete: boolean;
  /**
   * (a budgeted prefix) how the budget was held on the wire: 'server' (the server cut the
   * prefix: `?bytes=`, `?q=` or client hints), 'range' (the server honoured `Range`: no byte
   * past the budget was sent), 'client' (the server ignored both: the element stopped reading
   * at the budget and aborted the response; bytes already in flight moved anyway).
   */
  bound?: 'server' | 'range' | 'client';
}

export interface MrtErrorDetail {
  /** Machine-readable reason: 'corrupt', 'truncated', 'http', 'network', 'model', 'model-hash', 'runtime', 'placeholder'. */
  code: string;
  message: string;
  /** True when the element gave up and shows its <img> fallback. */
  fatal: boolean;
}

/** A byte or quality budget: what part of the stream to fetch first. */
export type BudgetSpec = { bytes: number } | { chunks: number } | null;
