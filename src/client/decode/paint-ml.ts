// Decoder painter: runs the decoder graph on the image's newest token state (one run at a
// time for the page, through the scheduler) and paints the result; on a WebGPU failure the
// page switches to WASM and the run is repeated there. No run before the page's first paint
// or under Save-Data without the runtime cached (gate.ts), and at most
// MrtConfig.maxLearnedPaints runs per image and load, the last for the state the stream
// ended with.
import type { TailBasis } from '../../model/tail.ts';
import { chwToPixels } from '../../model/io.ts';
import { deblockPaint } from '../../model/deblock.ts';
import type { Runtime } from '../runtime.ts';
import { MAX_LEARNED_PAINTS_DEFAULT } from '../protocol.ts';
import type { Backend } from '../types.ts';
import { fallbackToWasm, runtime } from './backend.ts';
import { busyFor, cfg, errDetail, scheduler, send } from './env.ts';
import { learnedAllowed, tailAllowed } from './gate.ts';
import type { Job } from './job.ts';
import { loadedTailBasis, tailBasis, type Models } from './models.ts';
import { allocCheck, isOutOfMemory, retire } from './memory.ts';
import { modelMismatch } from './parser.ts';
import type { ModelInputs } from './tokens.ts';

/**
 * What a decoder run may take per padded pixel on a slow device: ten times the 0.38 µs
 * measured for 4096x4096 (6.3 s, WASM, 1 thread, a 2-core x86 server).
 */
const RUN_WORST_US_PER_PIXEL = 4;

/** MrtConfig.maxLearnedPaints: a whole number of at least 1, or Infinity. */
function maxRuns(): number {
  const v = cfg().maxLearnedPaints;
  const n = typeof v === 'number' && !Number.isNaN(v) ? v : MAX_LEARNED_PAINTS_DEFAULT;
  return n === Infinity ? n : Math.max(1, Math.floor(n));
}

export class MlPainter {
  private running: Promise<void> | null = null;
  private waiters: (() => void)[] = [];
  private pending = false;
  /** The tail basis is loading after an interim paint: a full paint follows when it comes. */
  private tailWait: Promise<void> | null = null;
  /** Decoder runs made for this load (interim ones count: each costs a whole run). */
  private runs = 0;
  /** The stream (this load of it) ended: its state is painted whatever the cap. */
  private ending = false;

  constructor(private readonly job: Job) {}

  /** A refine starts a new load: a new count. */
  restart(): void {
    this.runs = 0;
    this.ending = false;
  }

  /** The stream ended: the next request (the end state, or its full paint after an interim one) runs whatever the cap. */
  streamEnded(): void {
    this.ending = true;
  }

  private prio(): number {
    const p = this.job.opts.priority;
    return p === 'high' ? 2 : p === 'low' ? 0 : 1;
  }

  /**
   * Queues a run on the newest token state (replacing this image's queued one). Before the
   * stream ends, only while the cap leaves a run for the end state: maxLearnedPaints - 1 runs
   * on intermediate states, so that the image is never left stale.
   */
  request(): void {
    const job = this.job;
    if (job.finalShown || job.dead || cfg().paint === false) return;
    if (!this.ending && this.runs >= maxRuns() - 1) {
      if (cfg().debug) console.log(`[mrt] id=${job.id} learned paint skipped: ${this.runs} of maxLearnedPaints ${maxRuns()} made, the last is kept for the end of the stream`);
      return;
    }
    this.pending = true;
    scheduler.request({ id: job.id, priority: this.prio(), run: () => this.paintTokens() });
  }

  /** Drops the queued run (the final layer is shown). */
  stop(): void {
    scheduler.cancel(this.job.id);
    this.pending = false;
    this.settle();
  }

  /** Resolves when no run of this image is queued, running or waiting for the tail basis. */
  drained(): Promise<void> {
    if (!this.pending && !this.running && !this.tailWait) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }

  private settle(): void {
    if (!this.pending && !this.running && !this.tailWait) for (const w of this.waiters.splice(0)) w();
  }

  /**
   * Loads the tail basis after an interim paint (so the first learned paint never waits for
   * its megabyte), then asks for the full paint.
   */
  private awaitTail(m: Models): void {
    // (under Save-Data with the tail basis not cached: the paints stay interim)
    if (this.tailWait || !tailAllowed()) return;
    this.tailWait = tailBasis(m).then(
      () => {
        this.tailWait = null;
        this.request();
        this.settle();
      },
      (e) => {
        this.tailWait = null;
        this.job.fail(errDetail(e, !this.job.painted));
        this.settle();
      },
    );
  }

  private async paintTokens(): Promise<void> {
    this.pending = false;
    const p = this.paint().catch((e) => this.failed(e));
    this.running = p;
    try {
      await p;
    } finally {
      this.running = null;
      this.settle();
    }
  }

  /**
   * A run (or the tensors and pixels around it) failed. Out of memory is fatal for the image,
   * and the worker is replaced: a WASM runtime that could not grow is not trusted again.
   */
  private failed(e: unknown): void {
    const job = this.job;
    const msg = e instanceof Error ? e.message : String(e);
    if (!isOutOfMemory(e)) {
      job.fail({ code: 'runtime', message: `decoder run failed: ${msg}`, fatal: !job.painted });
      return;
    }
    const g = job.parser.g;
    const size = g ? ` a ${g.width}x${g.height} image (${g.paddedW}x${g.paddedH} padded)` : '';
    job.fail({ code: 'runtime', message: `out of memory decoding${size}: ${msg}`, fatal: true });
    retire(`the decoder ran out of memory (${msg})`);
  }

  private async paint(): Promise<void> {
    const job = this.job;
    const sd = job.parser.sd;
    if (job.dead || job.finalShown || !sd) return;
    if (job.learnedPainted(sd.known)) return;
    let rt: Runtime;
    let m: Models;
    let tb: TailBasis | null = null;
    const g = job.parser.g!;
    try {
      // the page's first paint first; under Save-Data, nothing unless the runtime is cached
      if (!(await learnedAllowed())) return;
      if (job.dead || job.finalShown) return;
      // the model the stream names (the page's, or another from its versioned folder)
      m = await job.parser.models();
      // before the runtime loads: a stream whose layout is not the model's never runs it
      const mismatch = modelMismatch(job.parser.header!, m);
      if (mismatch) return job.fail(mismatch);
      rt = await runtime(m);
      if (job.dead || job.finalShown) return;
    } catch (e) {
      job.fail(errDetail(e, true));
      return;
    }
    // read after the waits: on a cold page the runtime takes seconds to load, and every
    // chunk that arrived meanwhile belongs in this paint
    const known = sd.known;
    // Tokens past the split need the tail basis (about a megabyte): until it is here, an
    // interim paint without their linear part (as if they were missing), then the full one.
    let interim = false;
    if (job.inputs!.needsTail(sd, m, job.opts.regenerate)) {
      tb = loadedTailBasis(m);
      interim = !tb;
    }
    const p = job.painted;
    if (p?.kind === 'ml' && p.known === known && (!p.interim || interim)) {
      if (interim) this.awaitTail(m);
      return;
    }
    const base = job.placeholder.base;
    if (!base) {
      job.fail({ code: 'placeholder', message: job.placeholder.error || 'the stream has no placeholder (the model base)', fatal: !job.painted });
      return;
    }
    const T = sd.layout!.tokensPerWindow;
    const t0 = performance.now();
    const inputs = job.inputs!.build(sd, known, m, job.opts.regenerate, tb);
    const tRegen = performance.now() - t0;
    const cells = g.gridW * g.gridH;
    const runOnce = async (r: Runtime, { z, mask, tail }: ModelInputs) => {
      const run = async () => {
        allocCheck();
        // a WASM run blocks the worker: the watchdog waits out what a slow device may need
        busyFor(g.paddedW * g.paddedH * RUN_WORST_US_PER_PIXEL / 1000);
        return r.run({
          z: { data: z, dims: [1, T, g.gridH, g.gridW] },
          mask: { data: mask, dims: [1, T, g.gridH, g.gridW] },
          base: { data: base, dims: [1, 3, g.baseH, g.baseW] },
          ...(tail ? { tail: { data: tail, dims: [1, tail.length / cells, g.gridH, g.gridW] } } : {}),
        });
      };
      // a run on a lost GPU device may never settle: the loss ends it (and WASM repeats it)
      if (!r.lost) return run();
      const lost = r.lost.then((why) => Promise.reject(new Error(why)));
      return Promise.race([run(), lost]);
    };
    let out: Float32Array;
    this.runs++;
    const t1 = performance.now();
    try {
      out = await runOnce(rt, inputs);
    } catch (e) {
      // WebGPU (a run error, a lost device, a failed GPU allocation): WASM repeats the run;
      // a WASM failure goes to failed()
      if (rt.backend !== 'webgpu') throw e;
      rt = await fallbackToWasm((e as Error).message, m);
      out = await runOnce(rt, inputs);
    }
    const runMs = performance.now() - t1;
    if (job.dead || job.finalShown) return;
    // the window grid's seams smoothed, as decode() does (the runtimes return their own copy)
    deblockPaint(out, g, m.files.manifest.layout, known);
    const px = chwToPixels(out, g.paddedW, g.paddedH, g.width, g.height, 4);
    const bitmap = await createImageBitmap(new ImageData(px as Uint8ClampedArray<ArrayBuffer>, g.width, g.height));
    if (job.dead || job.finalShown) {
      bitmap.close();
      return;
    }
    job.painted = { known, kind: 'ml', ...(interim ? { interim } : {}) };
    send(
      {
        type: 'paint',
        id: job.id,
        bitmap,
        detail: { kind: 'ml', bytes: job.received, chunks: sd.chunks, tokens: known, runMs, backend: rt.backend as Backend, ...(interim ? { interim } : {}) },
      },
      [bitmap],
    );
    if (interim) this.awaitTail(m);
    send({
      type: 'stats',
      id: job.id,
      stats: { regenMs: tRegen, runMs, totalMs: performance.now() - t0, sinceFirstChunkMs: performance.now() - job.firstChunkAt, known },
    });
  }
}
