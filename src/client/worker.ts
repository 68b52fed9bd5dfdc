// The decode worker: one per page, shared by every <mrt-img>.
//
// fetch() → ReadableStream reader → (header: native WebP placeholder paint, no ML) →
// shared StreamDecoder (src/codec: parser + entropy decoder + prior) → token buffer →
// regeneration (src/codec) → decoder.onnx in onnxruntime-web (WebGPU, else WASM) →
// ImageBitmap (cropped to the image size) transferred to the element.
// Until the first decoder.onnx paint of an image, every chunk also paints a token preview
// (src/model/preview.ts: the decoder's linear path in JS, a few ms, no runtime needed).
// Models with many layers ship a split decoder instead (manifest.splitDecoder): the graph
// synthesises the first 64 layers' linear path itself and the worker sums the rest from
// tail.bin as chunks arrive (src/model/tail.ts), so a refinement costs the same at every
// prefix length; tail.bin loads when the first token past layer 64 arrives.
//
// One ONNX run at a time for the whole page (RunScheduler); an image's newer token state
// replaces its queued run. Runtime and models load lazily on the first header and once.
import { budgetFor, type BudgetHints } from '../format/budget.ts';
import { MrtFormatError, isCut, modelHashMatches, modelLabel, prefixLength, readFirstPaint, readHeader, type MrtFirstPaint, type MrtHeader, type MrtHeaderInfo } from '../format/index.ts';
import { StreamDecoder, parseRcm, regenerate, tokensToZ, type StreamEvent } from '../codec/index.ts';
import { chwToPixels, coarseMaskOf, geometry, pixelsToChw, type Geometry } from '../model/io.ts';
import { previewPixels, previewSize, type PreviewBasis } from '../model/preview.ts';
import { TailSynthesis, type TailBasis } from '../model/tail.ts';
import type { FromWorker, StartOptions, ToWorker } from './protocol.ts';
import { ClientError, createRuntime, loadDecoder, loadPreview, loadPriorFiles, loadTail, type PriorFiles, type Runtime } from './runtime.ts';
import { RunScheduler } from './scheduler.ts';
import type { Backend, MrtConfig, MrtErrorDetail, PaintKind } from './types.ts';

/** Images up to this many pixels get a full-resolution token preview, larger ones half. */
const PREVIEW_FULL_MAX_PIXELS = 256 * 256;

type Cfg = MrtConfig & { ortBase: string; modelBase: string };

const scope = self as unknown as {
  postMessage(m: FromWorker, transfer?: Transferable[]): void;
  onmessage: ((ev: MessageEvent<ToWorker>) => void) | null;
};

let cfg: Cfg = { ortBase: './', modelBase: './models/' };
const jobs = new Map<number, Job>();
const scheduler = new RunScheduler();

function send(m: FromWorker, transfer: Transferable[] = []): void {
  scope.postMessage(m, transfer);
}

// ------------------------------------------------------------------ models + runtime

interface Models {
  files: PriorFiles;
  rcm: ReturnType<typeof parseRcm> | null;
}
let modelsP: Promise<Models> | null = null;
let loadedModels: Models | null = null;

let preview: PreviewBasis | null = null;

/** Manifest + RCM weights: all that token decoding needs (small, loaded first). */
function models(): Promise<Models> {
  modelsP ??= loadPriorFiles(cfg.modelBase).then((files) => {
    loadedModels = { files, rcm: files.rcmJson ? parseRcm(files.rcmJson) : null };
    startPreview(files);
    return loadedModels;
  });
  return modelsP;
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

/** preview.bin loads beside the rest; once here, images without a decoder paint get one. */
function startPreview(files: PriorFiles): void {
  if (cfg.paint === false) return;
  loadPreview(cfg.modelBase, files.manifest).then(
    (p) => {
      if (p) warmPreview(p, files.manifest.layout.baseFactor);
      preview = p;
      if (p) for (const j of jobs.values()) j.paintPreview();
    },
    // Not fatal (decoder.onnx paints the same tokens) but never silent: a broken preview.bin
    // means a broken deployment.
    (e) => console.warn(`[mrt-worker] no token preview: ${(e as Error).message}`),
  );
}

/**
 * The decoder graph: the manifest's split decoder when it has one (models with more than
 * 64 layers: the linear synthesis of later tokens is summed here, src/model/tail.ts, from
 * the tail basis, loaded when the first such token arrives), else decoder.onnx.
 */
let runtimeP: Promise<Runtime> | null = null;
let graphP: Promise<Uint8Array> | null = null;
let tailP: Promise<TailBasis> | null = null;
/** The backend the first session settled on; a later session (after a fallback) uses it. */
let settledBackend: Backend | null = null;

function graphFile(m: Models): string {
  return m.files.manifest.splitDecoder?.file ?? 'decoder.onnx';
}

function runtime(): Promise<Runtime> {
  runtimeP ??= (async () => {
    const m = await models();
    graphP ??= loadDecoder(cfg.modelBase, m.files, graphFile(m));
    return createSession(graphFile(m), await graphP);
  })();
  return runtimeP;
}

function tailBasis(m: Models): Promise<TailBasis> {
  tailP ??= loadTail(cfg.modelBase, m.files.manifest);
  return tailP;
}

/**
 * WASM threads: 'auto' (the default) uses up to 4 of the device's cores when the page is
 * cross-origin isolated (threads need SharedArrayBuffer), else 1. A number above 1 on a page
 * that is not isolated cannot be honoured: 1 thread, and the page is told why.
 */
function wasmThreads(): { n: number; why?: string } {
  const isolated = (self as unknown as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  const want = cfg.wasmThreads ?? 'auto';
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
      ortBase: cfg.ortBase,
      backend: settledBackend ?? cfg.backend ?? 'auto',
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
function warmRuntime(): void {
  runtime().catch(() => undefined);
}

/** WebGPU failed at run time: switch the page to WASM (once) and retry. */
async function fallbackToWasm(why: string): Promise<Runtime> {
  if (settledBackend !== 'wasm') {
    settledBackend = 'wasm';
    runtimeP = null;
    send({ type: 'backend', backend: 'wasm', error: `webgpu failed at run time: ${why}` });
  }
  return runtime();
}

// ------------------------------------------------------------------ helpers

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function errDetail(e: unknown, fatal: boolean): MrtErrorDetail {
  if (e instanceof ClientError) return { code: e.code, message: e.message, fatal };
  if (e instanceof MrtFormatError) {
    const code = e.code === 'truncated' ? 'truncated' : 'corrupt';
    return { code, message: `${e.code}: ${e.message}`, fatal };
  }
  const msg = e instanceof Error ? e.message : String(e);
  return { code: 'runtime', message: msg, fatal };
}

// ------------------------------------------------------------------ one image

class Job {
  readonly abort = new AbortController();
  /** Every byte received so far (needed until the decoder exists, and for Range restarts). */
  private buf: Uint8Array = new Uint8Array(0);
  received = 0;
  info: MrtHeaderInfo | null = null;
  header: MrtHeader | null = null;
  g: Geometry | null = null;
  base: Float32Array | null = null;
  /** The split decoder's tail input, summed as tokens arrive (or zeros before any does). */
  private tail: TailSynthesis | null = null;
  private zeroTail: Float32Array | null = null;
  sd: StreamDecoder | null = null;
  limit = Infinity;
  /** Cut on the client: the prefix ends at `limit` (prefixLength: a chunk boundary, or anywhere in a raw chunk). */
  cut = false;
  chunks = 0;
  known = 0;
  painted: { known: number; kind: PaintKind } | null = null;
  finalShown = false;
  dead = false;
  /** An error event was sent. */
  reported = false;
  /** The stream decoder stopped on an error (reported once the best image is painted). */
  streamError = false;
  private running: Promise<void> | null = null;
  private runWaiters: (() => void)[] = [];
  private pendingRun = false;
  private firstChunkAt = 0;

  constructor(readonly id: number, readonly opts: StartOptions) {}

  private prio(): number {
    return this.opts.priority === 'high' ? 2 : this.opts.priority === 'low' ? 0 : 1;
  }

  cancel(): void {
    this.dead = true;
    this.abort.abort();
    scheduler.cancel(this.id);
  }

  fail(detail: MrtErrorDetail): void {
    if (this.dead) return;
    if (this.reported && !detail.fatal) return;
    this.reported = true;
    send({ type: 'error', id: this.id, detail });
    if (detail.fatal) this.cancel();
  }

  // -------------------------------------------------------------- network

  async run(): Promise<void> {
    try {
      await this.fetchStream(0);
    } catch (e) {
      if (this.dead) return;
      this.fail(errDetail(e, !this.painted));
    }
  }

  async refine(): Promise<void> {
    if (this.dead || this.reported || this.streamError || !this.cut || !this.info) return;
    this.cut = false;
    this.limit = Infinity;
    send({ type: 'partial', id: this.id, partial: false });
    try {
      await this.fetchStream(this.received);
    } catch (e) {
      if (!this.dead) this.fail(errDetail(e, false));
    }
  }

  private requestUrl(from: number): string {
    const b = this.opts.budget;
    const param = cfg.budgetParam ?? 'bytes';
    if (!param) return this.opts.url;
    const u = new URL(this.opts.url);
    if (from > 0) {
      // Refine: ask for the whole stream explicitly, so that a server applying client
      // hints does not cut the Range again.
      if (!this.info) return this.opts.url;
      u.searchParams.set(param, String(this.info.totalLength));
      return u.href;
    }
    if (!b || 'hints' in b) return this.opts.url;
    if ('bytes' in b) u.searchParams.set(param, String(b.bytes));
    else u.searchParams.set('q', String(b.chunks));
    return u.href;
  }

  private async fetchStream(from: number): Promise<void> {
    const url = this.requestUrl(from);
    const init: RequestInit & { priority?: string } = { signal: this.abort.signal };
    if (this.opts.priority !== 'auto') init.priority = this.opts.priority;
    if (from > 0) init.headers = { Range: `bytes=${from}-` };
    let res: Response;
    try {
      res = await fetch(url, init);
    } catch (e) {
      throw new ClientError('network', `fetch ${url} failed: ${(e as Error).message}`);
    }
    if (!res.ok || !res.body) throw new ClientError('http', `fetch ${url}: HTTP ${res.status}`);
    // A server that ignores Range sends everything again: skip what we have.
    let skip = from > 0 && res.status === 200 ? from : 0;
    // The edge says when it served a prefix on purpose (explicit budget or client hints).
    const served = Number(res.headers.get('x-mrt-bytes'));
    const total = Number(res.headers.get('x-mrt-total-length'));
    const budgeted = (from === 0 && url !== this.opts.url) || (served > 0 && total > 0 && served < total);
    const reader = res.body.getReader();
    const throttle = this.opts.throttle > 0 ? this.opts.throttle : 0;
    let stopped = false;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done || this.dead) break;
        let v = value;
        if (skip > 0) {
          const n = Math.min(skip, v.length);
          skip -= n;
          v = v.subarray(n);
        }
        // Throttle: slices of 1/20 s worth of bytes, paced.
        const slice = throttle ? Math.max(64, Math.floor(throttle / 20)) : v.length;
        for (let o = 0; o < v.length && !this.dead; o += slice) {
          const part = v.subarray(o, Math.min(v.length, o + slice));
          if (throttle) await sleep((part.length / throttle) * 1000);
          if (!(await this.feed(part))) {
            stopped = true;
            break;
          }
        }
        if (stopped) break;
      }
    } finally {
      if (stopped || this.dead) reader.cancel().catch(() => undefined);
    }
    if (this.dead) return;
    if (cfg.debug) console.log(`[mrt] stream end id=${this.id} stopped=${stopped} budgeted=${budgeted} received=${this.received} limit=${this.limit} cut=${this.cut}`);
    // a response that stops short of the prefix the edge announced was truncated on the way
    await this.finishStream(stopped, budgeted && !(served > 0 && this.received < served));
  }

  /** Feeds bytes; false when the job should stop reading (budget reached or stream error). */
  private async feed(bytes: Uint8Array): Promise<boolean> {
    if (this.reported || this.streamError) return false;
    if (this.received + bytes.length > this.limit) bytes = bytes.subarray(0, Math.max(0, this.limit - this.received));
    this.received += bytes.length;
    if (this.sd) {
      this.push(bytes);
    } else {
      this.buf = concat(this.buf, bytes);
      if (!this.info) await this.tryHeader();
      if (this.info && !this.sd) await this.maybeStartDecoder();
    }
    if (this.reported || this.streamError) return false;
    if (this.received >= this.limit) {
      this.cut = true;
      return false;
    }
    return true;
  }

  /** The Header message (size + placeholder): the first paint, before the Index arrives. */
  first: MrtFirstPaint | null = null;

  private async tryHeader(): Promise<void> {
    if (!this.first) {
      try {
        this.first = readFirstPaint(this.buf);
      } catch (e) {
        if (e instanceof MrtFormatError && e.code === 'need-more') return;
        throw e;
      }
      const f = this.first;
      send({ type: 'header', id: this.id, info: { width: f.width, height: f.height, totalBytes: null, totalTokens: 0, chunkCount: 0 } });
      // The placeholder paints natively first; the ML runtime and models load only after
      // it (once per page), so the first paint never waits for (or pays for) ML bytes.
      await this.paintPlaceholder(f);
      models().catch(() => undefined);
      if (cfg.paint !== false) warmRuntime();
    }
    let info: MrtHeaderInfo;
    try {
      info = readHeader(this.buf);
    } catch (e) {
      if (e instanceof MrtFormatError && e.code === 'need-more') return;
      throw e;
    }
    this.info = info;
    this.header = info.header;
    const h = info.header;
    this.g = geometry(h.width, h.height, { window: h.layout.window, baseFactor: h.layout.baseFactor });
    send({
      type: 'header',
      id: this.id,
      info: { width: h.width, height: h.height, totalBytes: info.totalLength, totalTokens: h.totalTokens, chunkCount: h.chunks.length },
    });
    this.limit = this.budgetLimit(info);
    // Bytes that arrived in the same read as the header may already go past the budget:
    // keep only the prefix up to the cut (the decoder has not seen any of them yet).
    if (this.buf.length > this.limit) {
      this.buf = this.buf.subarray(0, this.limit);
      this.received = this.limit;
    }
    this.makeBase();
  }

  private budgetLimit(info: MrtHeaderInfo): number {
    const b = this.opts.budget;
    if (!b) return Infinity;
    let bytes: number;
    if ('hints' in b) {
      const minBytes = info.chunkEnds[0] ?? info.headerEnd;
      bytes = budgetFor(b.hints as BudgetHints, { width: info.header.width, height: info.header.height, totalBytes: info.totalLength, minBytes }).bytes;
      if (!Number.isFinite(bytes)) return Infinity;
      return prefixLength(info, { bytes });
    }
    if ('chunks' in b) return prefixLength(info, { chunks: b.chunks });
    return prefixLength(info, { bytes: b.bytes });
  }

  private placeholderError = '';

  /** The decoded placeholder at its own size (the model's `base` is made from it). */
  private phCanvas: OffscreenCanvas | null = null;

  private async paintPlaceholder(first: MrtFirstPaint): Promise<void> {
    const ph = first.placeholder;
    if (!ph) return;
    let bitmap: ImageBitmap;
    try {
      bitmap = await createImageBitmap(new Blob([ph.bytes as Uint8Array<ArrayBuffer>], { type: ph.mime }), {
        colorSpaceConversion: 'none',
        premultiplyAlpha: 'none',
      });
    } catch (e) {
      // Not reported here: tokens still decode; an ML paint without its base reports it.
      this.placeholderError = `cannot decode the ${ph.mime} placeholder: ${(e as Error).message}`;
      return;
    }
    try {
      this.phCanvas = new OffscreenCanvas(bitmap.width, bitmap.height);
      this.phCanvas.getContext('2d', { willReadFrequently: true })!.drawImage(bitmap, 0, 0);
    } catch {
      this.phCanvas = null;
    }
    if (this.dead || this.painted) {
      bitmap.close();
      return;
    }
    this.painted = { known: 0, kind: 'placeholder' };
    // The placeholder covers the padded image: paint only the part over the real image.
    const fx = bitmap.width / first.paddedWidth;
    const fy = bitmap.height / first.paddedHeight;
    send(
      {
        type: 'paint',
        id: this.id,
        bitmap,
        crop: [first.width * fx, first.height * fy],
        detail: { kind: 'placeholder', bytes: this.received, chunks: 0, tokens: 0 },
      },
      [bitmap],
    );
    // Wall-clock time of the placeholder hand-off (bench/client-paint.ts checks that no ML
    // file was requested before it).
    send({ type: 'stats', id: this.id, stats: { placeholderPostedAt: Date.now() } });
  }

  /** The model's `base` input: the placeholder's RGB at (Wp/16, Hp/16), CHW float in [0, 1]. */
  private makeBase(): void {
    const g = this.g;
    if (!g || !this.phCanvas || this.base) return;
    try {
      let src: OffscreenCanvas = this.phCanvas;
      if (src.width !== g.baseW || src.height !== g.baseH) {
        src = new OffscreenCanvas(g.baseW, g.baseH);
        src.getContext('2d')!.drawImage(this.phCanvas, 0, 0, g.baseW, g.baseH);
      }
      const px = src.getContext('2d', { willReadFrequently: true })!.getImageData(0, 0, g.baseW, g.baseH, { colorSpace: 'srgb' }).data;
      this.base = pixelsToChw(px, g.baseW, g.baseH, 4);
    } catch (e) {
      this.placeholderError = `cannot read the placeholder pixels: ${(e as Error).message}`;
    }
  }

  /** Creates the StreamDecoder once the prior's weights are here and feeds it the buffer. */
  private async maybeStartDecoder(): Promise<void> {
    if (this.sd || this.dead) return;
    const h = this.header!;
    let m: Models | null = null;
    if (h.prior === 'rcm') {
      // The RCM weights come with the models; until they are here, keep buffering.
      if (!loadedModels) {
        if (!this.waitingModels) {
          this.waitingModels = true;
          models()
            .then(
              () => this.maybeStartDecoder().then(() => this.streamDone?.()),
              (e) => {
                this.fail(errDetail(e, true));
                this.streamDone?.();
              },
            )
            .catch((e) => {
              this.fail(errDetail(e, !this.painted));
              this.streamDone?.();
            });
        }
        return;
      }
      m = loadedModels;
      if (h.modelHash.length && !modelHashMatches(h.modelHash, m.files.modelHash)) {
        this.fail({ code: 'model-hash', message: `stream needs model ${modelLabel(h)}, the page's model is ${m.files.manifest.id} (hash differs)`, fatal: true });
        return;
      }
    }
    this.sd = new StreamDecoder({ rcm: m?.rcm ?? null, modelHash: m?.files.modelHash });
    const b = this.buf;
    this.buf = new Uint8Array(0);
    this.push(b);
  }

  private waitingModels = false;
  /** Set while finishStream waits for a decoder that starts late (models still loading). */
  private streamDone: (() => void) | null = null;

  /** The decoder's error, once it stopped (the best image before it stays painted). */
  decodeError: MrtFormatError | null = null;
  /** The decoder saw everything the header announces. */
  sawEnd = false;

  private push(bytes: Uint8Array, end = false): void {
    const sd = this.sd!;
    const before = sd.known;
    this.handle(end ? sd.end() : sd.push(bytes));
    if (sd.known !== before) this.onChunks();
  }

  private handle(events: StreamEvent[]): void {
    for (const ev of events) {
      if (ev.type === 'error') {
        this.decodeError = ev.error;
        this.streamError = true;
      } else if (ev.type === 'final' && !this.finalShown) {
        void this.showFinal(ev.mime, ev.bytes);
      } else if (ev.type === 'end') {
        this.sawEnd = true;
      }
    }
  }

  private onChunks(): void {
    const sd = this.sd!;
    if (!this.firstChunkAt) this.firstChunkAt = performance.now();
    this.chunks = sd.chunks;
    this.known = sd.known;
    send({
      type: 'progress',
      id: this.id,
      detail: {
        bytes: this.received,
        chunks: sd.chunks,
        tokens: sd.known,
        totalTokens: this.header!.totalTokens,
        totalBytes: this.info?.totalLength ?? null,
      },
    });
    this.paintPreview();
    this.requestPaint();
  }

  // -------------------------------------------------------------- token preview

  /** A preview of `known` tokens is not worth painting: the decoder (or a newer preview) has painted. */
  private previewSuperseded(known: number): boolean {
    const p = this.painted;
    return this.dead || this.finalShown || p?.kind === 'ml' || p?.kind === 'final' || (p?.kind === 'preview' && p.known >= known);
  }

  /** Paints the preview of the current tokens unless decoder.onnx has painted this image. */
  paintPreview(): void {
    const sd = this.sd;
    if (!preview || !sd?.layout || !this.base || cfg.paint === false) return;
    const known = sd.known;
    // with no tokens the preview is only a bilinear upscale: the placeholder paint is as good
    if (known === 0 || this.previewSuperseded(known)) return;
    const g = this.g!;
    const t0 = performance.now();
    const { z } = tokensToZ(sd.layout, sd.tokens, known);
    // large images preview at half resolution (a quarter of the work; the canvas scales it)
    const scale = g.width * g.height > PREVIEW_FULL_MAX_PIXELS ? 2 : 1;
    const px = previewPixels(preview, g, sd.layout.tokensPerWindow, z, this.base, scale);
    const size = previewSize(g, scale);
    const runMs = performance.now() - t0;
    const detail = { kind: 'preview' as const, bytes: this.received, chunks: sd.chunks, tokens: known, runMs };
    createImageBitmap(new ImageData(px as Uint8ClampedArray<ArrayBuffer>, size.width, size.height)).then(
      (bitmap) => {
        // An ML paint (or a newer preview) may have landed while the bitmap was made.
        if (this.previewSuperseded(known)) {
          bitmap.close();
          return;
        }
        this.painted = { known, kind: 'preview' };
        send({ type: 'paint', id: this.id, bitmap, detail }, [bitmap]);
        send({ type: 'stats', id: this.id, stats: { previewMs: runMs, sinceFirstChunkMs: performance.now() - this.firstChunkAt, known, kind: 'preview' } });
      },
      () => undefined, // display only: the decoder.onnx paint follows
    );
  }

  // -------------------------------------------------------------- ML paint

  private requestPaint(): void {
    if (this.finalShown || this.dead || cfg.paint === false) return;
    this.pendingRun = true;
    scheduler.request({ id: this.id, priority: this.prio(), run: () => this.paintTokens() });
  }

  /** Resolves when no ML run of this image is queued or running. */
  private drained(): Promise<void> {
    if (!this.pendingRun && !this.running) return Promise.resolve();
    return new Promise((r) => this.runWaiters.push(r));
  }

  private settle(): void {
    if (!this.pendingRun && !this.running) for (const w of this.runWaiters.splice(0)) w();
  }

  private async paintTokens(): Promise<void> {
    this.pendingRun = false;
    const p = this.doPaint();
    this.running = p;
    try {
      await p;
    } finally {
      this.running = null;
      this.settle();
    }
  }

  private async doPaint(): Promise<void> {
    if (this.dead || this.finalShown || !this.sd) return;
    const sd = this.sd;
    if (this.painted?.kind === 'ml' && this.painted.known === sd.known) return;
    let rt: Runtime;
    let m: Models;
    let tb: TailBasis | null = null;
    const g = this.g!;
    const cells = g.gridW * g.gridH;
    try {
      m = await models();
      rt = await runtime();
      if (this.dead || this.finalShown) return;
      // Split decoder: the tail basis is needed once a token past the split is non-zero,
      // received or (when the RCM covers layers past the split) regenerated.
      const split = m.files.manifest.splitDecoder;
      if (split && (sd.progress.exact > split.layers * cells || (this.opts.regenerate && !!m.rcm && m.rcm.T > split.layers))) {
        tb = await tailBasis(m);
        if (this.dead || this.finalShown) return;
      }
    } catch (e) {
      this.fail(errDetail(e, true));
      return;
    }
    // read after the waits: on a cold page the runtime takes seconds to load, and every
    // chunk that arrived meanwhile belongs in this paint
    const known = sd.known;
    if (this.painted?.kind === 'ml' && this.painted.known === known) return;
    if (!this.base) {
      this.fail({ code: 'placeholder', message: this.placeholderError || 'the stream has no placeholder (the model base)', fatal: !this.painted });
      return;
    }
    const layout = sd.layout!;
    const T = layout.tokensPerWindow;
    const t0 = performance.now();
    const { z, mask } =
      this.opts.regenerate && m.rcm
        ? regenerate(layout, m.rcm, sd.tokens, known, coarseMaskOf(m.files.manifest))
        : tokensToZ(layout, sd.tokens, known, coarseMaskOf(m.files.manifest));
    let tail: Float32Array | null = null;
    if (tb) {
      this.tail ??= new TailSynthesis(tb, cells);
      tail = this.tail.update(z);
    } else if (m.files.manifest.splitDecoder) {
      tail = this.zeroTail ??= new Float32Array(3 * layout.window * layout.window * cells);
    }
    const tRegen = performance.now() - t0;
    let out: Float32Array;
    const runOnce = async (r: Runtime) => {
      const { Tensor } = r.ort;
      const res = await r.session.run({
        z: new Tensor('float32', z, [1, T, g.gridH, g.gridW]),
        mask: new Tensor('float32', mask, [1, T, g.gridH, g.gridW]),
        base: new Tensor('float32', this.base!, [1, 3, g.baseH, g.baseW]),
        ...(tail ? { tail: new Tensor('float32', tail, [1, tail.length / cells, g.gridH, g.gridW]) } : {}),
      });
      const img = res.image;
      const data = (await img.getData()) as Float32Array;
      img.dispose?.();
      return data;
    };
    const t1 = performance.now();
    try {
      out = await runOnce(rt);
    } catch (e) {
      if (rt.backend !== 'webgpu') {
        this.fail({ code: 'runtime', message: `decoder run failed: ${(e as Error).message}`, fatal: !this.painted });
        return;
      }
      try {
        rt = await fallbackToWasm((e as Error).message);
        out = await runOnce(rt);
      } catch (e2) {
        this.fail({ code: 'runtime', message: `decoder run failed: ${(e2 as Error).message}`, fatal: !this.painted });
        return;
      }
    }
    const runMs = performance.now() - t1;
    if (this.dead || this.finalShown) return;
    const px = chwToPixels(out, g.paddedW, g.paddedH, g.width, g.height, 4);
    const bitmap = await createImageBitmap(new ImageData(px as Uint8ClampedArray<ArrayBuffer>, g.width, g.height));
    if (this.dead || this.finalShown) {
      bitmap.close();
      return;
    }
    this.painted = { known, kind: 'ml' };
    send(
      {
        type: 'paint',
        id: this.id,
        bitmap,
        detail: { kind: 'ml', bytes: this.received, chunks: sd.chunks, tokens: known, runMs, backend: rt.backend as Backend },
      },
      [bitmap],
    );
    send({
      type: 'stats',
      id: this.id,
      stats: { regenMs: tRegen, runMs, totalMs: performance.now() - t0, sinceFirstChunkMs: performance.now() - this.firstChunkAt, known },
    });
  }

  private async showFinal(mime: string, bytes: Uint8Array): Promise<void> {
    this.finalShown = true;
    scheduler.cancel(this.id);
    this.pendingRun = false;
    this.settle();
    try {
      const bitmap = await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: mime }), { colorSpaceConversion: 'none' });
      if (this.dead) return bitmap.close();
      this.painted = { known: this.known, kind: 'final' };
      send({ type: 'paint', id: this.id, bitmap, detail: { kind: 'final', bytes: this.received, chunks: this.chunks, tokens: this.known } }, [bitmap]);
    } catch (e) {
      // A final layer the browser cannot decode (e.g. AVIF without support): keep the token image.
      this.finalShown = false;
      this.requestPaint();
    }
  }

  // -------------------------------------------------------------- end of a response

  private async finishStream(cutByBudget: boolean, budgeted: boolean): Promise<void> {
    if (this.reported) return;
    if (this.streamError) return this.reportAfterDrain();
    if (!this.info) {
      // Not even a header: nothing to paint.
      if (this.buf.length === 0 && this.received === 0) throw new ClientError('truncated', 'empty response');
      try {
        readHeader(this.buf);
      } catch (e) {
        if (e instanceof MrtFormatError && e.code === 'need-more') throw new ClientError('truncated', `stream ended inside the header (${this.received} bytes)`);
        throw e;
      }
    }
    if (!this.sd) {
      // Waiting for the models: finish when the decoder has caught up.
      await new Promise<void>((r) => (this.streamDone = r));
      if (this.dead || this.reported) return;
    }
    const info = this.info!;
    const atBoundary = isCut(info, this.received); // (the final layer's end is the stream's end)
    const partial = this.received < info.totalLength && atBoundary && (cutByBudget || budgeted || this.cut);
    if (partial) {
      this.cut = true;
      send({ type: 'partial', id: this.id, partial: true });
    } else {
      this.push(new Uint8Array(0), true);
    }
    await this.reportAfterDrain();
  }

  /** After the last paint of this state: one `error` (best image painted) or one `load`. */
  private async reportAfterDrain(): Promise<void> {
    // Whether this state is the whole stream is decided now: a refine may start while the
    // last paint drains (the element schedules it on 'partial') and clear `cut`.
    // The same goes for the counts: a refine that starts during the drain adds to them.
    const complete = !this.cut;
    const at = { bytes: this.received, chunks: this.sd?.chunks ?? 0, tokens: this.sd?.known ?? 0 };
    if (this.sd && !this.finalShown && !(this.painted?.kind === 'ml' && this.painted.known === this.sd.known) && this.painted?.kind !== 'final') this.requestPaint();
    await this.drained();
    if (this.dead) return;
    if (this.reported) return;
    if (this.streamError) {
      this.fail(errDetail(this.decodeError ?? new ClientError('corrupt', 'stream error'), !this.painted));
      return;
    }
    send({ type: 'load', id: this.id, detail: { ...at, complete } });
  }

  tokens(): { tokens: Uint8Array | null; known: number } {
    if (!this.sd) return { tokens: null, known: 0 };
    // the tokens the symbols tell (2.8: those known only by their coarse trit hold 3c + 1)
    return { tokens: this.sd.tokens.slice(0, this.sd.progress.coarse), known: this.sd.known };
  }
}

// ------------------------------------------------------------------ messages

scope.onmessage = (ev: MessageEvent<ToWorker>) => {
  const m = ev.data;
  switch (m.type) {
    case 'config':
      cfg = { ...cfg, ...m.config };
      break;
    case 'warm':
      warmRuntime();
      break;
    case 'start': {
      jobs.get(m.id)?.cancel();
      const job = new Job(m.id, m.opts);
      jobs.set(m.id, job);
      job.run();
      break;
    }
    case 'refine':
      jobs.get(m.id)?.refine();
      break;
    case 'cancel':
      jobs.get(m.id)?.cancel();
      jobs.delete(m.id);
      break;
    case 'tokens': {
      const r = jobs.get(m.id)?.tokens() ?? { tokens: null, known: 0 };
      send({ type: 'tokens', id: m.id, req: m.req, tokens: r.tokens, known: r.known }, r.tokens ? [r.tokens.buffer] : []);
      break;
    }
  }
};

self.addEventListener('unhandledrejection', (ev) => {
  // Every promise above handles its errors; this is a last line so that none escapes to
  // the page. Logged, so that a bug here stays visible (the browser tests watch for it).
  const e = ev as PromiseRejectionEvent;
  e.preventDefault();
  console.error(`[mrt-worker] unhandled rejection: ${(e.reason as Error)?.message ?? e.reason}`);
});
