// Incremental .mrt parser: push(bytes) as they arrive, events out. No Node-only APIs.
// It holds at most one message (header, index, one chunk or the final layer) of undecoded bytes,
// and none of a message that arrives whole in one push: its payload is a view of the pushed
// bytes (so a caller holding a whole stream, as the edge's PUT, holds it once; never reuse a
// pushed buffer while its events are in use).
// Events: 'placeholder' when the Header message (the first paint) is complete, 'header'
// when the Index is complete, then 'chunk' x N, 'final', 'end' (or 'error', then nothing).
import { mrt } from './gen/mrt.js';
import { chunkCrc, crc32, finalCrc, splitRawChunk } from './crc32.ts';
import { MrtFormatError } from './errors.ts';
import { checkPreamble, decodeFirstPaint, decodeIndex, headerInfo, learnedEnd } from './header.ts';
import { LIMITS } from './limits.ts';
import { readVarint } from './varint.ts';
import { CHUNK_CRC_BYTES, PREAMBLE_BYTES, type MrtEvent, type MrtFirstPaint, type MrtHeader, type MrtHeaderInfo } from './types.ts';

type State = 'preamble' | 'length' | 'body' | 'done' | 'error' | 'ended';
type Next = 'header' | 'index' | 'chunk' | 'final';

export class MrtParser {
  private state: State = 'preamble';
  private next: Next = 'header';
  /** absolute offset of the next byte to consume */
  private pos = 0;
  private small = new Uint8Array(PREAMBLE_BYTES);
  private smallN = 0;
  /** the varint length bytes of the current message (the head checksum covers them) */
  private lenBytes = new Uint8Array(5);
  private lenValue = 0;
  private lenMul = 1;
  private msgStart = 0;
  private body: Uint8Array = new Uint8Array(0);
  /** announced length of the current message (body grows towards it as bytes arrive) */
  private bodyLength = 0;
  private bodyFilled = 0;
  private version = { major: 0, minor: 0 };
  private _first: MrtFirstPaint | undefined;
  private _info: MrtHeaderInfo | undefined;
  private chunkIndex = 0;
  private finalReceived = false;
  /** crc32 of the Header and Index messages with their length prefixes (chunk CRCs continue from it) */
  private headerCrc = 0;

  /** the first paint (size, placeholder), once the placeholder event was emitted */
  get firstPaint(): MrtFirstPaint | undefined {
    return this._first;
  }
  /** header and byte geometry, once the header event was emitted */
  get info(): MrtHeaderInfo | undefined {
    return this._info;
  }
  get header(): MrtHeader | undefined {
    return this._info?.header;
  }
  /** number of whole, valid chunks delivered so far */
  get chunksReceived(): number {
    return this.chunkIndex;
  }
  /** bytes consumed so far */
  get offset(): number {
    return this.pos;
  }

  push(bytes: Uint8Array): MrtEvent[] {
    const events: MrtEvent[] = [];
    if (this.state === 'error' || this.state === 'ended') return events;
    try {
      this.consume(bytes, events);
      this.partialChunk(events);
    } catch (e) {
      if (!(e instanceof MrtFormatError)) throw e;
      this.state = 'error';
      events.push({ type: 'error', error: e });
    }
    return events;
  }

  /** Raw framing: the received part of an incomplete chunk's payload (its tokens decode before its checksum arrives). */
  private partialChunk(events: MrtEvent[]): void {
    if (this.state !== 'body' || this.next !== 'chunk' || this.bodyFilled === 0) return;
    const h = this._info!.header;
    if (h.chunkFraming !== 'raw') return;
    const c = h.chunks[this.chunkIndex]!;
    const n = Math.min(this.bodyFilled, this.bodyLength - CHUNK_CRC_BYTES);
    events.push({ type: 'partial', index: this.chunkIndex, tokenStart: c.tokenStart, tokenEnd: c.tokenEnd, payload: this.body.subarray(0, Math.max(0, n)), offset: this.msgStart });
  }

  /** The stream ended: an 'end' event, or a 'truncated' error when it ended inside a message. */
  end(): MrtEvent[] {
    if (this.state === 'error' || this.state === 'ended') return [];
    const s = this.state;
    const between = s === 'done' || this.betweenMessages();
    if (!between) {
      this.state = 'error';
      const what =
        s === 'preamble' || this.next === 'header' ? 'header'
        : this.next === 'index' ? 'index'
        : this.next === 'chunk' ? `chunk ${this.chunkIndex}`
        : 'final layer';
      return [{ type: 'error', error: new MrtFormatError('truncated', `stream ends inside the ${what}`, this.pos) }];
    }
    this.state = 'ended';
    const info = this._info!;
    const total = info.header.chunks.length;
    return [
      {
        type: 'end',
        chunks: this.chunkIndex,
        chunksTotal: total,
        final: this.finalReceived,
        complete: this.chunkIndex === total && (!info.header.final || this.finalReceived),
      },
    ];
  }

  private consume(bytes: Uint8Array, events: MrtEvent[]): void {
    let i = 0;
    const n = bytes.length;
    while (i < n) {
      switch (this.state) {
        case 'preamble': {
          while (i < n && this.smallN < PREAMBLE_BYTES) {
            const b = bytes[i++]!;
            this.small[this.smallN++] = b;
            this.pos++;
            if (this.smallN <= 3 && b !== [0x4d, 0x52, 0x54][this.smallN - 1]) {
              throw new MrtFormatError('magic', 'not an .mrt stream (bad magic)', this.pos - 1);
            }
          }
          if (this.smallN === PREAMBLE_BYTES) {
            this.version = checkPreamble(this.small);
            this.startLength();
          }
          break;
        }
        case 'length': {
          const b = bytes[i++]!;
          if (this.smallN === 0) this.msgStart = this.pos;
          this.lenBytes[this.smallN] = b;
          this.pos++;
          this.smallN++;
          this.lenValue += (b & 127) * this.lenMul;
          this.lenMul *= 128;
          if (b >= 128) {
            if (this.smallN >= 5) throw new MrtFormatError('corrupt', 'over-long message length', this.msgStart);
            break;
          }
          if (this.lenValue > 0xffffffff) throw new MrtFormatError('corrupt', 'message length out of range', this.msgStart);
          this.startBody(this.lenValue, events);
          break;
        }
        case 'body': {
          const take = Math.min(n - i, this.bodyLength - this.bodyFilled);
          const need = this.bodyFilled + take;
          if (take === this.bodyLength) {
            // the whole message is in this push: a view, not a copy
            this.body = bytes.subarray(i, i + take);
            this.bodyFilled = need;
            this.pos += take;
            i += take;
            this.finishBody(events);
            break;
          }
          if (need > this.body.length) {
            // grow geometrically: memory follows the bytes that actually arrived, not the
            // length a (possibly hostile) stream announces
            const grown = new Uint8Array(Math.min(this.bodyLength, Math.max(need, this.body.length * 2, 1 << 16)));
            grown.set(this.body.subarray(0, this.bodyFilled));
            this.body = grown;
          }
          this.body.set(bytes.subarray(i, i + take), this.bodyFilled);
          this.bodyFilled = need;
          this.pos += take;
          i += take;
          if (this.bodyFilled === this.bodyLength) this.finishBody(events);
          break;
        }
        case 'done':
          throw new MrtFormatError('trailing', 'bytes after the end of the stream', this.pos);
        default:
          return;
      }
    }
  }

  private startLength(): void {
    this.state = 'length';
    this.smallN = 0;
    this.lenValue = 0;
    this.lenMul = 1;
  }

  private startBody(len: number, events: MrtEvent[]): void {
    if (this.next === 'header') {
      if (len > LIMITS.MAX_HEADER_BYTES) throw new MrtFormatError('limit', `header of ${len} bytes exceeds MAX_HEADER_BYTES`, this.msgStart);
    } else if (this.next === 'index') {
      if (len > LIMITS.MAX_INDEX_BYTES) throw new MrtFormatError('limit', `index of ${len} bytes exceeds MAX_INDEX_BYTES`, this.msgStart);
    } else if (this.next === 'chunk') {
      const want = this._info!.header.chunks[this.chunkIndex]!.byteLength;
      if (len !== want) throw new MrtFormatError('table', `chunk ${this.chunkIndex} is ${len} bytes, the chunk table says ${want}`, this.msgStart);
    } else {
      const want = this._info!.header.final!.byteLength;
      if (len !== want) throw new MrtFormatError('table', `final layer is ${len} bytes, the header says ${want}`, this.msgStart);
    }
    this.bodyLength = len;
    this.body = new Uint8Array(0); // allocated when a message arrives in pieces
    this.bodyFilled = 0;
    this.state = 'body';
    if (len === 0) this.finishBody(events);
  }

  private afterMessage(events: MrtEvent[]): void {
    const h = this._info!.header;
    if (this.chunkIndex < h.chunks.length) this.next = 'chunk';
    else if (h.final && !this.finalReceived) this.next = 'final';
    else {
      this.state = 'done';
      return;
    }
    if (this.next === 'chunk' && h.chunkFraming === 'raw') {
      // 2.4: no length prefix, the chunk table says how long the chunk is
      this.smallN = 0;
      this.msgStart = this.pos;
      this.startBody(h.chunks[this.chunkIndex]!.byteLength, events);
      return;
    }
    this.startLength();
  }

  /** Between two chunks or before the final layer: no byte of the next one consumed yet. */
  private betweenMessages(): boolean {
    if (this.next !== 'chunk' && this.next !== 'final') return false;
    if (this.state === 'length') return this.smallN === 0;
    return this.state === 'body' && this.bodyFilled === 0 && this.msgStart === this.pos;
  }

  private chunkMessage(body: Uint8Array): { payload: Uint8Array; crc: number } {
    let m: mrt.Chunk;
    try {
      m = mrt.Chunk.decode(body);
    } catch (e) {
      throw new MrtFormatError('corrupt', `malformed chunk ${this.chunkIndex}: ${(e as Error).message}`, this.msgStart);
    }
    return { payload: m.payload ?? new Uint8Array(0), crc: (m.crc32 ?? 0) >>> 0 };
  }

  private finishBody(events: MrtEvent[]): void {
    const body = this.body;
    const bodyStart = this.pos - body.length;
    this.body = new Uint8Array(0);
    if (this.next === 'header') {
      const first = decodeFirstPaint(body, this.version, bodyStart, this.pos);
      this.headerCrc = crc32(body, crc32(this.lenBytes.subarray(0, this.smallN)));
      this._first = first;
      events.push({ type: 'placeholder', width: first.width, height: first.height, placeholder: first.placeholder, first });
      this.next = 'index';
      this.startLength();
      return;
    }
    if (this.next === 'index') {
      const header = decodeIndex(body, this._first!, bodyStart);
      this.headerCrc = crc32(body, crc32(this.lenBytes.subarray(0, this.smallN), this.headerCrc));
      this._info = headerInfo(header, this._first!.firstPaintEnd, this.pos);
      events.push({ type: 'header', header, info: this._info });
      this.afterMessage(events);
      return;
    }
    if (this.next === 'chunk') {
      const { payload, crc } = this._info!.header.chunkFraming === 'raw' ? splitRawChunk(body) : this.chunkMessage(body);
      const k = this.chunkIndex;
      if (chunkCrc(this.headerCrc, k, payload) !== crc) throw new MrtFormatError('crc', `chunk ${k} fails its checksum (corrupt chunk or header)`, this.msgStart);
      const c = this._info!.header.chunks[k]!;
      this.chunkIndex++;
      events.push({ type: 'chunk', index: k, tokenStart: c.tokenStart, tokenEnd: c.tokenEnd, payload, offset: this.msgStart, end: this.pos });
      this.afterMessage(events);
      return;
    }
    const data = finalData(body, this.headerCrc, this.msgStart);
    this.finalReceived = true;
    events.push({ type: 'final', mime: this._info!.header.final!.mime, bytes: data });
    this.afterMessage(events);
  }
}

/**
 * The image bytes of a Final message `body`, checked against its crc32, which continues from
 * `headerCrc` (the crc32 of the stream bytes after the preamble up to the end of the Index).
 * `offset`: where the message starts in the stream (for errors).
 */
export function finalData(body: Uint8Array, headerCrc: number, offset: number): Uint8Array {
  let m: mrt.Final;
  try {
    m = mrt.Final.decode(body);
  } catch (e) {
    throw new MrtFormatError('corrupt', `malformed final layer: ${(e as Error).message}`, offset);
  }
  const data = m.data ?? new Uint8Array(0);
  if (finalCrc(headerCrc, data) !== (m.crc32 ?? 0) >>> 0) throw new MrtFormatError('crc', 'final layer fails its checksum', offset);
  return data;
}

/**
 * The final layer read on its own (a Range request from the end of the last chunk: its varint
 * length, then the Final message), checked as the parser checks it. `head`: the stream's first
 * `info.headerEnd` bytes (its checksum covers the Header and the Index).
 */
export function readFinal(info: MrtHeaderInfo, head: Uint8Array, bytes: Uint8Array): Uint8Array {
  const start = learnedEnd(info);
  if (!info.header.final || info.finalEnd === undefined) throw new MrtFormatError('corrupt', 'the stream has no final layer', start);
  if (bytes.length !== info.finalEnd - start) throw new MrtFormatError('truncated', `final layer of ${bytes.length} bytes, the header says ${info.finalEnd - start}`, start);
  const r = readVarint(bytes, 0);
  if (!Array.isArray(r) || r[1] + r[0] !== bytes.length) throw new MrtFormatError('corrupt', 'bad final layer length', start);
  const headerCrc = crc32(head.subarray(PREAMBLE_BYTES, info.headerEnd));
  return finalData(bytes.subarray(r[1]), headerCrc, start);
}

/** Parse a whole (possibly truncated) stream at once: all events including the end/error. */
export function parseMrt(bytes: Uint8Array): MrtEvent[] {
  const p = new MrtParser();
  return [...p.push(bytes), ...p.end()];
}
