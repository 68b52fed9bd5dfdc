// Header + Index <-> protobuf, validation, readFirstPaint / readHeader and the cut rule.
import { mrt } from './gen/mrt.js';
import { MrtFormatError } from './errors.ts';
import { LIMITS, checkImageSize, fullSizeProblem } from './limits.ts';
import { learnedSizeProblem } from './learned.ts';
import { CHUNK_RULES, ruleChunkLayers } from './chunking.ts';
import { AVIF_FORMATS, wrapAv1Still } from './avif.ts';
import { decodeChunkSizes } from './table.ts';
import { readVarint, VARINT_OVERLONG, varintSize } from './varint.ts';
import {
  CHUNK_CRC_BYTES,
  DEFAULT_LEVELS,
  COARSE_FIRST_LEVELS,
  DEFAULT_PLACEHOLDER_FACTOR,
  DEFAULT_WINDOW,
  FORMAT_MAJOR,
  MAGIC,
  PREAMBLE_BYTES,
  type MrtChunkEntry,
  type MrtChunkFraming,
  type MrtFirstPaint,
  type MrtHeader,
  type MrtHeaderInfo,
} from './types.ts';

/** Check the 5-byte preamble at the start of `bytes` (which must hold at least 5 bytes). */
export function checkPreamble(bytes: Uint8Array): { major: number; minor: number } {
  for (let i = 0; i < 3; i++) {
    if (bytes[i] !== MAGIC[i]) throw new MrtFormatError('magic', 'not an .mrt stream (bad magic)', i);
  }
  const major = bytes[3]!;
  const minor = bytes[4]!;
  if (major !== FORMAT_MAJOR) {
    throw new MrtFormatError(
      'version',
      major > FORMAT_MAJOR
        ? `.mrt major version ${major} is newer than this reader (supports ${FORMAT_MAJOR}.x); update the decoder`
        : major === 1
          ? `.mrt major version 1 is the pre-release layout (one header message), no longer read (supports ${FORMAT_MAJOR}.x); re-encode the image`
          : `.mrt major version ${major} is not supported (supports ${FORMAT_MAJOR}.x)`,
      3,
    );
  }
  return { major, minor };
}

function str(s: string | undefined | null, what: string, offset: number): string {
  const v = s ?? '';
  if (v.length > LIMITS.MAX_STRING_BYTES) throw new MrtFormatError('limit', `${what} longer than MAX_STRING_BYTES`, offset);
  return v;
}

function uint(v: number | undefined | null): number {
  return typeof v === 'number' ? v : 0;
}

/** The size a 2.7 placeholder without one has (null when the padded size is not a multiple of the factor). */
export function defaultPlaceholderSize(paddedWidth: number, paddedHeight: number): [number, number] | null {
  const f = DEFAULT_PLACEHOLDER_FACTOR;
  return paddedWidth % f || paddedHeight % f ? null : [paddedWidth / f, paddedHeight / f];
}

/** The placeholder MIME type a Header without one means. */
export const DEFAULT_PLACEHOLDER_MIME = 'image/webp';

/**
 * Decode and validate a Header message (the first paint). `offset` is the absolute offset
 * of the message body (for errors), `end` the absolute offset where it ends.
 */
export function decodeFirstPaint(body: Uint8Array, version: { major: number; minor: number }, offset: number, end: number): MrtFirstPaint {
  let m: mrt.Header;
  try {
    m = mrt.Header.decode(body);
  } catch (e) {
    throw new MrtFormatError('corrupt', `malformed header: ${(e as Error).message}`, offset);
  }
  const width = uint(m.width);
  const height = uint(m.height);
  if (width < 1 || height < 1) throw new MrtFormatError('corrupt', `bad image size ${width}x${height}`, offset);
  // 2.7: no window means the default one
  const window = uint(m.window) || (version.minor >= 7 ? DEFAULT_WINDOW : 0);
  if (window < 1 || window > LIMITS.MAX_WINDOW) throw new MrtFormatError('limit', `window size ${window} out of range`, offset);
  checkImageSize(width, height, { window }, offset);
  // 2.11: the image itself, when the learned layer is a downscaled copy of it
  const imageWidth = uint(m.imageWidth) || width;
  const imageHeight = uint(m.imageHeight) || height;
  if (imageWidth !== width || imageHeight !== height) {
    const tooLarge = fullSizeProblem(imageWidth, imageHeight);
    const p = tooLarge ?? learnedSizeProblem({ width: imageWidth, height: imageHeight }, { width, height });
    if (p) throw new MrtFormatError(tooLarge ? 'limit' : 'corrupt', p, offset);
  }
  const first: MrtFirstPaint = {
    version,
    width,
    height,
    imageWidth,
    imageHeight,
    window,
    paddedWidth: Math.ceil(width / window) * window,
    paddedHeight: Math.ceil(height / window) * window,
    firstPaintEnd: end,
  };
  if (m.placeholder) {
    const p = m.placeholder;
    let pw = uint(p.width);
    let ph = uint(p.height);
    if (pw === 0 && ph === 0 && version.minor >= 7) {
      // 2.7: no size means the padded image at 1/DEFAULT_PLACEHOLDER_FACTOR
      const size = defaultPlaceholderSize(first.paddedWidth, first.paddedHeight);
      if (!size) throw new MrtFormatError('corrupt', `placeholder without a size, but ${first.paddedWidth}x${first.paddedHeight} is not a multiple of ${DEFAULT_PLACEHOLDER_FACTOR}`, offset);
      [pw, ph] = size;
    }
    // a placeholder is a downscale of the padded image: never larger (its pixels are decoded before the Index says anything)
    if (pw > first.paddedWidth || ph > first.paddedHeight) {
      throw new MrtFormatError('limit', `placeholder ${pw}x${ph} is larger than the padded image ${first.paddedWidth}x${first.paddedHeight}`, offset);
    }
    const codec = uint(p.codec);
    const data = p.data ?? new Uint8Array(0);
    if (codec === 1 || (codec >= 2 && codec <= AVIF_FORMATS.length && version.minor >= 7)) {
      // compact AVIF (2.3; 2.7: codecs 2-4 = 4:4:4 and 10-bit): the reader rebuilds the file around the AV1 bitstream
      if (p.mime) throw new MrtFormatError('corrupt', 'a compact AVIF placeholder has a MIME type', offset);
      const bytes = wrapAv1Still(data, pw, ph, AVIF_FORMATS[codec - 1]);
      first.placeholder = { mime: 'image/avif', width: pw, height: ph, bytes, storedBytes: data.length };
    } else if (codec === 0) {
      first.placeholder = { mime: str(p.mime, 'placeholder mime', offset) || DEFAULT_PLACEHOLDER_MIME, width: pw, height: ph, bytes: data };
    } else {
      throw new MrtFormatError('unsupported', `unknown placeholder codec ${codec}`, offset);
    }
  }
  return first;
}

/**
 * Decode and validate an Index message given the stream's first paint (Header message).
 * `offset` is the absolute offset of the message body (for errors). Everything a later
 * allocation depends on is checked here.
 */
export function decodeIndex(body: Uint8Array, first: MrtFirstPaint, offset: number): MrtHeader {
  let m: mrt.Index;
  try {
    m = mrt.Index.decode(body);
  } catch (e) {
    throw new MrtFormatError('corrupt', `malformed index: ${(e as Error).message}`, offset);
  }
  const { width, height, window } = first;
  const l = m.layout;
  if (!l) throw new MrtFormatError('corrupt', 'index has no token layout', offset);
  const T = uint(l.tokens);
  // 2.7: no levels or base factor means the default
  const v27 = first.version.minor >= 7;
  const L = uint(l.levels) || (v27 ? DEFAULT_LEVELS : 0);
  const baseFactor = uint(l.baseFactor) || (v27 ? DEFAULT_PLACEHOLDER_FACTOR : 0);
  // 2.6: a layout without the grid (both 0) means the grid the Header implies
  const derived = uint(l.gridW) === 0 && uint(l.gridH) === 0;
  const gridW = derived ? Math.ceil(width / window) : uint(l.gridW);
  const gridH = derived ? Math.ceil(height / window) : uint(l.gridH);
  if (baseFactor < 1 || baseFactor > LIMITS.MAX_WINDOW) throw new MrtFormatError('corrupt', `base factor ${baseFactor} out of range`, offset);
  if (gridW !== Math.ceil(width / window) || gridH !== Math.ceil(height / window)) {
    throw new MrtFormatError('corrupt', `window grid ${gridW}x${gridH} does not match ${width}x${height} / ${window}`, offset);
  }
  if (T < 1 || T > LIMITS.MAX_TOKENS_PER_WINDOW) throw new MrtFormatError('limit', `tokens per window ${T} out of range`, offset);
  if (L < 2 || L > LIMITS.MAX_LEVELS) throw new MrtFormatError('limit', `levels ${L} out of range`, offset);
  const orderId = uint(l.order);
  if (orderId !== 0 && orderId !== 1) throw new MrtFormatError('unsupported', `unknown token order ${l.order}`, offset);
  // 2.8 coarse-first: K layers sent as coarse trits first, so the stream has K more layers of symbols
  const K = uint(l.coarseLayers);
  if (orderId === 1 && (K < 1 || K > T)) throw new MrtFormatError('corrupt', `coarse-first order with ${K} coarse layers (tokens per window ${T})`, offset);
  if (orderId === 1 && L !== COARSE_FIRST_LEVELS) throw new MrtFormatError('corrupt', `coarse-first order needs ${COARSE_FIRST_LEVELS} levels, the layout has ${L}`, offset);
  if (orderId === 0 && K !== 0) throw new MrtFormatError('corrupt', 'coarse layers in a layer-major layout', offset);
  if (gridW * gridH > LIMITS.MAX_WINDOWS) throw new MrtFormatError('limit', `${gridW}x${gridH} windows exceed MAX_WINDOWS`, offset);
  const streamLayers = T + K;
  checkImageSize(width, height, { window, streamLayers }, offset);
  const totalTokens = gridW * gridH * streamLayers;
  const priorId = uint(m.prior);
  if (priorId > 4) throw new MrtFormatError('unsupported', `unknown prior kind ${priorId}`, offset);
  if (priorId === 4 && orderId !== 1) throw new MrtFormatError('corrupt', 'prior RCM_COARSE without the coarse-first order', offset);
  const modelHash = m.modelHash ?? new Uint8Array(0);
  if (modelHash.length > 32) throw new MrtFormatError('corrupt', 'model hash longer than 32 bytes', offset);

  // chunk table
  const count = uint(m.chunkCount);
  if (count > LIMITS.MAX_CHUNKS) throw new MrtFormatError('limit', `${count} chunks exceed MAX_CHUNKS`, offset);
  const sizes = decodeChunkSizes(m.chunkSizes ?? new Uint8Array(0), count, offset);
  const rule = uint(m.chunkRule);
  let layers = m.chunkLayers ?? [];
  const perLayer = gridW * gridH;
  let explicit = m.chunkTokens ?? [];
  if (rule !== 0) {
    const name = CHUNK_RULES[rule as keyof typeof CHUNK_RULES];
    if (!name) throw new MrtFormatError('unsupported', `unknown chunk rule ${rule}`, offset);
    if (layers.length > 0 || explicit.length > 0 || uint(m.chunkTokenStep) > 0) throw new MrtFormatError('corrupt', 'chunk table has a rule and explicit token ranges', offset);
    const r = ruleChunkLayers(name, count, streamLayers);
    if (!r) throw new MrtFormatError('corrupt', `the chunk rule has fewer than ${count} chunks for ${streamLayers} layers`, offset);
    layers = r;
  }
  const coderId = uint(m.coder);
  if (coderId !== 0 && coderId !== 1) throw new MrtFormatError('unsupported', `unknown chunk coder ${coderId}`, offset);
  const framingId = uint(m.chunkFraming);
  if (framingId !== 0 && framingId !== 1) throw new MrtFormatError('unsupported', `unknown chunk framing ${framingId}`, offset);
  const chunkFraming: MrtChunkFraming = framingId === 1 ? 'raw' : 'message';
  // a raw chunk holds at least its crc32 (a Chunk message's own decoding checks its fields)
  const minChunk = chunkFraming === 'raw' ? CHUNK_CRC_BYTES : 0;
  if (layers.length > 0) {
    if (explicit.length > 0) throw new MrtFormatError('corrupt', 'chunk table has both token and layer counts', offset);
    if (layers.length !== count) throw new MrtFormatError('corrupt', `chunk table lists ${layers.length} layer counts for ${count} chunks`, offset);
    // whole layers; a count past the stream's layers fails the range check below
    explicit = layers.map((n) => Math.min(uint(n), streamLayers + 1) * perLayer);
  }
  const step = uint(m.chunkTokenStep);
  const chunks: MrtChunkEntry[] = [];
  let start = 0;
  let total = first.firstPaintEnd + body.length;
  if (explicit.length > 0) {
    if (explicit.length !== count) throw new MrtFormatError('corrupt', `chunk table lists ${explicit.length} token counts for ${count} chunks`, offset);
    for (let k = 0; k < count; k++) {
      const n = explicit[k]!;
      if (n < 1) throw new MrtFormatError('corrupt', `chunk ${k} is empty`, offset);
      if (n > totalTokens - start) throw new MrtFormatError('corrupt', `chunk ${k} token range exceeds the ${totalTokens} tokens`, offset);
      chunks.push({ index: k, tokenStart: start, tokenEnd: start + n, byteLength: sizes[k]! });
      start += n;
    }
  } else if (count > 0) {
    if (step < 1) throw new MrtFormatError('corrupt', 'chunk table has no token ranges', offset);
    if ((count - 1) * step >= totalTokens) throw new MrtFormatError('corrupt', `${count} chunks of ${step} tokens exceed the ${totalTokens} tokens`, offset);
    for (let k = 0; k < count; k++) {
      const s = k * step;
      chunks.push({ index: k, tokenStart: s, tokenEnd: Math.min(s + step, totalTokens), byteLength: sizes[k]! });
    }
  }
  for (const c of chunks) {
    if (c.byteLength < minChunk) throw new MrtFormatError('corrupt', `chunk ${c.index} of ${c.byteLength} bytes has no room for its checksum`, offset);
    total += chunkPrefixBytes(chunkFraming, c.byteLength) + c.byteLength;
    if (total > LIMITS.MAX_TOTAL_BYTES) throw new MrtFormatError('limit', 'stream length exceeds MAX_TOTAL_BYTES', offset);
  }

  const h: MrtHeader = {
    version: first.version,
    modelId: str(m.modelId, 'model id', offset),
    modelHash,
    width,
    height,
    imageWidth: first.imageWidth,
    imageHeight: first.imageHeight,
    layout: { window, baseFactor, gridW, gridH, tokensPerWindow: T, levels: L, order: orderId === 1 ? 'coarse-first' : 'layer-major', coarseLayers: K },
    prior: priorId === 0 ? 'static' : 'rcm',
    sharedLate: priorId >= 2,
    lateContexts: priorId >= 3,
    coarseRcm: priorId === 4,
    coder: coderId === 1 ? 'chained' : 'restart',
    chunkFraming,
    totalTokens,
    chunks,
  };
  if (first.placeholder) h.placeholder = first.placeholder;
  if (m.final) {
    const n = uint(m.final.byteLength);
    if (n > LIMITS.MAX_FINAL_BYTES) throw new MrtFormatError('limit', `final layer of ${n} bytes exceeds MAX_FINAL_BYTES`, offset);
    if (total + n > LIMITS.MAX_TOTAL_BYTES) throw new MrtFormatError('limit', 'stream length exceeds MAX_TOTAL_BYTES', offset);
    h.final = { mime: str(m.final.mime, 'final mime', offset), byteLength: n };
  }
  // only a final layer carries an image larger than the learned layer
  if (!h.final && (first.imageWidth !== width || first.imageHeight !== height)) {
    throw new MrtFormatError('corrupt', `image ${first.imageWidth}x${first.imageHeight} coded as a ${width}x${height} learned layer without a final layer`, offset);
  }
  if (m.contentHash && m.contentHash.length) {
    if (m.contentHash.length > 64) throw new MrtFormatError('corrupt', 'content hash longer than 64 bytes', offset);
    h.contentHash = m.contentHash;
  }
  if (m.encoderOptions) h.encoderOptions = str(m.encoderOptions, 'encoder options', offset);
  return h;
}

/** Bytes before a chunk of `byteLength` table bytes: its varint length, or none when raw (2.4). */
function chunkPrefixBytes(framing: MrtChunkFraming, byteLength: number): number {
  return framing === 'raw' ? 0 : varintSize(byteLength);
}

/**
 * Byte geometry of the complete stream for a header whose Header message ends at
 * `firstPaintEnd` and whose Index ends at `headerEnd`.
 */
export function headerInfo(header: MrtHeader, firstPaintEnd: number, headerEnd: number): MrtHeaderInfo {
  const chunkEnds: number[] = [];
  let pos = headerEnd;
  for (const c of header.chunks) {
    pos += chunkPrefixBytes(header.chunkFraming, c.byteLength) + c.byteLength;
    chunkEnds.push(pos);
  }
  const info: MrtHeaderInfo = { header, firstPaintEnd, headerEnd, chunkEnds, totalLength: pos };
  if (header.final) {
    pos += varintSize(header.final.byteLength) + header.final.byteLength;
    info.finalEnd = pos;
    info.totalLength = pos;
  }
  return info;
}

/**
 * Where the learned chunks end: the end of the last chunk (the Index's end when there is none),
 * which is where the final layer, if any, starts.
 */
export function learnedEnd(info: Pick<MrtHeaderInfo, 'chunkEnds' | 'headerEnd'>): number {
  return info.chunkEnds.at(-1) ?? info.headerEnd;
}

/** The message whose varint length starts at `at`: [bodyStart, end), or 'need-more'. */
function messageAt(prefix: Uint8Array, at: number, what: string, limit: number): [number, number] {
  const r = readVarint(prefix, at);
  if (r === VARINT_OVERLONG) throw new MrtFormatError('corrupt', `bad ${what} length`, at);
  if (r === null) throw new MrtFormatError('need-more', `${what} length incomplete`, prefix.length);
  const [len, bodyStart] = r;
  if (len > limit) throw new MrtFormatError('limit', `${what} of ${len} bytes exceeds the limit of ${limit}`, at);
  const end = bodyStart + len;
  if (prefix.length < end) throw new MrtFormatError('need-more', `${what} needs ${end} bytes`, prefix.length);
  return [bodyStart, end];
}

/**
 * Read the first paint (preamble + Header message: size and placeholder) from a prefix of
 * a stream. Throws MrtFormatError 'need-more' while the prefix is too short, other codes
 * for bad input.
 */
export function readFirstPaint(prefix: Uint8Array): MrtFirstPaint {
  if (prefix.length < PREAMBLE_BYTES) {
    // still reject a wrong magic early
    for (let i = 0; i < Math.min(3, prefix.length); i++) {
      if (prefix[i] !== MAGIC[i]) throw new MrtFormatError('magic', 'not an .mrt stream (bad magic)', i);
    }
    throw new MrtFormatError('need-more', `need at least ${PREAMBLE_BYTES} bytes`, prefix.length);
  }
  const version = checkPreamble(prefix);
  const [bodyStart, end] = messageAt(prefix, PREAMBLE_BYTES, 'header', LIMITS.MAX_HEADER_BYTES);
  return decodeFirstPaint(prefix.subarray(bodyStart, end), version, bodyStart, end);
}

/**
 * Read the Header and the Index (model, layout, chunk table) from a prefix of a stream
 * (never touches payloads). Throws MrtFormatError 'need-more' while the prefix is too
 * short, other codes for bad input.
 */
export function readHeader(prefix: Uint8Array): MrtHeaderInfo {
  const first = readFirstPaint(prefix);
  const [bodyStart, end] = messageAt(prefix, first.firstPaintEnd, 'index', LIMITS.MAX_INDEX_BYTES);
  const header = decodeIndex(prefix.subarray(bodyStart, end), first, bodyStart);
  return headerInfo(header, first.firstPaintEnd, end);
}

/** Whole chunks held by the first `length` bytes of the stream (binary search on the chunk ends). */
export function chunksWithin(info: MrtHeaderInfo, length: number): number {
  const ends = info.chunkEnds;
  let lo = 0;
  let hi = ends.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (ends[mid - 1]! <= length) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * The cut rule: the prefix a byte budget (`bytes`) and/or a chunk count (`chunks`) allows.
 * With raw chunk framing (2.4) a byte budget is cut exactly: a reader decodes the tokens of
 * a partly received chunk (their checksum is checked when the rest arrives), so every byte
 * counts. Otherwise (and for `chunks`) the cut is the largest prefix that ends on a chunk
 * boundary within the budget. Never less than `headerEnd` (the Header and the Index: a
 * prefix that stops between them is not a valid file), never inside the final layer; a
 * budget that covers the whole stream (or chunks > chunk count) returns the whole length
 * (including the final layer).
 */
export function prefixLength(info: MrtHeaderInfo, budget: { bytes?: number; chunks?: number }): number {
  const ends = info.chunkEnds;
  let cut = info.totalLength;
  if (budget.chunks !== undefined) {
    const k = Math.floor(budget.chunks);
    if (!(k > ends.length)) cut = k <= 0 ? info.headerEnd : ends[k - 1]!;
  }
  if (budget.bytes !== undefined && budget.bytes < cut) {
    if (info.header.chunkFraming === 'raw') {
      cut = Math.max(info.headerEnd, Math.min(Math.floor(budget.bytes), learnedEnd(info)));
    } else {
      const k = chunksWithin(info, budget.bytes);
      cut = k === 0 ? info.headerEnd : ends[k - 1]!;
    }
  }
  return cut;
}

/**
 * Whether a prefix of `length` bytes is one a reader may stop at without an error: the end
 * of the Index, of a chunk, of the final layer, or (raw chunk framing) anywhere inside a
 * chunk (see prefixLength).
 */
export function isCut(info: MrtHeaderInfo, length: number): boolean {
  if (length === info.headerEnd || length === info.totalLength || info.chunkEnds.includes(length)) return true;
  return info.header.chunkFraming === 'raw' && length > info.headerEnd && length < learnedEnd(info);
}
