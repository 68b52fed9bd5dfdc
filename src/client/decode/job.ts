// One image: wires the stages (source → parser → token state → painters) and reports to
// the page: header, progress, partial, and once the last paint of a state drains, one
// `load` or one `error`.
import { learnedEnd, readFinal, type MrtFirstPaint, type MrtHeaderInfo } from '../../format/index.ts';
import type { Geometry } from '../../model/io.ts';
import { DIRECT_HEAD_BYTES, type StartOptions } from '../protocol.ts';
import { ClientError } from '../runtime.ts';
import { directWanted } from '../direct-rule.ts';
import type { MrtErrorDetail, PaintKind } from '../types.ts';
import { cfg, errDetail, FIRST_PAINT_HOLD_MS, placeholderBegins, scheduler, send } from './env.ts';
import { learnedCachedNow, learnedCachedSoon, warmLearned } from './gate.ts';
import { models } from './models.ts';
import { finalProblem, paintFinal } from './paint-final.ts';
import { MlPainter } from './paint-ml.ts';
import { Placeholder } from './paint-placeholder.ts';
import { paintPreview } from './paint-preview.ts';
import { StreamParser } from './parser.ts';
import { budgetLimit, readBytes, readStream, type Bound } from './source.ts';
import { lastEstimate, recordEstimate, ThroughputEstimator, type Estimate } from './throughput.ts';
import type { BudgetHints } from '../../format/budget.ts';
import { TokenInputs, tokenSnapshot } from './tokens.ts';

export class Job {
  readonly abort = new AbortController();
  /** Bytes of the stream taken so far. */
  received = 0;
  limit = Infinity;
  /** Cut on the client: the prefix ends at `limit` (prefixLength: a chunk boundary, or anywhere in a raw chunk). */
  cut = false;
  chunks = 0;
  known = 0;
  /** What is on the canvas; `interim`: a learned paint without the tail basis (still loading), repainted when it comes. */
  painted: { known: number; kind: PaintKind; interim?: boolean } | null = null;
  /** The final layer is read on its own, the learned chunks skipped (MrtConfig.directFinal). */
  private direct = false;
  /** (direct) the budget covers the final layer: read it at once, else on refine. */
  private directNow = false;
  /** What was painted before the final layer was sent to the page (restored if the page cannot show it). */
  paintedBeforeFinal: Job['painted'] = null;
  finalShown = false;
  dead = false;
  /** An error event was sent. */
  reported = false;
  firstChunkAt = 0;
  private readonly startedAt = performance.now();
  /** The first paint (the placeholder) is done, or there is none to wait for. */
  private firstPaintSettled = false;
  /** A refine started: the rest is read whatever the budget. */
  private refining = false;
  /** How the last read's budget was held (source.ts): reported with a budgeted `load`. */
  bound: Bound | null = null;
  readonly parser: StreamParser;
  readonly placeholder = new Placeholder();
  readonly ml: MlPainter;
  /** Token state → decoder inputs, once the geometry is known. */
  inputs: TokenInputs | null = null;

  readonly opts: StartOptions;
  /** `measure`: the hints without a network estimate (the element's box, DPR, Save-Data). */
  private readonly baseHints: BudgetHints | null = null;
  /** `measure`: the arrival of the current first read (null during a refine: it reads everything). */
  private estimator: ThroughputEstimator | null = null;

  constructor(readonly id: number, opts: StartOptions) {
    // No navigator.connection: start from this page's last measurement (another image's
    // stream), if any; this stream's own arrival replaces it once there is enough of it.
    if (opts.measure && opts.budget && 'hints' in opts.budget) {
      this.baseHints = opts.budget.hints as BudgetHints;
      const e = lastEstimate();
      if (e) opts = { ...opts, budget: { hints: withEstimate(this.baseHints, e) } };
    }
    this.opts = opts;
    this.ml = new MlPainter(this);
    this.parser = new StreamParser({
      onFirstPaint: (f) => this.onFirstPaint(f),
      onHeader: (info, g) => this.onHeader(info, g),
      onClipped: (limit) => (this.received = limit),
      onChunks: () => this.onChunks(),
      onFinal: (mime, bytes, early) => {
        // early: only a final the page can be given; any other is refused when the decoder
        // reaches it, as before, and the tokens stay wanted where a page reads them (data-keep-tokens)
        if (early && (this.opts.keepTokens || finalProblem(this, bytes))) return false;
        if (!this.finalShown) paintFinal(this, mime, bytes);
        return this.finalShown;
      },
      fail: (d) => this.fail(d),
      dead: () => this.dead,
      painted: () => !!this.painted,
    });
  }

  /** The page could not show the final layer: learned paints go on from what was painted before it. */
  finalFailed(): void {
    if (this.dead || !this.finalShown) return;
    this.finalShown = false;
    this.painted = this.paintedBeforeFinal;
    if (!this.direct) {
      this.parser.release();
      this.ml.request();
      return;
    }
    void this.learnedAfterAll();
  }

  /** A final layer read alone could not be had or shown: the learned chunks are read after all (their own load follows). */
  private async learnedAfterAll(): Promise<void> {
    this.direct = false;
    this.finalShown = false;
    this.limit = learnedEnd(this.parser.info!);
    this.startLearned(this.parser.g!);
    try {
      await this.parser.resumeLearned();
      await this.fetchStream(this.received);
    } catch (e) {
      if (!this.dead) this.fail(errDetail(e, !this.painted));
    }
  }

  /**
   * Whether an image whose final layer is within its budget reads it on its own, skipping the
   * learned chunks: MrtConfig.directFinal 'always', or 'auto' when the learned decoder's files
   * are known not to be cached (a first visit) or the device is short of memory.
   */
  private mayGoDirect(): boolean {
    if (this.refining && !this.direct) return false;
    return directWanted(cfg().directFinal ?? 'auto', this.opts, learnedCachedNow());
  }

  /** The final layer alone (readFinalDirect); when it cannot be had, the learned layer after all. */
  private async finalAlone(): Promise<void> {
    try {
      await this.readFinalDirect();
    } catch (e) {
      if (this.dead) return;
      // (e.g. a stored prefix that stops before its final layer: 416) not silent, and not the end
      console.warn(`[mrt-img] ${this.opts.url}: the final layer could not be read alone (${(e as Error).message}); reading the learned layer instead`);
      await this.learnedAfterAll();
    }
  }

  /** The final layer with one Range request from the end of the last chunk, checked and shown; the runtime then loads for later images. */
  private async readFinalDirect(): Promise<void> {
    const info = this.parser.info!;
    const bytes = await readBytes(this.opts, info.totalLength, learnedEnd(info), info.finalEnd!, this.abort.signal);
    if (this.dead) return;
    const data = readFinal(info, this.parser.head(), bytes);
    const wire = this.received + bytes.length;
    send({ type: 'progress', id: this.id, detail: { bytes: wire, chunks: 0, tokens: 0, totalTokens: info.header.totalTokens, totalBytes: info.totalLength } });
    paintFinal(this, info.header.final!.mime, data, wire);
    if (this.dead || this.reported) return;
    send({ type: 'load', id: this.id, detail: { bytes: wire, chunks: 0, tokens: 0, complete: true } });
    // the learned decoder for later images and the next visit, tail basis included (a warm
    // visit's learned paints need it: 1.15 MB it would otherwise fetch while painting)
    if (cfg().paint !== false) warmLearned({ tail: true });
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

  async run(): Promise<void> {
    try {
      await this.fetchStream(0);
    } catch (e) {
      if (this.dead) return;
      this.fail(errDetail(e, !this.painted));
    }
  }

  async refine(): Promise<void> {
    if (this.dead || this.reported || this.parser.streamError || !this.cut || !this.parser.info) return;
    if (this.direct) {
      // the final layer alone, skipping the learned chunks as on the first read
      this.cut = false;
      send({ type: 'partial', id: this.id, partial: false });
      return this.finalAlone();
    }
    this.cut = false;
    this.limit = Infinity;
    this.refining = true;
    // a refine is a new load: its own count of learned paints
    this.ml.restart();
    send({ type: 'partial', id: this.id, partial: false });
    try {
      await this.fetchStream(this.received);
    } catch (e) {
      if (!this.dead) this.fail(errDetail(e, false));
    }
  }

  /** The preview basis arrived: paint this image's tokens with it. */
  paintPreview(): void {
    paintPreview(this);
  }

  tokens(): { tokens: Uint8Array | null; known: number } {
    return tokenSnapshot(this.parser.sd);
  }

  private async fetchStream(from: number): Promise<void> {
    this.estimator = this.baseHints ? new ThroughputEstimator(performance.now()) : null;
    const measuring = from === 0;
    // an image that may skip to its final layer asks for the header first (the page's first
    // image waits a moment for the cache probe's answer)
    if (from === 0 && (cfg().directFinal ?? 'auto') === 'auto') await learnedCachedSoon(PROBE_WAIT_MS);
    const firstEnd = from === 0 && this.mayGoDirect() ? DIRECT_HEAD_BYTES : Infinity;
    const end = await readStream(this.opts, this.parser.info?.totalLength ?? null, from, this.abort.signal, {
      feed: (bytes) => this.feed(bytes),
      dead: () => this.dead,
      received: () => this.received,
      want: () => {
        const info = this.parser.info;
        return info ? Math.min(this.limit, info.totalLength) : this.parser.headerNeed(this.received);
      },
    }, firstEnd);
    if (this.estimator) recordEstimate(this.estimator.estimate(performance.now()));
    if (!measuring) this.estimator = null;
    if (!end) return;
    if (this.direct && !this.reported && !this.parser.streamError) {
      if (this.directNow) return this.finalAlone();
      // the budget stops before the final layer: the placeholder stays until a refine
      this.cut = true;
      send({ type: 'partial', id: this.id, partial: true });
      send({ type: 'load', id: this.id, detail: { bytes: this.received, chunks: 0, tokens: 0, complete: false, ...(end.bound ? { bound: end.bound } : {}) } });
      return;
    }
    if (cfg().debug) console.log(`[mrt] stream end id=${this.id} stopped=${end.stopped} budgeted=${end.budgeted} bound=${end.bound} requests=${end.requests} received=${this.received} limit=${this.limit} cut=${this.cut}`);
    this.bound = end.bound;
    await this.finishStream(end.stopped, end.budgeted);
  }

  /** Feeds bytes; false when the job should stop reading (budget reached or stream error). */
  private async feed(bytes: Uint8Array): Promise<boolean> {
    if (this.reported || this.parser.streamError) return false;
    if (this.estimator) {
      this.estimator.add(bytes.length, performance.now());
      if (this.cutPending()) this.applyEstimate();
    }
    if (this.received + bytes.length > this.limit) bytes = bytes.subarray(0, Math.max(0, this.limit - this.received));
    this.received += bytes.length;
    await this.parser.take(bytes);
    if (this.reported || this.parser.streamError) return false;
    if (this.received >= this.limit) {
      this.cut = true;
      return false;
    }
    return true;
  }

  /** A first read whose budget is still being measured. */
  private cutPending(): boolean {
    return !!this.parser.info && !this.refining && !this.cut && this.received < this.parser.info.totalLength;
  }

  /** The shared rule on the measured downlink and RTT: where this read stops (never behind what arrived). */
  private applyEstimate(): void {
    const info = this.parser.info!;
    const e = this.estimator!.estimate();
    if (!e || this.refining) return;
    const want = budgetLimit({ hints: withEstimate(this.baseHints!, e) }, info);
    let limit = want;
    if (limit < this.received) {
      // already past it: stop at the first cut from here (raw framing: here)
      limit = info.totalLength;
      for (const c of [info.headerEnd, ...info.chunkEnds]) if (c >= this.received) { limit = c; break; }
      if (info.header.chunkFraming === 'raw' && this.received > info.headerEnd && this.received < (info.chunkEnds.at(-1) ?? 0)) limit = this.received;
    }
    if (cfg().debug && limit !== this.limit) console.log(`[mrt] id=${this.id} measured ${e.downlinkMbps.toFixed(3)} Mbit/s, rtt ${Math.round(e.rttMs)} ms: limit ${this.limit} → ${limit}`);
    this.limit = limit;
  }

  private async onFirstPaint(f: MrtFirstPaint): Promise<void> {
    send({ type: 'header', id: this.id, info: { width: f.width, height: f.height, imageWidth: f.imageWidth, imageHeight: f.imageHeight, totalBytes: null, totalTokens: 0, chunkCount: 0 } });
    // The placeholder paints natively first; the models load only after it (once per page),
    // so the first paint never waits for (or pays for) ML bytes. The runtime and the decoder
    // graph wait longer: for the page's own first paint (gate.ts), and under Save-Data they
    // are used only from the HTTP cache.
    const painted = placeholderBegins();
    try {
      await this.placeholder.paint(this, f);
    } finally {
      painted();
      this.firstPaintSettled = true;
      scheduler.wake();
    }
  }

  /**
   * Learned runs wait for this image's placeholder (RunScheduler.hold): a run blocks the worker,
   * and every image's first paint matters more than any image's second. Not past
   * FIRST_PAINT_HOLD_MS from the image's start (a stream that stalls holds no one).
   */
  awaitsFirstPaint(now: number): boolean {
    return !this.firstPaintSettled && !this.dead && !this.reported && !this.direct && now - this.startedAt < FIRST_PAINT_HOLD_MS;
  }

  private onHeader(info: MrtHeaderInfo, g: Geometry): number {
    const h = info.header;
    send({
      type: 'header',
      id: this.id,
      info: { width: h.width, height: h.height, imageWidth: h.imageWidth, imageHeight: h.imageHeight, totalBytes: info.totalLength, totalTokens: h.totalTokens, chunkCount: h.chunks.length },
    });
    this.limit = budgetLimit(this.opts.budget, info);
    if (h.final && this.mayGoDirect()) {
      // placeholder, then the final layer: no tokens, no models, no runtime before it. Learned
      // chunks are no use without the runtime, and a final layer gains nothing by waiting (as a
      // plain <img> would not): it comes at once, unless Save-Data holds it back to a refine
      // when the budget stops before it.
      this.direct = true;
      this.directNow = this.limit >= info.totalLength || cfg().saveData !== true;
      this.parser.direct = true;
      this.finalShown = true;
      this.limit = info.headerEnd;
      if (cfg().debug) console.log(`[mrt] id=${this.id} the learned decoder is not cached: the final layer on its own (bytes ${learnedEnd(info)}-${info.totalLength - 1}), ${this.directNow ? 'now' : 'on refine (the budget stops before it)'}`);
      return this.limit;
    }
    this.startLearned(g);
    return this.limit;
  }

  /** The learned path's start: token inputs and the model's base, the models (once per page) and, once the gate opens, the runtime. */
  private startLearned(g: Geometry): void {
    models().catch(() => undefined);
    if (cfg().paint !== false) warmLearned();
    this.inputs = new TokenInputs(g);
    this.placeholder.makeBase(g);
  }

  private onChunks(): void {
    const sd = this.parser.sd!;
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
        totalTokens: this.parser.header!.totalTokens,
        totalBytes: this.parser.info?.totalLength ?? null,
      },
    });
    paintPreview(this);
    this.ml.request();
  }

  // -------------------------------------------------------------- end of a response

  private async finishStream(cutByBudget: boolean, budgeted: boolean): Promise<void> {
    const parser = this.parser;
    if (this.reported) return;
    if (parser.streamError) return this.reportAfterDrain();
    if (!parser.info) {
      // Not even a header: nothing to paint.
      const e = parser.headerError(this.received);
      if (e) throw e;
    }
    if (!parser.sd) {
      // Waiting for the models: finish when the decoder has caught up.
      await parser.decoderReady();
      if (this.dead || this.reported) return;
    }
    await parser.decoded();
    const info = parser.info!;
    const atBoundary = parser.atBoundary(this.received); // (the final layer's end is the stream's end)
    const partial = this.received < info.totalLength && atBoundary && (cutByBudget || budgeted || this.cut);
    if (partial) {
      this.cut = true;
      send({ type: 'partial', id: this.id, partial: true });
    } else {
      await parser.end();
    }
    await this.reportAfterDrain();
  }

  /** The canvas holds a full learned paint (not an interim one) of the first `known` symbols. */
  learnedPainted(known: number): boolean {
    return this.painted?.kind === 'ml' && this.painted.known === known && !this.painted.interim;
  }

  /** After the last paint of this state: one `error` (best image painted) or one `load`. */
  private async reportAfterDrain(): Promise<void> {
    // Whether this state is the whole stream is decided now: a refine may start while the
    // last paint drains (the element schedules it on 'partial') and clear `cut`.
    // The same goes for the counts: a refine that starts during the drain adds to them.
    const complete = !this.cut;
    const sd = this.parser.sd;
    const at = { bytes: this.received, chunks: sd?.chunks ?? 0, tokens: sd?.known ?? 0 };
    // the state the stream ended with is always painted, whatever the cap on learned paints
    this.ml.streamEnded();
    if (sd && !this.finalShown && !this.learnedPainted(sd.known) && this.painted?.kind !== 'final') this.ml.request();
    await this.ml.drained();
    if (this.dead) return;
    if (this.reported) return;
    if (this.parser.streamError) {
      this.fail(errDetail(this.parser.decodeError ?? new ClientError('corrupt', 'stream error'), !this.painted));
      return;
    }
    send({ type: 'load', id: this.id, detail: { ...at, complete, ...(!complete && this.bound ? { bound: this.bound } : {}) } });
  }
}

/** How long the first request waits for the HTTP cache probe (gate.ts probeLearnedCache). */
const PROBE_WAIT_MS = 50;

function withEstimate(h: BudgetHints, e: Estimate): BudgetHints {
  return { ...h, downlinkMbps: e.downlinkMbps, rttMs: e.rttMs };
}
