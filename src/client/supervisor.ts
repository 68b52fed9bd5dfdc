// The page's side of the decode worker: starts it, watches it, and replaces it when it is
// lost. Lost means: an uncaught error in the worker (or its script failed to load), a
// message that could not be deserialised either way, the worker asking to be retired (its
// runtime ran out of memory), or no answer to a ping for `timeoutMs` while images wait on it
// (a worker that died silently or hangs; one that announced a long run with 'busy' gets that
// long first). The next message after a loss starts a new worker.
import type { FromWorker, ToWorker } from './protocol.ts';

export interface SupervisorHooks {
  /** The worker script's URL (read when a worker starts). */
  url(): string;
  /** The settings message every new worker gets first. */
  config(): ToWorker;
  onMessage(m: FromWorker): void;
  /**
   * The worker is gone (terminated). `started`: it had run its script (false: the script
   * never loaded, so a new worker at the same URL would most likely fail the same way).
   */
  onLost(why: string, started: boolean): void;
  /** Whether an image waits on the worker (the watchdog pings only then). */
  busy(): boolean;
  /** Silence (ms) after a ping that counts as a dead worker; 0: no watchdog. */
  timeoutMs(): number;
}

/**
 * A module worker running `url`. `new Worker()` refuses a script on another origin than the
 * page (a CDN): then the worker is a same-origin `blob:` module whose one line imports the
 * script (a CORS fetch: the other origin sends `Access-Control-Allow-Origin`). The worker's
 * code finds its own files from its real URL (`import.meta.url`, src/client/assets.ts), and the
 * blob worker runs under the page's Content-Security-Policy (`worker-src blob:`).
 */
export function startWorker(url: string): Worker {
  const opts: WorkerOptions = { type: 'module', name: 'mrt-decoder' };
  const abs = new URL(url, document.baseURI);
  if (abs.origin === location.origin || abs.protocol === 'blob:' || abs.protocol === 'data:') return new Worker(abs.href, opts);
  const shim = URL.createObjectURL(new Blob([`import ${JSON.stringify(abs.href)};\n`], { type: 'text/javascript' }));
  try {
    return new Worker(shim, opts);
  } finally {
    // the worker has its own reference to the script once it has started; a minute is ample
    setTimeout(() => URL.revokeObjectURL(shim), 60_000);
  }
}

export class WorkerSupervisor {
  private worker: Worker | null = null;
  /** The worker ran its script (sent 'ready'). */
  private started = false;
  /** Messages posted before the worker starts (it starts in a microtask after the first). */
  private queued: [ToWorker, Transferable[]][] | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  /** When the unanswered ping was sent (null: none outstanding). */
  private pingAt: number | null = null;
  /** The worker announced it blocks until then (a long decoder run): no ping counts before. */
  private quietUntil = 0;
  /** Workers started so far (a loss and its replacement count two). */
  generation = 0;

  constructor(private readonly hooks: SupervisorHooks) {}

  /** A worker runs or is about to start (messages are queued for it). */
  get running(): boolean {
    return this.worker !== null || this.queued !== null;
  }

  post(m: ToWorker, transfer: Transferable[] = []): void {
    if (this.worker) {
      this.worker.postMessage(m, transfer);
    } else {
      // The worker starts in a microtask, not at once: importing the element starts the images
      // already in the page, and a bundled app calls MrtImg.configure() (the worker's URL among
      // the settings) right after that import.
      if (!this.queued) {
        this.queued = [];
        queueMicrotask(() => this.start());
      }
      this.queued.push([m, transfer]);
    }
    this.watch();
  }

  /** Arms the watchdog (call when an image starts waiting on the worker). */
  watch(): void {
    const t = this.hooks.timeoutMs();
    if (this.timer || !(t > 0)) return;
    this.timer = setInterval(() => this.tick(), Math.max(100, Math.min(1000, t / 4)));
  }

  private start(): void {
    const queued = this.queued ?? [];
    this.queued = null;
    let w: Worker;
    try {
      w = startWorker(this.hooks.url());
    } catch (e) {
      // No worker at all (CSP, an invalid URL): every waiting image falls back.
      this.hooks.onLost(`cannot start the decode worker: ${(e as Error).message}`, false);
      return;
    }
    this.worker = w;
    this.started = false;
    this.pingAt = null;
    this.quietUntil = 0;
    this.generation++;
    w.onmessage = (ev: MessageEvent<FromWorker>) => {
      if (this.worker !== w) return;
      this.pingAt = null;
      const m = ev.data;
      if (m.type === 'ready') this.started = true;
      else if (m.type === 'pong') return;
      else if (m.type === 'busy') this.quietUntil = performance.now() + m.ms;
      else if (m.type === 'retire') this.lose(w, m.reason);
      else this.hooks.onMessage(m);
    };
    w.onerror = (ev) => {
      ev.preventDefault();
      if (this.worker !== w) return;
      this.lose(w, this.started ? `the decode worker crashed: ${ev.message || 'unknown error'}` : `decode worker failed: ${ev.message || 'cannot load ' + this.hooks.url()}`);
    };
    // A message that cannot be deserialised is lost, and the image waiting on it would wait forever.
    w.onmessageerror = () => {
      if (this.worker === w) this.lose(w, 'a message from the decode worker could not be deserialised');
    };
    w.postMessage(this.hooks.config());
    for (const [m, transfer] of queued) w.postMessage(m, transfer);
    this.watch();
  }

  private tick(): void {
    const w = this.worker;
    const timeout = this.hooks.timeoutMs();
    if (!w || !this.hooks.busy() || !(timeout > 0)) {
      // nothing waits: no pings (an idle page costs nothing); re-armed by the next message
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
      this.pingAt = null;
      return;
    }
    const now = performance.now();
    if (now < this.quietUntil) return;
    if (this.pingAt === null) {
      this.pingAt = now;
      w.postMessage({ type: 'ping' } satisfies ToWorker);
    } else if (now - this.pingAt > timeout) {
      this.lose(w, `the decode worker did not answer for ${((now - this.pingAt) / 1000).toFixed(1)} s`);
    }
  }

  private lose(w: Worker, why: string): void {
    const started = this.started;
    w.terminate();
    this.worker = null;
    this.started = false;
    this.pingAt = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.hooks.onLost(why, started);
  }
}
