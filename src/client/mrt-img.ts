// <mrt-img>: a drop-in for <img> that paints an MRT stream progressively.
//
//   <script type="module" src="/mrt-img.js"></script>
//   <mrt-img src="/i/kodim01.mrt" width="768" height="512" alt="…" loading="lazy">
//     <noscript><img src="/i/kodim01.jpg" width="768" height="512" alt="…"></noscript>
//   </mrt-img>
//
// All decoding happens in one shared worker (mrt-worker.js); this file only manages the
// box, the canvas, visibility and events. The <noscript> image (or a light-DOM <img>) is the
// no-JS fallback, and what the element shows after a fatal error.
import { hintsFromNavigator } from '../format/budget.ts';
import { REGENERATE_BY_DEFAULT } from '../codec/regenerate.ts';
import { fullSizeProblem, imageSizeProblem } from '../format/limits.ts';
import { MAX_LEARNED_PAINTS_DEFAULT, type FromWorker, type HeaderInfo, type StartOptions, type ToWorker } from './protocol.ts';
import { WorkerSupervisor } from './supervisor.ts';
import { directWanted } from './direct-rule.ts';
import { bodyBytes, fetchPlaceholder, preloaded, workerScriptCached, type PlaceholderPart } from './first-visit.ts';
import { partUrl } from '../format/parts.ts';
import type {
  BudgetSpec,
  MrtConfig,
  MrtErrorDetail,
  MrtLoadDetail,
  MrtPaintDetail,
  MrtProgressDetail,
} from './types.ts';

export type { MrtConfig, MrtErrorDetail, MrtLoadDetail, MrtPaintDetail, MrtProgressDetail, BudgetSpec };

const here = new URL('.', import.meta.url).href;
const config: Required<MrtConfig> = {
  ortBase: here,
  modelBase: here + 'models/',
  workerUrl: here + 'mrt-worker.js',
  runtime: 'lean',
  backend: 'auto',
  wasmThreads: 'auto',
  regenerate: REGENERATE_BY_DEFAULT,
  throttle: 0,
  budgetParam: 'bytes',
  paint: true,
  debug: false,
  maxLearnedPaints: MAX_LEARNED_PAINTS_DEFAULT,
  saveData: 'auto',
  saveDataRuntime: 'if-cached',
  directFinal: 'auto',
  workerTimeout: 30_000,
  integrity: {},
};

// ---------------------------------------------------------------- the shared worker

let nextId = 1;
const elements = new Map<number, MrtImg>();
const tokenRequests = new Map<number, (v: { tokens: Uint8Array | null; known: number }) => void>();
let lastBackend: string | null = null;
/** The worker said which backend decodes, or that none will (a failed runtime; Save-Data without it cached). */
let backendKnown = false;
const backendWaiters: ((b: string | null) => void)[] = [];

function abs(u: string): string {
  return new URL(u, document.baseURI).href;
}

type Connection = { saveData?: boolean; effectiveType?: string; downlink?: number; rtt?: number };

function connection(): Connection | undefined {
  return (navigator as unknown as { connection?: Connection }).connection;
}

/** MrtConfig.saveData resolved: the page's setting, else navigator.connection.saveData. */
function saveData(): boolean {
  return config.saveData === 'auto' ? connection()?.saveData === true : config.saveData === true;
}

function configMessage(): ToWorker {
  return {
    type: 'config',
    config: { ...config, ortBase: abs(config.ortBase), modelBase: abs(config.modelBase), saveData: saveData() },
    ...(gate ? { gate } : {}),
  };
}

// ---------------------------------------------------------------- when the runtime may load

/**
 * Why the runtime may load ('fcp', 'idle', 'warm'), null until then. The placeholder, token
 * decoding and the token preview never wait for this; the learned decoder's runtime and graph
 * download and compile only after the page's first contentful paint (or idle time, for a page
 * that paints nothing contentful), so they never compete with it (decode/gate.ts).
 */
let gate: string | null = null;
/** The latest the gate opens after the page's first rendered frame (a page that is never idle, or paints nothing). */
const GATE_IDLE_TIMEOUT_MS = 2000;
/** Where there is no requestIdleCallback (Safari): polled this often instead. */
const GATE_NO_IDLE_CALLBACK_MS = 300;

function openGate(why: string): void {
  if (gate) return;
  gate = why;
  // a worker that starts later gets it with its settings
  if (supervisor.running) post({ type: 'open-gate', why });
}

function armGate(): void {
  try {
    // buffered: a page that imports the element after its first paint opens the gate at once
    const po = new PerformanceObserver((list) => {
      if (!list.getEntriesByName('first-contentful-paint').length) return;
      po.disconnect();
      openGate('fcp');
    });
    po.observe({ type: 'paint', buffered: true });
  } catch {
    /* no paint timing: the idle path below */
  }
  // A page with nothing contentful never has an FCP: idle once its first frame is on screen
  // (a `first-paint` entry, which the browser reports with FCP when there is one), or at the
  // latest GATE_IDLE_TIMEOUT_MS after that frame was rendered (a blank page reports no paint,
  // and not every browser reports first-paint). Only after a rendered frame: a page still held by its
  // render-blocking resources does not count as idle, and a hidden page, which renders no
  // frame, waits until it is shown.
  requestAnimationFrame(() => {
    const until = performance.now() + GATE_IDLE_TIMEOUT_MS;
    const ric = (window as unknown as { requestIdleCallback?: (cb: () => void, o: { timeout: number }) => number }).requestIdleCallback;
    const later = (delay: number) => {
      if (typeof ric === 'function') setTimeout(() => ric.call(window, idle, { timeout: Math.max(1, until - performance.now()) }), delay);
      else setTimeout(idle, Math.max(delay, GATE_NO_IDLE_CALLBACK_MS));
    };
    const idle = () => {
      if (gate) return;
      if (performance.getEntriesByName('first-paint').length || performance.now() >= until) openGate('idle');
      else later(50);
    };
    later(0);
  });
}

const supervisor = new WorkerSupervisor({
  url: () => config.workerUrl,
  config: configMessage,
  onMessage(m) {
    if (m.type === 'backend') {
      // a fallback is never silent: the reason goes to the console
      if (m.error) console.warn(`[mrt-img] ${m.error}${m.backend ? `; decoding on ${m.backend}` : ''}`);
      if (m.note) console.info(`[mrt-img] ${m.note}`);
      lastBackend = m.backend;
      backendKnown = true;
      for (const w of backendWaiters.splice(0)) w(m.backend);
      return;
    }
    if (m.type === 'tokens') {
      tokenRequests.get(m.req)?.({ tokens: m.tokens, known: m.known });
      tokenRequests.delete(m.req);
      return;
    }
    if ('id' in m) elements.get(m.id)?._onWorker(m);
  },
  onLost(why, started) {
    // The worker is terminated; the next message starts a new one. Images waiting on it are
    // restarted there once (a second loss while one decodes: its fallback); finished images
    // keep what they painted.
    const waiting = [...elements.values()].filter((el) => el._waiting);
    console.warn(`[mrt-img] ${why}${waiting.length ? `; ${started ? 'restarting' : 'falling back for'} ${waiting.length} image(s)` : ''}`);
    for (const r of tokenRequests.values()) r({ tokens: null, known: 0 });
    tokenRequests.clear();
    for (const el of [...elements.values()]) el._onWorkerLost(why, started);
  },
  busy: () => [...elements.values()].some((el) => el._waiting),
  timeoutMs: () => config.workerTimeout,
});

function post(m: ToWorker, transfer: Transferable[] = []): void {
  supervisor.post(m, transfer);
}

/** Images on the first-visit path (first-visit.ts) not done yet; the learned decoder loads after them. */
let firstVisitsPending = 0;
let firstVisitShown = false;
let prefetched = false;

function firstVisitDone(shown: boolean): void {
  firstVisitShown ||= shown;
  if (--firstVisitsPending > 0 || !firstVisitShown || prefetched || config.paint === false) return;
  prefetched = true;
  post({ type: 'prefetch' });
}

function parseBudget(v: string | null): BudgetSpec | 'auto' {
  if (v == null || v === '' || v === 'auto') return 'auto';
  if (v === 'full' || v === 'all') return null;
  const q = /^q(\d+)$/i.exec(v);
  if (q) return { chunks: Math.max(1, parseInt(q[1], 10)) };
  const b = /^(\d+(?:\.\d+)?)\s*(k|kb|kib|b)?$/i.exec(v);
  if (b) {
    const unit = (b[2] ?? 'b').toLowerCase();
    return { bytes: Math.max(1, Math.round(parseFloat(b[1]) * (unit === 'b' ? 1 : 1024))) };
  }
  return 'auto';
}

let sheet: CSSStyleSheet | null | undefined;
/**
 * The shadow root's styles as a constructed stylesheet where there are constructed
 * stylesheets: a page whose Content-Security-Policy has no style-src 'unsafe-inline' keeps
 * them (a <style> element in the shadow root would be refused).
 */
function styleSheet(): CSSStyleSheet | null {
  if (sheet === undefined) {
    try {
      sheet = new CSSStyleSheet();
      sheet.replaceSync(STYLE);
    } catch {
      sheet = null;
    }
  }
  return sheet;
}

const STYLE = `
:host { display: inline-block; position: relative; overflow: hidden; contain: content;
  width: var(--mrt-width, auto); aspect-ratio: var(--mrt-aspect, auto); max-width: 100%; vertical-align: baseline; }
:host([hidden]) { display: none; }
canvas, img { display: block; width: 100%; height: 100%; }
:host([data-state="final"]) canvas { display: none; }
slot { display: none; }
:host([data-state="fallback"]) slot { display: contents; }
:host([data-state="fallback"]) canvas, :host([data-state="fallback"]) img { display: none; }
::slotted(img) { display: block; width: 100%; height: 100%; object-fit: cover; }
`;

// ---------------------------------------------------------------- the element

// Server rendering imports this module in Node, where HTMLElement does not exist: the class
// is then defined on an inert base and never registered (customElements is missing too).
const ElementBase: typeof HTMLElement = typeof HTMLElement === 'undefined' ? (class {} as typeof HTMLElement) : HTMLElement;

export class MrtImg extends ElementBase {
  static observedAttributes = ['src', 'width', 'height', 'alt', 'loading', 'budget'];

  /** Page-wide settings (URLs of the runtime, models and worker; backend; throttle). Call before the first load. */
  static configure(c: MrtConfig): void {
    Object.assign(config, c);
    // Settings that only the worker reads are forwarded; URLs of an already-started worker
    // cannot change (a replaced worker starts with the new ones).
    if (supervisor.running) post(configMessage());
  }

  static get config(): Readonly<Required<MrtConfig>> {
    return config;
  }

  /** Resolves with the backend that decodes ('webgpu' | 'wasm'), or null if none could load (or, under Save-Data, none is cached: see saveDataRuntime). */
  static backend(): Promise<string | null> {
    if (backendKnown) return Promise.resolve(lastBackend);
    return new Promise((r) => backendWaiters.push(r));
  }

  /**
   * Starts loading the runtime and model now, before any image needs them and without
   * waiting for the page's first contentful paint (which the elements otherwise do). Under
   * Save-Data the runtime still loads only from the HTTP cache (`saveDataRuntime`).
   */
  static warm(): void {
    gate ??= 'warm';
    post({ type: 'warm' });
  }

  private mrtId = nextId++;
  private canvas: HTMLCanvasElement;
  private ctx: CanvasRenderingContext2D | null = null;
  private io: IntersectionObserver | null = null;
  private started = false;
  private partial = false;
  private inView = false;
  private viewTimer: ReturnType<typeof setTimeout> | null = null;
  private errored = false;
  private header: HeaderInfo | null = null;
  private _progress: MrtProgressDetail | null = null;
  private _paint: MrtPaintDetail | null = null;
  private _complete = false;
  /** @internal Waits on the worker: started or refining, and no load or error yet. */
  _waiting = false;
  /** Restarts after a lost worker since the last load (one is allowed). */
  private lostRestarts = 0;
  /** The worker that held this image's decode state was lost after it loaded: a refine starts over. */
  private orphaned = false;
  /** The final layer shown as an <img> (blob: URL), and the swap in progress (load waits for it). */
  private finalImg: HTMLImageElement | null = null;
  private finalSwap: Promise<unknown> | null = null;
  /** The first-visit path's requests (first-visit.ts), while they run. */
  private firstVisit: AbortController | null = null;

  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    const css = styleSheet();
    if (css && 'adoptedStyleSheets' in root) root.adoptedStyleSheets = [css];
    else {
      const style = document.createElement('style');
      style.textContent = STYLE;
      root.append(style);
    }
    this.canvas = document.createElement('canvas');
    this.canvas.setAttribute('part', 'canvas');
    this.canvas.setAttribute('aria-hidden', 'true');
    root.append(this.canvas, document.createElement('slot'));
    this.addEventListener('click', () => {
      if (this.refineMode !== 'none') this.refine();
    });
  }

  // ------------------------------------------------------------ public properties

  get src(): string {
    return this.getAttribute('src') ?? '';
  }
  set src(v: string) {
    this.setAttribute('src', v);
  }
  get alt(): string {
    return this.getAttribute('alt') ?? '';
  }
  set alt(v: string) {
    this.setAttribute('alt', v);
  }
  /** Intrinsic size from the stream header once known (the image's, also when the learned layer is a downscaled copy), else 0. */
  get naturalWidth(): number {
    return this.header?.imageWidth ?? 0;
  }
  get naturalHeight(): number {
    return this.header?.imageHeight ?? 0;
  }
  /** The URL of the final layer's image once it is shown (a blob: URL, as <img> currentSrc), else ''. */
  get currentSrc(): string {
    return this.finalImg?.currentSrc ?? '';
  }
  /** True once everything fetched so far is painted and the stream ended (like img.complete). */
  get complete(): boolean {
    return this._complete;
  }
  /** The latest progress (bytes, chunks, tokens). */
  get progress(): MrtProgressDetail | null {
    return this._progress;
  }
  get lastPaint(): MrtPaintDetail | null {
    return this._paint;
  }
  /** The final layer's <img> once it is shown (it replaces the canvas), else null. */
  get finalElement(): HTMLImageElement | null {
    return this.finalImg;
  }
  /** The canvas the image is painted on (read-only use). */
  get canvasElement(): HTMLCanvasElement {
    return this.canvas;
  }

  // ------------------------------------------------------------ lifecycle

  private wired = false;

  connectedCallback(): void {
    this.wired = true;
    if (!this.hasAttribute('role')) this.setAttribute('role', 'img');
    this.updateBox();
    this.updateAlt();
    if (!this.started) this.arm();
  }

  disconnectedCallback(): void {
    this.io?.disconnect();
    this.io = null;
    if (this.viewTimer) clearTimeout(this.viewTimer);
    // Keep decoding state while the element is only moved in the DOM; cancel when it stays out.
    queueMicrotask(() => {
      if (!this.isConnected && this.started) {
        if (supervisor.running) post({ type: 'cancel', id: this.mrtId });
        elements.delete(this.mrtId);
        this.started = false;
        this._waiting = false;
        this.stopFirstVisit();
        this.dropFinal();
      }
    });
  }

  attributeChangedCallback(name: string, old: string | null, val: string | null): void {
    if (old === val) return;
    if (name === 'width' || name === 'height') this.updateBox();
    else if (name === 'alt') this.updateAlt();
    else if (name === 'src' && this.wired && this.isConnected) this.restart();
    else if (name === 'loading' && this.wired && this.isConnected && !this.started) this.arm();
  }

  /** Fetches the rest of a budgeted stream (Range request) and keeps refining. */
  refine(): void {
    if (!this.started || !this.partial || this.errored) return;
    this.partial = false;
    if (this.orphaned) {
      // the decode state went with the lost worker: decode the whole stream on the new one
      this.orphaned = false;
      this.restart(null);
      return;
    }
    this._waiting = true;
    post({ type: 'refine', id: this.mrtId });
  }

  /** Test/debug hook: the tokens the worker decoded (token order; 2.8: 3c + 1 for one known by its coarse trit c) and how many stream symbols are known. */
  debugTokens(): Promise<{ tokens: Uint8Array | null; known: number }> {
    const req = nextId++;
    return new Promise((resolve) => {
      tokenRequests.set(req, resolve);
      post({ type: 'tokens', id: this.mrtId, req });
    });
  }

  // ------------------------------------------------------------ internals

  private updateBox(): void {
    const w = parseFloat(this.getAttribute('width') ?? '');
    const h = parseFloat(this.getAttribute('height') ?? '');
    const hw = this.header?.imageWidth;
    const hh = this.header?.imageHeight;
    const aw = w > 0 ? w : hw;
    const ah = h > 0 ? h : hh;
    if (w > 0) this.style.setProperty('--mrt-width', `${w}px`);
    else if (hw) this.style.setProperty('--mrt-width', `${hw}px`);
    if (aw && ah) this.style.setProperty('--mrt-aspect', `${aw} / ${ah}`);
  }

  private updateAlt(): void {
    const alt = this.getAttribute('alt');
    if (alt != null) this.setAttribute('aria-label', alt);
    else this.removeAttribute('aria-label');
  }

  private arm(): void {
    this.io?.disconnect();
    this.io = null;
    if (!this.src) return;
    const lazy = this.getAttribute('loading') === 'lazy';
    // One observer per element: starts lazy loads near the viewport, and times "stays in
    // view" for refine-on-demand.
    this.io = new IntersectionObserver(
      (entries) => {
        const e = entries[entries.length - 1];
        this.inView = e.isIntersecting;
        if (e.isIntersecting && !this.started) this.start();
        this.scheduleRefine();
      },
      { rootMargin: lazy ? '200px' : '0px' },
    );
    this.io.observe(this);
    if (!lazy) this.start();
  }

  /** Starts over (a new src; a lost worker). `budget`: instead of the attribute's (null: the whole stream). */
  private restart(budget?: BudgetSpec): void {
    if (this.started) {
      if (supervisor.running) post({ type: 'cancel', id: this.mrtId });
      elements.delete(this.mrtId);
      this.mrtId = nextId++;
    }
    this.started = false;
    this.partial = false;
    this.errored = false;
    this._waiting = false;
    this.orphaned = false;
    this._complete = false;
    this.header = null;
    this.stopFirstVisit();
    this.dropFinal();
    this.budgetOverride = budget;
    this.removeAttribute('data-state');
    this.arm();
  }

  private budgetOverride: BudgetSpec | undefined = undefined;

  /** @internal The worker was lost (terminated); `started`: it had loaded. */
  _onWorkerLost(why: string, started: boolean): void {
    if (!this._waiting) {
      this.orphaned = true;
      return;
    }
    if (started && this.lostRestarts < 1) {
      this.lostRestarts++;
      this.restart(this.budgetOverride);
      return;
    }
    const message = started ? `the decode worker was lost twice while decoding this image (${why})` : why;
    this._onWorker({ type: 'error', id: this.mrtId, detail: { code: 'runtime', message, fatal: true } });
  }

  private start(): void {
    if (this.started || !this.src) return;
    this.started = true;
    elements.set(this.mrtId, this);
    const attrBudget = this.budgetOverride !== undefined ? this.budgetOverride : parseBudget(this.getAttribute('budget'));
    // Default: the shared budget rule (src/format/budget.ts) on navigator.connection,
    // Save-Data, devicePixelRatio and the rendered width; applied in the worker once the
    // header tells the image size and stream length.
    const rect = this.getBoundingClientRect();
    const conn = connection();
    // MrtConfig.saveData, when the page set it, stands for navigator.connection.saveData
    const hints = config.saveData === 'auto' ? conn : { ...conn, saveData: config.saveData === true };
    const budget: StartOptions['budget'] =
      attrBudget === 'auto'
        ? {
            hints: hintsFromNavigator(
              hints,
              devicePixelRatio,
              rect.width || undefined,
            ),
          }
        : attrBudget;
    const fp = (this.getAttribute('fetchpriority') ?? 'auto').toLowerCase();
    const regenAttr = this.getAttribute('regenerate');
    const throttleAttr = parseFloat(this.getAttribute('throttle') ?? '');
    const opts: StartOptions = {
      url: abs(this.src),
      budget,
      regenerate: regenAttr == null || regenAttr === 'auto' ? config.regenerate : regenAttr !== 'off' && regenAttr !== 'false',
      throttle: throttleAttr >= 0 ? throttleAttr : config.throttle,
      priority: fp === 'high' || fp === 'low' ? fp : 'auto',
      ...(rect.width > 0 && rect.height > 0 ? { box: { width: rect.width, height: rect.height } } : {}),
      // no navigator.connection (Safari, Firefox): the worker measures the stream instead
      ...(attrBudget === 'auto' && !conn ? { measure: true } : {}),
      keepTokens: this.hasAttribute('data-keep-tokens'),
    };
    this.setAttribute('data-state', 'loading');
    if (opts.budget && !('hints' in opts.budget)) this.postStart(opts);
    else void this.startFirstVisit(opts);
  }

  private postStart(opts: StartOptions): void {
    this._waiting = true;
    try {
      const head = opts.head?.body ?? opts.head?.bytes;
      post({ type: 'start', id: this.mrtId, opts }, head ? [head as Transferable] : []);
    } catch (e) {
      // No worker (CSP, old browser): the <img> child it is.
      this._onWorker({ type: 'error', id: this.mrtId, detail: { code: 'runtime', message: `cannot start the decode worker: ${(e as Error).message}`, fatal: true } });
    }
  }

  /**
   * A first visit (first-visit.ts): the placeholder and the final layer as parts, without the
   * worker; else (a warm visit, Save-Data, a server without parts, a stream without a final
   * layer) the worker reads the stream.
   */
  private async startFirstVisit(opts: StartOptions): Promise<void> {
    const id = this.mrtId;
    const ac = new AbortController();
    this.firstVisit = ac;
    // a new src, or the element left the page (stopFirstVisit)
    const stale = () => id !== this.mrtId || ac.signal.aborted;
    firstVisitsPending++;
    let shown = false;
    let painted = false;
    let ph: PlaceholderPart | null = null;
    // (set by startFinal, a closure: typed so that the checks after it are not narrowed to null)
    let early = null as HTMLImageElement | null;
    try {
      // (after a wait: the page's configure() right after the element is defined applies)
      await null;
      if (stale()) return;
      const url = partUrl(opts.url, 'final');
      const wire = () => (ph?.bytes ?? 0) + bodyBytes(url);
      const finalDetail = (): MrtPaintDetail => ({ kind: 'final', bytes: wire(), chunks: 0, tokens: 0 });
      // A final part the page preloads is one the server has (the edge checked it against the
      // stream's header), and its bytes come whatever we do: shown as soon as it is decoded,
      // before the placeholder and on warm visits too (the learned stream would compete with it).
      let finalP: Promise<'shown' | 'failed' | 'stale'> | null = null;
      const startFinal = (mime: string) => {
        if (early || stale()) return;
        early = this.finalImage(url, opts.priority);
        finalP = this.showFinalImage(early, mime, finalDetail);
      };
      if (config.directFinal !== 'never' && opts.direct !== false && preloaded(url)) startFinal(url);
      else {
        const cached = await workerScriptCached(abs(config.workerUrl));
        if (stale()) return;
        if (saveData() || !directWanted(config.directFinal, opts, cached)) return this.postStart(opts);
      }
      let got: Awaited<ReturnType<typeof fetchPlaceholder>> = { head: null };
      try {
        // else, once the placeholder part's headers say the stream has a final: its request goes
        // out before the placeholder is read and decoded (on a slow device, that decode sooner)
        got = await fetchPlaceholder(opts.url, ac.signal, opts.priority, startFinal);
      } catch (e) {
        if (stale()) return;
        console.warn(`[mrt-img] ${opts.url}: the placeholder part could not be shown (${(e as Error).message}); reading the stream instead`);
      }
      if (stale()) return;
      if ('head' in got || !got.part.finalType) {
        // (a preload of a part this server does not have: its image fails, said on the console)
        if (early === this.finalImg) this.dropFinal();
        return this.postStart('head' in got && got.head ? { ...opts, head: got.head } : opts);
      }
      ph = got.part;
      const finalType = got.part.finalType;
      early = null;
      this._onWorker({ type: 'header', id, info: ph.info });
      if (this.errored) return;
      // (a final shown before the header came is checked against it now)
      const fi = this.finalImg;
      if (fi && (fi.naturalWidth !== ph.info.imageWidth || fi.naturalHeight !== ph.info.imageHeight)) {
        console.warn(`[mrt-img] final layer (${url}) not shown: it decoded to ${fi.naturalWidth}x${fi.naturalHeight}, the header says ${ph.info.imageWidth}x${ph.info.imageHeight}; keeping the learned image`);
        this.dropFinal();
        return this.postStart({ ...opts, direct: false });
      }
      if (!this.finalImg) {
        painted = true; // (the paint closes the bitmap)
        this._onWorker({ type: 'paint', id, bitmap: ph.bitmap, crop: ph.crop, detail: { kind: 'placeholder', bytes: ph.bytes, chunks: 0, tokens: 0 } });
      }
      const r = await (finalP ?? this.showFinalImage(this.finalImage(url, opts.priority), finalType, finalDetail));
      if (r === 'stale' || stale()) return;
      // not silent (showFinalImage said why): the learned layer instead
      if (r === 'failed') return this.postStart({ ...opts, direct: false });
      shown = true;
      const bytes = wire();
      this._onWorker({ type: 'progress', id, detail: { bytes, chunks: 0, tokens: 0, totalTokens: 0, totalBytes: ph.info.totalBytes } });
      this._onWorker({ type: 'load', id, detail: { bytes, chunks: 0, tokens: 0, complete: true } });
    } finally {
      if (early && early !== this.finalImg) early.removeAttribute('src');
      if (!painted) ph?.bitmap.close();
      if (this.firstVisit === ac) this.firstVisit = null;
      firstVisitDone(shown);
    }
  }

  private stopFirstVisit(): void {
    this.firstVisit?.abort();
    this.firstVisit = null;
  }

  /** The `refine` attribute: 'auto' (default), 'click', 'none'. */
  private get refineMode(): string {
    return this.getAttribute('refine') ?? 'auto';
  }

  private scheduleRefine(): void {
    if (this.viewTimer) clearTimeout(this.viewTimer);
    this.viewTimer = null;
    if (this.refineMode !== 'auto' || !this.partial || !this.inView) return;
    const delay = parseFloat(this.getAttribute('refine-delay') ?? '') || 1000;
    this.viewTimer = setTimeout(() => {
      this.viewTimer = null;
      if (this.inView) this.refine();
    }, delay);
  }

  private fire<T>(type: string, detail: T): void {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /** @internal The page was zoomed in. */
  _onZoom(): void {
    if (this.inView && this.refineMode !== 'none') this.refine();
  }

  /** @internal Messages from the worker for this element. */
  _onWorker(m: FromWorker): void {
    switch (m.type) {
      case 'header': {
        // the worker's parser applies the size rule already; the canvas is never sized past it
        const tooLarge = imageSizeProblem(m.info.width, m.info.height) ?? fullSizeProblem(m.info.imageWidth, m.info.imageHeight);
        if (tooLarge) {
          if (supervisor.running) post({ type: 'cancel', id: this.mrtId });
          this._onWorker({ type: 'error', id: this.mrtId, detail: { code: 'corrupt', message: `limit: ${tooLarge}`, fatal: true } });
          break;
        }
        this.header = m.info;
        if (this.canvas.width !== m.info.width || this.canvas.height !== m.info.height) {
          this.canvas.width = m.info.width;
          this.canvas.height = m.info.height;
          this.ctx = null;
        }
        this.updateBox();
        break;
      }
      case 'paint': {
        if (this.getAttribute('data-state') === 'fallback') {
          m.bitmap.close();
          break;
        }
        this.ctx ??= this.canvas.getContext('2d');
        const ctx = this.ctx!;
        const w = this.canvas.width;
        const h = this.canvas.height;
        if (m.crop) {
          // The placeholder covers the padded image at 1/16 scale: crop the padding, upscale smoothly.
          ctx.imageSmoothingEnabled = true;
          ctx.imageSmoothingQuality = 'high';
          ctx.drawImage(m.bitmap, 0, 0, m.crop[0], m.crop[1], 0, 0, w, h);
        } else {
          ctx.drawImage(m.bitmap, 0, 0, w, h);
        }
        m.bitmap.close();
        this._paint = m.detail;
        this.setAttribute('data-state', m.detail.kind);
        this.fire('paint', m.detail);
        break;
      }
      case 'final':
        this.showFinal(m);
        break;
      case 'progress':
        this._progress = m.detail;
        this.fire('progress', m.detail);
        break;
      case 'partial':
        this.partial = m.partial;
        this.scheduleRefine();
        break;
      case 'load': {
        // a final layer on its way to the screen is part of the load
        const id = this.mrtId;
        const done = () => {
          if (id !== this.mrtId) return;
          this._waiting = false;
          this.lostRestarts = 0;
          this._complete = true;
          this.fire('load', m.detail);
        };
        if (this.finalSwap) void this.finalSwap.then(done);
        else done();
        break;
      }
      case 'error': {
        if (this.errored && !m.detail.fatal) break;
        const first = !this.errored;
        this.errored = true;
        this.partial = false;
        this._waiting = false;
        if (m.detail.fatal) this.showFallback();
        // Exactly one error event per load.
        if (first) this.fire('error', m.detail);
        break;
      }
      case 'stats':
        this.fire('mrt-stats', m.stats);
        break;
    }
  }

  /** The worker's final layer, as an <img> over a blob: URL; if it cannot be shown, the worker resumes learned paints. */
  private showFinal(m: Extract<FromWorker, { type: 'final' }>): void {
    const id = this.mrtId;
    const url = URL.createObjectURL(new Blob([m.bytes], { type: m.mime }));
    void this.showFinalImage(this.finalImage(url), m.mime, () => m.detail).then((r) => {
      if (r === 'shown') return;
      URL.revokeObjectURL(url);
      if (r === 'failed' && id === this.mrtId) post({ type: 'final-failed', id });
    });
  }

  /**
   * Shows the final layer's <img> once the browser has decoded it and it is the header's image
   * size ('shown'); 'failed' (said on the console: the learned image stays) or 'stale' (the
   * element moved on) otherwise. The load waits for it.
   */
  private showFinalImage(img: HTMLImageElement, mime: string, detail: () => MrtPaintDetail): Promise<'shown' | 'failed' | 'stale'> {
    const id = this.mrtId;
    const swap = img
      .decode()
      .then((): 'shown' | 'stale' => {
        const want = this.header;
        if (want && (img.naturalWidth !== want.imageWidth || img.naturalHeight !== want.imageHeight)) {
          throw new Error(`it decoded to ${img.naturalWidth}x${img.naturalHeight}, the header says ${want.imageWidth}x${want.imageHeight}`);
        }
        if (id !== this.mrtId || this.getAttribute('data-state') === 'fallback') return 'stale';
        this.dropFinal();
        this.finalImg = img;
        this.canvas.after(img);
        this._paint = detail();
        this.setAttribute('data-state', 'final');
        this.fire('paint', this._paint);
        return 'shown';
      })
      .catch((e: unknown): 'failed' | 'stale' => {
        img.removeAttribute('src');
        if (id !== this.mrtId) return 'stale';
        console.warn(`[mrt-img] final layer (${mime}) not shown: ${(e as Error)?.message ?? e}; keeping the learned image`);
        return 'failed';
      })
      .finally(() => {
        if (id === this.mrtId && this.finalSwap === swap) this.finalSwap = null;
      });
    this.finalSwap = swap;
    return swap;
  }

  /** The final layer's <img> (loading from `src` at once; shown by showFinalImage). */
  private finalImage(src: string, priority?: string): HTMLImageElement {
    const img = document.createElement('img');
    img.setAttribute('part', 'final');
    // the host is the accessible image (role img, aria-label = alt)
    img.alt = '';
    img.setAttribute('aria-hidden', 'true');
    img.decoding = 'async';
    if (priority === 'high' || priority === 'low') img.fetchPriority = priority;
    img.src = src;
    return img;
  }

  private dropFinal(): void {
    if (!this.finalImg) return;
    URL.revokeObjectURL(this.finalImg.src);
    this.finalImg.remove();
    this.finalImg = null;
  }

  private showFallback(): void {
    this.setAttribute('data-state', 'fallback');
    // Make sure there is an <img> to show: a lazy one the author gave us starts loading
    // now that it is rendered; a <noscript> child's image is made from its text (with scripts
    // on, the parser keeps a noscript's content as text: nothing of it was fetched before);
    // without either, the `fallback` attribute's URL, or the alt text.
    if ([...this.querySelectorAll('img')].some((i) => !i.closest('noscript'))) return;
    const fromNoscript = this.noscriptImage();
    if (fromNoscript) {
      this.append(fromNoscript);
      return;
    }
    const img = document.createElement('img');
    img.alt = this.alt;
    const fb = this.getAttribute('fallback');
    if (fb) img.src = fb;
    this.append(img);
  }

  /** The first <img> or <picture> of a <noscript> child, parsed from its text (inert until adopted). */
  private noscriptImage(): HTMLElement | null {
    for (const ns of this.querySelectorAll(':scope > noscript')) {
      // already elements where the page was parsed with scripts off (e.g. inserted later)
      const ready = ns.querySelector('img, picture');
      if (ready) return ready.cloneNode(true) as HTMLElement;
      const text = ns.textContent ?? '';
      if (!/<(img|picture)\b/i.test(text)) continue;
      try {
        // a document of its own: nothing in it loads or runs until adopted, and only the image is
        const doc = new DOMParser().parseFromString(`<!doctype html><body>${text}`, 'text/html');
        const el = doc.body.querySelector('picture, img');
        if (el) return document.importNode(el, true) as HTMLElement;
      } catch {
        /* Trusted Types refuse a string to parse: the `fallback` attribute's image then */
      }
    }
    return null;
  }
}

if (typeof customElements !== 'undefined' && !customElements.get('mrt-img')) {
  customElements.define('mrt-img', MrtImg);
  armGate();
  // Pinch-zoom: the visitor wants detail; refine every partial image on screen.
  window.visualViewport?.addEventListener('resize', () => {
    if ((window.visualViewport?.scale ?? 1) <= 1) return;
    for (const el of elements.values()) el._onZoom();
  });
}

declare global {
  interface HTMLElementTagNameMap {
    'mrt-img': MrtImg;
  }
}

export default MrtImg;
