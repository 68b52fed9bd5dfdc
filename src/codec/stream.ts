// StreamDecoder: .mrt bytes in -> first paint, header, token buffer (stream order), known count, events.
// Used by Node and by the browser worker (no Node-only APIs).
import { MrtFormatError } from '../format/errors.ts';
import { modelHashMatches, modelLabel } from '../format/model-hash.ts';
import { MrtParser } from '../format/parser.ts';
import type { MrtFirstPaint, MrtHeader, MrtHeaderInfo, MrtPlaceholder } from '../format/types.ts';
import { ChunkDecoder } from './chunk.ts';
import { createPrior } from './create.ts';
import { COARSE_BINS, coarseOnlyToken, tokenLayout, tokenProgress, type TokenLayout, type TokenProgress } from './layout.ts';
import type { TokenPrior } from './prior.ts';
import { checkRcmLayout, type RcmWeights } from './rcm.ts';

export interface StreamDecoderOptions {
  /** RCM weights for streams coded with prior 'rcm', or a function picking them from the header. */
  rcm?: RcmWeights | null | ((header: MrtHeader) => RcmWeights | null | undefined);
  /** the model's hash (manifest.modelHash bytes): a stream that names another is an error ('model') */
  modelHash?: Uint8Array;
}

export type StreamEvent =
  /** the first paint (Header message) is complete, before the index: paint the placeholder */
  | { type: 'placeholder'; width: number; height: number; placeholder?: MrtPlaceholder; first: MrtFirstPaint }
  | { type: 'header'; header: MrtHeader; info: MrtHeaderInfo; layout: TokenLayout }
  | { type: 'chunk'; index: number; tokenStart: number; tokenEnd: number; known: number }
  /** (raw chunk framing) more tokens of the incomplete chunk `index` decoded: [0, known) are known, provisionally past `verified` */
  | { type: 'partial'; index: number; known: number; verified: number }
  | { type: 'final'; mime: string; bytes: Uint8Array }
  | { type: 'end'; chunks: number; chunksTotal: number; final: boolean; complete: boolean; known: number }
  | { type: 'error'; error: MrtFormatError; known: number };

export class StreamDecoder {
  private readonly parser = new MrtParser();
  private readonly opts: StreamDecoderOptions;
  private failed = false;
  header: MrtHeader | undefined;
  info: MrtHeaderInfo | undefined;
  layout: TokenLayout | undefined;
  prior: TokenPrior | undefined;
  /**
   * decoded tokens in token order ([T, gh, gw] C-order, the layer-major stream order);
   * `progress` says which are known
   */
  tokens: Uint8Array = new Uint8Array(0);
  /** the decoded stream symbols: `tokens` itself in the layer-major order (2.8: else its own buffer) */
  private symbols: Uint8Array = new Uint8Array(0);
  /**
   * number of decoded stream symbols (always a prefix of the stream order; = tokens in the
   * layer-major order). With raw chunk framing (2.4) it includes the symbols of a partly
   * received chunk: exact, but their checksum has not arrived yet (see `verified`).
   */
  known = 0;
  /** symbols of whole chunks whose checksum passed (known - verified are provisional) */
  verified = 0;
  /** number of whole chunks decoded */
  chunks = 0;
  /** chained coder: the state the last decoded chunk ended in (the next one starts there) */
  private coderState: number | null = null;
  /** the chunk being decoded (its tokens decode as its bytes arrive) */
  private cursor: { index: number; dec: ChunkDecoder } | null = null;

  constructor(opts: StreamDecoderOptions = {}) {
    this.opts = opts;
  }

  /** Which tokens the `known` symbols tell: [0, exact) exactly, [exact, coarse) by their coarse trit (2.8). */
  get progress(): TokenProgress {
    return this.layout ? tokenProgress(this.layout, this.known) : { exact: 0, coarse: 0 };
  }

  push(bytes: Uint8Array): StreamEvent[] {
    if (this.failed) return [];
    return this.handle(this.parser.push(bytes));
  }

  end(): StreamEvent[] {
    if (this.failed) return [];
    return this.handle(this.parser.end());
  }

  private fail(out: StreamEvent[], error: MrtFormatError): StreamEvent[] {
    this.failed = true;
    // a stream cut inside a chunk leaves its decoded tokens exact; any other error puts
    // the unchecked ones in doubt
    if (error.code !== 'truncated' && this.known !== this.verified) {
      this.known = this.verified;
      // (coarse-first) a withdrawn refinement trit may have made a token exact: one known only
      // by its coarse trit c reads 3c + 1 again, as the `tokens` contract says
      if (this.layout?.coarseLayers) {
        const { exact, coarse } = tokenProgress(this.layout, this.known);
        for (let i = exact; i < coarse; i++) this.tokens[i] = coarseOnlyToken(Math.floor(this.tokens[i]! / COARSE_BINS));
      }
    }
    out.push({ type: 'error', error, known: this.known });
    return out;
  }

  /** The decoder of chunk `ev.index`: the one its earlier bytes started, or a new one. */
  private chunkDecoder(ev: { index: number; tokenStart: number; tokenEnd: number }): ChunkDecoder {
    if (this.cursor?.index === ev.index) return this.cursor.dec;
    const chained = this.header!.coder === 'chained';
    const dec = new ChunkDecoder(this.prior!, this.symbols, ev.tokenStart, ev.tokenEnd, chained && ev.index > 0 ? this.coderState : null);
    this.cursor = { index: ev.index, dec };
    return dec;
  }

  private handle(events: ReturnType<MrtParser['push']>): StreamEvent[] {
    const out: StreamEvent[] = [];
    for (const ev of events) {
      switch (ev.type) {
        case 'header': {
          const h = ev.header;
          const layout = tokenLayout(h.layout);
          if (this.opts.modelHash && h.prior === 'rcm' && !modelHashMatches(h.modelHash, this.opts.modelHash)) {
            return this.fail(out, new MrtFormatError('model', 'the stream was coded with another model (model hash differs)', 0));
          }
          let rcm: RcmWeights | null = null;
          if (h.prior === 'rcm') {
            const r = typeof this.opts.rcm === 'function' ? this.opts.rcm(h) : this.opts.rcm;
            if (!r) return this.fail(out, new MrtFormatError('model', `the stream needs the RCM of model ${modelLabel(h)}`, 0));
            try {
              checkRcmLayout(r, layout);
            } catch (e) {
              return this.fail(out, new MrtFormatError('model', (e as Error).message, 0));
            }
            if (h.coarseRcm && !r.coarse) return this.fail(out, new MrtFormatError('model', `the stream needs the coarse RCM of model ${modelLabel(h)}`, 0));
            rcm = r;
          }
          this.header = h;
          this.info = ev.info;
          this.layout = layout;
          this.tokens = new Uint8Array(layout.total);
          this.symbols = layout.coarseLayers > 0 ? new Uint8Array(layout.streamLength) : this.tokens;
          this.prior = createPrior(layout, rcm, { sharedLate: h.sharedLate, lateContexts: h.lateContexts, coarseRcm: h.coarseRcm, tokens: this.tokens });
          out.push({ type: 'header', header: h, info: ev.info, layout });
          break;
        }
        case 'partial': {
          try {
            const n = this.chunkDecoder(ev).feed(ev.payload);
            if (ev.tokenStart + n === this.known) break;
            this.known = ev.tokenStart + n;
          } catch (e) {
            if (!(e instanceof MrtFormatError)) throw e;
            return this.fail(out, new MrtFormatError(e.code, `chunk ${ev.index}: ${e.message}`, ev.offset));
          }
          out.push({ type: 'partial', index: ev.index, known: this.known, verified: this.verified });
          break;
        }
        case 'chunk': {
          try {
            const chained = this.header!.coder === 'chained';
            const last = !chained || ev.index === this.header!.chunks.length - 1;
            const dec = this.chunkDecoder(ev);
            dec.feed(ev.payload, true);
            this.coderState = dec.finish(ev.payload.length, last);
            this.cursor = null;
          } catch (e) {
            if (!(e instanceof MrtFormatError)) throw e;
            return this.fail(out, new MrtFormatError(e.code, `chunk ${ev.index}: ${e.message}`, ev.offset));
          }
          this.known = ev.tokenEnd;
          this.verified = ev.tokenEnd;
          this.chunks = ev.index + 1;
          out.push({ type: 'chunk', index: ev.index, tokenStart: ev.tokenStart, tokenEnd: ev.tokenEnd, known: this.known });
          break;
        }
        case 'placeholder':
        case 'final':
          out.push(ev);
          break;
        case 'end':
          out.push({ ...ev, known: this.known });
          break;
        case 'error':
          return this.fail(out, ev.error);
      }
    }
    return out;
  }
}

/**
 * Decode a stream held in memory. `ended` (default true): these are all its bytes, so a
 * stream that stops inside a message is reported truncated; false: a prefix of a stream
 * whose rest may still come (no end-of-stream checks).
 */
export function decodeMrt(
  bytes: Uint8Array,
  opts: StreamDecoderOptions & { ended?: boolean } = {},
): { header?: MrtHeader; info?: MrtHeaderInfo; tokens: Uint8Array; known: number; verified: number; chunks: number; final?: { mime: string; bytes: Uint8Array }; error?: MrtFormatError; complete: boolean } {
  const d = new StreamDecoder(opts);
  const events = [...d.push(bytes), ...(opts.ended === false ? [] : d.end())];
  let final: { mime: string; bytes: Uint8Array } | undefined;
  let error: MrtFormatError | undefined;
  let complete = false;
  for (const e of events) {
    if (e.type === 'final') final = { mime: e.mime, bytes: e.bytes };
    if (e.type === 'error') error = e.error;
    if (e.type === 'end') complete = e.complete;
  }
  return { header: d.header, info: d.info, tokens: d.tokens, known: d.known, verified: d.verified, chunks: d.chunks, final, error, complete };
}
