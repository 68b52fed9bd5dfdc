// writeMrt: header (first paint) + index + chunks (+ final layer) -> one .mrt byte stream.
import { mrt } from './gen/mrt.js';
import { chunkCrc, crc32, encodeRawChunk, finalCrc } from './crc32.ts';
import { MrtFormatError } from './errors.ts';
import { decodeFirstPaint, decodeIndex, defaultPlaceholderSize, DEFAULT_PLACEHOLDER_MIME } from './header.ts';
import { LIMITS } from './limits.ts';
import { CHUNK_RULES, ruleChunkLayers, type ChunkRule } from './chunking.ts';
import { av1StillPayload, avifCodec } from './avif.ts';
import { encodeChunkSizes } from './table.ts';
import { varintSize, writeVarint } from './varint.ts';
import {
  CHUNK_CRC_BYTES,
  DEFAULT_LEVELS,
  DEFAULT_PLACEHOLDER_FACTOR,
  DEFAULT_WINDOW,
  FORMAT_MAJOR,
  MAGIC,
  PREAMBLE_BYTES,
  type MrtChunkFraming,
  type MrtChunkInput,
  type MrtFinalInput,
  type MrtHeaderInput,
} from './types.ts';

function usage(msg: string): never {
  throw new MrtFormatError('usage', msg);
}

/**
 * Build the Header (first paint) and Index message bytes for the given chunk sizes (as the
 * chunk table lists them: `chunkByteLength` for the header's framing).
 * Validated by decoding them back.
 */
export function encodeHeaderMessages(
  h: MrtHeaderInput,
  chunks: readonly { tokenStart: number; tokenEnd: number }[],
  chunkSizes: readonly number[],
  final?: { mime: string; byteLength: number },
): { header: Uint8Array; index: Uint8Array; minor: number } {
  const window = h.layout.window;
  const gridW = h.layout.gridW ?? Math.ceil(h.width / window);
  const gridH = h.layout.gridH ?? Math.ceil(h.height / window);
  if (h.sharedLate && h.prior !== 'rcm') usage('sharedLate is a form of the RCM prior');
  if (h.lateContexts && !h.sharedLate) usage('lateContexts is a form of the shared late table');
  if (h.coarseRcm && !h.lateContexts) usage('coarseRcm is a form of the late context tables');
  if (h.coarseRcm && h.layout.order !== 'coarse-first') usage("coarseRcm codes the coarse pass of order 'coarse-first'");
  if (gridW !== Math.ceil(h.width / window) || gridH !== Math.ceil(h.height / window)) usage(`window grid ${gridW}x${gridH} does not match ${h.width}x${h.height} / ${window}`);
  // 2.8 coarse-first: K more layers of symbols (the coarse trits) in the stream
  const coarse = h.layout.order === 'coarse-first' ? (h.layout.coarseLayers ?? 0) : 0;
  if (h.layout.order === 'coarse-first' && coarse < 1) usage('the coarse-first order needs coarseLayers >= 1');
  if (h.layout.order !== 'coarse-first' && h.layout.coarseLayers) usage("coarseLayers needs order 'coarse-first'");
  const streamLayers = h.layout.tokensPerWindow + coarse;
  const total = gridW * gridH * streamLayers;
  // token ranges: contiguous from 0
  let pos = 0;
  for (const [k, c] of chunks.entries()) {
    if (c.tokenStart !== pos) usage(`chunk ${k} starts at token ${c.tokenStart}, expected ${pos}`);
    if (!(c.tokenEnd > c.tokenStart)) usage(`chunk ${k} is empty`);
    if (c.tokenEnd > total) usage(`chunk ${k} ends at token ${c.tokenEnd} > ${total}`);
    pos = c.tokenEnd;
  }
  // uniform step when chunk k = [k*step, min((k+1)*step, total))
  const step = chunks.length ? chunks[0]!.tokenEnd : 0;
  const uniform = chunks.every((c, k) => c.tokenStart === k * step && c.tokenEnd === Math.min((k + 1) * step, total));
  // 2.7 (omitDefaults): the default window and placeholder size are not written either
  const omitWindow = !!h.omitDefaults && window === DEFAULT_WINDOW;
  const head: mrt.Header.$Properties = omitWindow ? { width: h.width, height: h.height } : { width: h.width, height: h.height, window };
  // 2.11: the image size, only when the learned layer is a downscaled copy
  const larger = (h.imageWidth ?? h.width) !== h.width || (h.imageHeight ?? h.height) !== h.height;
  if (larger) Object.assign(head, { imageWidth: h.imageWidth, imageHeight: h.imageHeight });
  let omitSize = false;
  if (h.placeholder) {
    const p = h.placeholder;
    const size = defaultPlaceholderSize(gridW * window, gridH * window);
    omitSize = !!h.omitDefaults && !!size && size[0] === p.width && size[1] === p.height;
    const dims = omitSize ? {} : { width: p.width, height: p.height };
    // the default MIME type is not written: every byte of the first paint counts
    const av1 = p.mime === 'image/avif' ? av1StillPayload(p.bytes, p.width, p.height) : null;
    if (av1) {
      // 2.3: only the AV1 bitstream; readers rebuild the same file (2.7: codecs 2-4 for 4:4:4 and 10-bit)
      head.placeholder = { ...dims, data: av1.payload, codec: avifCodec(av1.format) };
    } else {
      head.placeholder = { ...dims, data: p.bytes };
      if (p.mime !== DEFAULT_PLACEHOLDER_MIME) head.placeholder.mime = p.mime;
    }
  }
  // 2.7 (omitDefaults): the default levels and base factor are not written
  const omitLevels = !!h.omitDefaults && h.layout.levels === DEFAULT_LEVELS;
  const omitFactor = !!h.omitDefaults && h.layout.baseFactor === DEFAULT_PLACEHOLDER_FACTOR;
  const msg: mrt.Index.$Properties = {
    layout: {
      // 2.6 (compact): the grid is what the Header implies, so it is not written
      ...(h.compact ? {} : { gridW, gridH }),
      tokens: h.layout.tokensPerWindow,
      ...(omitLevels ? {} : { levels: h.layout.levels }),
      ...(omitFactor ? {} : { baseFactor: h.layout.baseFactor }),
      ...(coarse ? { order: mrt.Order.COARSE_FIRST, coarseLayers: coarse } : { order: mrt.Order.LAYER_MAJOR }),
    },
    prior: h.prior === 'static' ? mrt.PriorKind.STATIC : h.coarseRcm ? mrt.PriorKind.RCM_COARSE : h.lateContexts ? mrt.PriorKind.RCM_LATE_CONTEXTS : h.sharedLate ? mrt.PriorKind.RCM_SHARED_LATE : mrt.PriorKind.RCM,
    chunkCount: chunks.length,
  };
  if (h.modelId) msg.modelId = h.modelId;
  if (h.modelHash && h.modelHash.length) msg.modelHash = h.modelHash;
  if (chunks.length) {
    msg.chunkSizes = encodeChunkSizes(chunkSizes);
    const perLayer = gridW * gridH;
    // the most compact form that describes the ranges, preferring older ones
    const layers = wholeLayers(chunks, perLayer) ? chunks.map((c) => (c.tokenEnd - c.tokenStart) / perLayer) : null;
    const isRule = (r: ChunkRule) => !!layers && !!ruleChunkLayers(r, layers.length, streamLayers)?.every((n, k) => n === layers[k]);
    // rule numbers in ascending order: an older rule wins when both describe the ranges
    const ruleId = Object.entries(CHUNK_RULES).find(([, r]) => isRule(r))?.[0];
    if (uniform) msg.chunkTokenStep = step;
    else if (ruleId) msg.chunkRule = Number(ruleId);
    else if (layers) msg.chunkLayers = layers;
    else msg.chunkTokens = chunks.map((c) => c.tokenEnd - c.tokenStart);
  }
  if (h.coder === 'chained') msg.coder = 1;
  if (h.chunkFraming === 'raw') msg.chunkFraming = 1;
  if (final) msg.final = { mime: final.mime, byteLength: final.byteLength };
  if (h.contentHash && h.contentHash.length) msg.contentHash = h.contentHash;
  if (h.encoderOptions) msg.encoderOptions = h.encoderOptions;
  const header = mrt.Header.encode(head).finish();
  const index = mrt.Index.encode(msg).finish();
  // the lowest minor version that reads the file: 11 for an image larger than its learned layer (2.11), 10 for the coarse RCM (2.10), 9 for the doubling64 chunk rule (2.9), 8 for the coarse-first order or the late context tables (2.8), 7 for values left to their 2.7 defaults, a compact 4:4:4 or 10-bit AVIF or a model hash shorter than 8 bytes (2.7), 6 for a layout without the grid or the shared late table (2.6), 5 for the doubling chunk rule (2.5), 4 for
  // raw chunk framing (2.4), 3 for a
  // compact AVIF placeholder (2.3),
  // 2 for chunk_rule, the chained coder or a model hash shorter than 16 bytes (2.2), 1 for
  // chunk_layers (2.1), else 0
  const hashBytes = msg.modelHash?.length ?? 0;
  const v27 = omitWindow || omitSize || omitLevels || omitFactor || (head.placeholder?.codec ?? 0) >= 2 || (hashBytes > 0 && hashBytes < 8);
  const shortHash = hashBytes > 0 && hashBytes < 16;
  const minor = larger ? 11 : h.coarseRcm ? 10 : msg.chunkRule === 3 ? 9 : coarse || h.lateContexts ? 8 : v27 ? 7 : h.compact || msg.prior === mrt.PriorKind.RCM_SHARED_LATE ? 6 : msg.chunkRule === 2 ? 5 : msg.chunkFraming ? 4 : head.placeholder?.codec ? 3 : msg.chunkRule || msg.coder || shortHash ? 2 : msg.chunkLayers ? 1 : 0;
  // round-trip check: the writer never produces what the reader rejects
  try {
    if (header.length > LIMITS.MAX_HEADER_BYTES) usage(`header of ${header.length} bytes exceeds MAX_HEADER_BYTES (placeholder too large?)`);
    if (index.length > LIMITS.MAX_INDEX_BYTES) usage(`index of ${index.length} bytes exceeds MAX_INDEX_BYTES`);
    const first = decodeFirstPaint(header, { major: FORMAT_MAJOR, minor }, 0, 0);
    decodeIndex(index, first, 0);
  } catch (e) {
    usage(`invalid header: ${(e as Error).message}`);
  }
  return { header, index, minor };
}

function wholeLayers(chunks: readonly { tokenStart: number; tokenEnd: number }[], perLayer: number): boolean {
  return chunks.every((c) => c.tokenStart % perLayer === 0 && c.tokenEnd % perLayer === 0);
}

/** crc32 of the Header and Index messages with their varint length prefixes: where chunk CRCs start. */
export function headCrc(header: Uint8Array, index: Uint8Array): number {
  const n = new Uint8Array(10);
  let c = crc32(n.subarray(0, writeVarint(n, 0, header.length)));
  c = crc32(header, c);
  c = crc32(n.subarray(0, writeVarint(n, 0, index.length)), c);
  return crc32(index, c);
}

/**
 * A Chunk / Final message: field 1 (bytes) then field 2 (fixed32), both always present
 * (also when empty / zero, unlike protobufjs' proto3 encoder), so that the size depends
 * only on the data length. Standard protobuf wire format; decoded with the generated code.
 */
function bytesAndCrcMessage(data: Uint8Array, crc: number): Uint8Array {
  const out = new Uint8Array(bytesAndCrcMessageSize(data.length));
  out[0] = 0x0a; // field 1, wire type 2
  let pos = writeVarint(out, 1, data.length);
  out.set(data, pos);
  pos += data.length;
  out[pos] = 0x15; // field 2, wire type 5
  out[pos + 1] = crc & 0xff;
  out[pos + 2] = (crc >>> 8) & 0xff;
  out[pos + 3] = (crc >>> 16) & 0xff;
  out[pos + 4] = (crc >>> 24) & 0xff;
  return out;
}

export function bytesAndCrcMessageSize(dataLength: number): number {
  return 1 + varintSize(dataLength) + dataLength + 5;
}

export function encodeChunkMessage(headerCrc: number, index: number, payload: Uint8Array): Uint8Array {
  return bytesAndCrcMessage(payload, chunkCrc(headerCrc, index, payload));
}

/** Bytes a chunk with this payload takes in the chunk table under `framing`. */
export function chunkByteLength(payloadLength: number, framing: MrtChunkFraming = 'message'): number {
  return framing === 'raw' ? payloadLength + CHUNK_CRC_BYTES : bytesAndCrcMessageSize(payloadLength);
}

export function encodeFinalMessage(headerCrc: number, bytes: Uint8Array): Uint8Array {
  return bytesAndCrcMessage(bytes, finalCrc(headerCrc, bytes));
}

/** Serialise a complete .mrt stream. Chunks must be contiguous token ranges from 0. */
export function writeMrt(header: MrtHeaderInput, chunks: readonly MrtChunkInput[], final?: MrtFinalInput): Uint8Array {
  // The index lists the message sizes; the messages' checksums depend on the header and index bytes.
  const raw = header.chunkFraming === 'raw';
  const head = encodeHeaderMessages(
    header,
    chunks,
    chunks.map((c) => chunkByteLength(c.payload.length, header.chunkFraming)),
    final ? { mime: final.mime, byteLength: bytesAndCrcMessageSize(final.bytes.length) } : undefined,
  );
  const hcrc = headCrc(head.header, head.index);
  // [bytes, with a varint length prefix?]
  const parts: [Uint8Array, boolean][] = [[head.header, true], [head.index, true]];
  for (const [k, c] of chunks.entries()) {
    parts.push(raw ? [encodeRawChunk(hcrc, k, c.payload), false] : [encodeChunkMessage(hcrc, k, c.payload), true]);
  }
  if (final) parts.push([encodeFinalMessage(hcrc, final.bytes), true]);
  let n = PREAMBLE_BYTES;
  for (const [m, framed] of parts) n += (framed ? varintSize(m.length) : 0) + m.length;
  const out = new Uint8Array(n);
  out.set(MAGIC, 0);
  out[3] = FORMAT_MAJOR;
  out[4] = head.minor;
  let pos = PREAMBLE_BYTES;
  for (const [m, framed] of parts) {
    if (framed) pos = writeVarint(out, pos, m.length);
    out.set(m, pos);
    pos += m.length;
  }
  return out;
}
