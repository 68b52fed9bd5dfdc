// Parser stage: buffers the stream's first bytes until the header (first the Header
// message: size + placeholder, then the Index), creates the StreamDecoder once the prior's
// weights are here, and turns its events into calls on the image. A final layer is handed
// over as soon as its bytes are here, before the tokens of the chunks before it are decoded
// (on a fast link the whole file comes in one read: its final should not wait for, or pay
// for, a token decode it makes useless); those tokens are then decoded only if the page
// cannot show the final.
import { concatBytes } from '../../format/bytes.ts';
import { PREAMBLE_BYTES } from '../../format/types.ts';
import { readVarint } from '../../format/varint.ts';
import { MrtFormatError, isCut, layoutMismatch, learnedEnd, modelHashMatches, modelLabel, readFinal, readFirstPaint, readHeader, type MrtFirstPaint, type MrtHeader, type MrtHeaderInfo } from '../../format/index.ts';
import { StreamDecoder, type StreamEvent } from '../../codec/index.ts';
import { geometry, type Geometry } from '../../model/io.ts';
import { ClientError } from '../runtime.ts';
import type { MrtErrorDetail } from '../types.ts';
import { busyFor, errDetail, tokenTurn } from './env.ts';
import { loadedStreamModels, streamModels, type Models } from './models.ts';

export interface ParserHooks {
  /** The Header message is here (size + placeholder): the first paint. */
  onFirstPaint(first: MrtFirstPaint): Promise<void>;
  /** The whole header is here; returns the byte limit of this response (the budget). */
  onHeader(info: MrtHeaderInfo, g: Geometry): number;
  /** Bytes past the limit that arrived with the header were dropped: `limit` bytes remain. */
  onClipped(limit: number): void;
  /** More tokens are known. */
  onChunks(): void;
  /**
   * The final layer arrived (its framing and checksum checked). `early`: from its bytes, before
   * the decoder reached it; returns whether it is shown then (the tokens before it are then not
   * decoded), false to leave it to the decoder, which comes to it in order.
   */
  onFinal(mime: string, bytes: Uint8Array, early: boolean): boolean;
  fail(detail: MrtErrorDetail): void;
  dead(): boolean;
  painted(): boolean;
}

/**
 * A stream whose layout (window, base factor, tokens per window, levels) is not the model's
 * is refused even under the model's hash: its tensors would be sized from the stream.
 */
export function modelMismatch(h: MrtHeader, m: Models): MrtErrorDetail | null {
  const bad = layoutMismatch(h.layout, m.files.manifest.layout);
  return bad ? { code: 'model-hash', message: `stream refused: ${bad}`, fatal: true } : null;
}

/** Bytes asked for when not even the Header message's length is here (a budget of a few bytes). */
const HEADER_GUESS = 512;
/** The Index's length, asked for before its own varint is here (the encoder's 2.7+ Index is 45-55 B; a longer one costs one more request). */
const INDEX_GUESS = 64;

/** The decoder takes the stream in pieces of at most this many bytes, each on its turn (tokenTurn). */
const DECODE_PIECE_BYTES = 256;
/** Remaining stream symbols past which a push may block long enough to announce it. */
const LONG_DECODE_SYMBOLS = 1 << 20;
/** What decoding a symbol may take on a slow device: ten times the ~0.54 µs (RCM, coarse pass included) of a 768x512 stream here. */
const DECODE_WORST_US_PER_SYMBOL = 5;

export class StreamParser {
  /** Every byte received before the decoder exists. */
  private buf: Uint8Array = new Uint8Array(0);
  /** The Header message (size + placeholder): the first paint, before the Index arrives. */
  first: MrtFirstPaint | null = null;
  info: MrtHeaderInfo | null = null;
  header: MrtHeader | null = null;
  g: Geometry | null = null;
  sd: StreamDecoder | null = null;
  /** The decoder's error, once it stopped (the best image before it stays painted). */
  decodeError: MrtFormatError | null = null;
  /** The decoder stopped on an error (reported once the best image is painted). */
  streamError = false;
  /** The decoder saw everything the header announces. */
  sawEnd = false;
  private waitingModels = false;
  /** The model the stream names, once resolved (models.ts streamModels): its preview, decoder and tail basis paint it. */
  model: Models | null = null;
  private modelP: Promise<Models> | null = null;
  /** Set while the stream's end waits for a decoder that starts late (models still loading). */
  private decoderWaiter: (() => void) | null = null;
  /** The image skips the learned chunks (its final layer is read on its own): no decoder, no models. */
  direct = false;
  /** The stream's bytes up to the end of the Index (a final layer's checksum chains on them). */
  private headBytes: Uint8Array | null = null;
  /** Stream offset of the next byte taken. */
  private at = 0;
  /** The final layer's bytes so far, in order from the end of the learned chunks. */
  private finalParts: Uint8Array[] = [];
  private finalGot = 0;
  /** The final layer's bytes are no longer collected (it was offered early, or failed its check). */
  private finalOffered = false;
  /** The final layer was shown from its bytes: the decoder's own final event is not passed on. */
  private finalHanded = false;
  /** The final layer is shown: bytes (and the end) wait here instead of being decoded. */
  private holding = false;
  private held: Uint8Array[] = [];
  private heldEnd = false;
  /** The decoder's queue: the last push, done. */
  private decoding: Promise<void> = Promise.resolve();
  /** Tokens known at the last onChunks. */
  private notified = 0;

  constructor(private readonly hooks: ParserHooks) {}

  /** Takes the next bytes of the stream. */
  async take(bytes: Uint8Array): Promise<void> {
    const from = this.at;
    this.at += bytes.length;
    if (this.sd) {
      this.collectFinal(bytes, from);
      this.queue(bytes);
      return;
    }
    this.buf = concatBytes(this.buf, bytes);
    if (!this.info) await this.tryHeader();
    if (this.info) this.collectFinal(this.buf, 0);
    if (this.info && !this.sd && !this.direct) await this.maybeStartDecoder();
  }

  /** The stream's first bytes up to the end of the Index (a final layer's checksum needs them). */
  head(): Uint8Array {
    return this.headBytes!;
  }

  /** The page could not show the final layer: the bytes held back go to the decoder after all. */
  release(): void {
    if (!this.holding) return;
    this.holding = false;
    const held = this.held;
    this.held = [];
    if (!this.sd) return; // (still buffering for the models: maybeStartDecoder pushes it all)
    for (const b of held) this.queue(b);
    if (this.heldEnd) this.queue(new Uint8Array(0), true);
  }

  /**
   * Keeps the part of `bytes` (stream offset `from`) that continues the final layer; once the
   * whole final layer is here it is checked (readFinal: length and checksum, as when it is
   * read alone) and handed over. A final that fails the check is left to the decoder, which
   * reports the stream's first error in order.
   */
  private collectFinal(bytes: Uint8Array, from: number): void {
    const info = this.info!;
    if (this.finalOffered || this.direct || !info.header.final || info.finalEnd === undefined) return;
    const start = learnedEnd(info) + this.finalGot;
    const end = Math.min(info.finalEnd, from + bytes.length);
    if (from > start || end <= start) return;
    this.finalParts.push(bytes.slice(start - from, end - from));
    this.finalGot += end - start;
    if (end < info.finalEnd) return;
    const whole = concatBytes(...this.finalParts);
    this.finalParts = [];
    this.finalOffered = true;
    let data: Uint8Array;
    try {
      data = readFinal(info, this.head(), whole);
    } catch {
      return; // (the decoder reaches it and reports why)
    }
    this.finalHanded = this.holding = this.hooks.onFinal(info.header.final.mime, data, true);
  }

  /** Leaves direct mode (the page could not show the final layer): the learned chunks are read after all. */
  async resumeLearned(): Promise<void> {
    this.direct = false;
    if (this.info && !this.sd) await this.maybeStartDecoder();
  }

  /** The stream ended: the decoder sees the end (a cut prefix never does); resolves once it has. */
  end(): Promise<void> {
    return this.push(new Uint8Array(0), true);
  }

  /** Whether `received` bytes end on a chunk boundary (or the final layer's end). */
  atBoundary(received: number): boolean {
    return isCut(this.info!, received);
  }

  /** At the end of a response without a whole header: the error that explains it. */
  headerError(received: number): unknown {
    if (this.buf.length === 0 && received === 0) return new ClientError('truncated', 'empty response');
    try {
      readHeader(this.buf);
    } catch (e) {
      if (e instanceof MrtFormatError && e.code === 'need-more') return new ClientError('truncated', `stream ended inside the header (${received} bytes)`);
      return e;
    }
    return null;
  }

  /**
   * Before the header is whole: the offset where it ends, from the message lengths held so
   * far (the Index's length is a guess of `INDEX_GUESS` bytes until its varint is here).
   */
  headerNeed(received: number): number {
    if (this.info) return this.info.headerEnd;
    const b = this.buf;
    const guess = received + HEADER_GUESS;
    if (b.length < PREAMBLE_BYTES) return guess;
    const h = readVarint(b, PREAMBLE_BYTES);
    if (!Array.isArray(h)) return guess;
    const firstPaintEnd = h[1] + h[0];
    if (b.length < firstPaintEnd) return firstPaintEnd + INDEX_GUESS;
    const i = readVarint(b, firstPaintEnd);
    if (!Array.isArray(i)) return firstPaintEnd + INDEX_GUESS;
    return Math.max(received + 1, i[1] + i[0]);
  }

  /**
   * The model the stream's header names (the page's, or another loaded from its versioned
   * folder), loaded once; rejects when it cannot be had. Only after the header.
   */
  models(): Promise<Models> {
    this.modelP ??= streamModels(this.header!).then((m) => (this.model = m));
    return this.modelP;
  }

  /** Resolves once every byte pushed so far is decoded (or held). */
  decoded(): Promise<void> {
    return this.decoding;
  }

  /** Resolves once the decoder exists or could not start (models still loading at the stream's end). */
  decoderReady(): Promise<void> {
    if (this.sd) return Promise.resolve();
    return new Promise<void>((r) => (this.decoderWaiter = r));
  }

  private async tryHeader(): Promise<void> {
    if (!this.first) {
      try {
        this.first = readFirstPaint(this.buf);
      } catch (e) {
        if (e instanceof MrtFormatError && e.code === 'need-more') return;
        throw e;
      }
      await this.hooks.onFirstPaint(this.first);
      if (this.hooks.dead()) return;
    }
    let info: MrtHeaderInfo;
    try {
      info = readHeader(this.buf);
    } catch (e) {
      if (e instanceof MrtFormatError && e.code === 'need-more') return;
      throw e;
    }
    this.info = info;
    this.headBytes = this.buf.slice(0, info.headerEnd);
    this.header = info.header;
    const h = info.header;
    this.g = geometry(h.width, h.height, { window: h.layout.window, baseFactor: h.layout.baseFactor });
    const limit = this.hooks.onHeader(info, this.g);
    // Bytes that arrived in the same read as the header may already go past the budget:
    // keep only the prefix up to the cut (the decoder has not seen any of them yet).
    if (this.buf.length > limit) {
      this.buf = this.buf.subarray(0, limit);
      this.at = limit;
      this.hooks.onClipped(limit);
    }
  }

  /** Creates the StreamDecoder once the prior's weights are here and feeds it the buffer. */
  private async maybeStartDecoder(): Promise<void> {
    if (this.sd || this.hooks.dead()) return;
    const h = this.header!;
    let m: Models | null = null;
    if (h.prior === 'rcm') {
      // The RCM weights come with the stream's model; until they are here, keep buffering.
      m = this.model ?? loadedStreamModels(h);
      if (m) this.model = m;
      if (!m) {
        if (!this.waitingModels) {
          this.waitingModels = true;
          this.models()
            .then(
              () => this.maybeStartDecoder().then(() => this.decoderWaiter?.()),
              (e) => {
                this.hooks.fail(errDetail(e, true));
                this.decoderWaiter?.();
              },
            )
            .catch((e) => {
              this.hooks.fail(errDetail(e, !this.hooks.painted()));
              this.decoderWaiter?.();
            });
        }
        return;
      }
      if (h.modelHash.length && !modelHashMatches(h.modelHash, m.files.modelHash)) {
        this.hooks.fail({ code: 'model-hash', message: `stream needs model ${modelLabel(h)}, the loaded model is ${m.files.manifest.id} (hash differs)`, fatal: true });
        return;
      }
      const bad = modelMismatch(h, m);
      if (bad) return this.hooks.fail(bad);
    } else {
      // (a static prior decodes tokens without the model; its paints still need the one it names)
      this.models().catch(() => undefined); // (the learned paint reports a failure)
    }
    this.sd = new StreamDecoder({ rcm: m?.rcm ?? null, modelHash: m?.files.modelHash });
    const b = this.buf;
    this.buf = new Uint8Array(0);
    this.queue(b);
  }

  /**
   * Bytes for the decoder, without waiting for it: reading goes on meanwhile (a final layer
   * behind them is shown as soon as it is here, and they are then held, not decoded). A failure
   * reaches the stream's end through decoded().
   */
  private queue(bytes: Uint8Array, end = false): void {
    this.push(bytes, end).catch(() => undefined);
  }

  /** Bytes for the decoder, in order, each piece on its turn (tokenTurn); resolves once they are decoded (or held). */
  private push(bytes: Uint8Array, end = false): Promise<void> {
    let chain = this.decoding;
    // (in pieces: one push of a fast link's read is ~75 k symbols, 0.3–0.5 s at a quarter core)
    for (let o = 0; o < bytes.length; o += DECODE_PIECE_BYTES) {
      const piece = bytes.subarray(o, o + DECODE_PIECE_BYTES);
      chain = chain.then(tokenTurn).then(() => this.decode(piece, false));
    }
    if (end) chain = chain.then(tokenTurn).then(() => this.decode(new Uint8Array(0), true));
    this.decoding = chain.then(() => this.notify());
    return this.decoding;
  }

  /** More tokens are known since the last call: once per push, not per piece (a preview paint each). */
  private notify(): void {
    const sd = this.sd;
    if (!sd || sd.known === this.notified || this.hooks.dead()) return;
    this.notified = sd.known;
    this.hooks.onChunks();
  }

  private decode(bytes: Uint8Array, end: boolean): void {
    if (this.hooks.dead()) return;
    if (this.holding) {
      if (bytes.length) this.held.push(bytes);
      if (end) this.heldEnd = true;
      return;
    }
    const sd = this.sd!;
    const before = sd.known;
    // a large stream's tokens may take seconds to decode in one go: tell the page's watchdog
    const left = this.header!.totalTokens - before;
    if (bytes.length && left > LONG_DECODE_SYMBOLS) busyFor(left * DECODE_WORST_US_PER_SYMBOL / 1000);
    this.handle(end ? sd.end() : sd.push(bytes));
  }

  private handle(events: StreamEvent[]): void {
    for (const ev of events) {
      if (ev.type === 'error') {
        this.decodeError = ev.error;
        this.streamError = true;
      } else if (ev.type === 'final') {
        if (!this.finalHanded) this.hooks.onFinal(ev.mime, ev.bytes, false);
      } else if (ev.type === 'end') {
        this.sawEnd = true;
      }
    }
  }
}
