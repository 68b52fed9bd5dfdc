/** Preamble: "MRT" + major + minor. */
export const MAGIC = Object.freeze([0x4d, 0x52, 0x54] as const);
/** 2: Header (first paint) + Index; 1.x (one Header with everything, never released) is rejected. */
export const FORMAT_MAJOR = 2;
/** Highest minor version this code reads and writes (2.1: Index.chunk_layers; 2.2: chunk_rule, coder, 8-byte model hash; 2.3: compact AVIF placeholders; 2.4: raw chunk framing; 2.5: the doubling chunk rule; 2.6: a layout without the window grid, prior RCM_SHARED_LATE; 2.7: Header and layout without their default values, compact 4:4:4 and 10-bit AVIF placeholders, 4-byte model hashes; 2.8: the coarse-first token order; 2.9: the doubling64 chunk rule; 2.10: prior RCM_COARSE; 2.11: the image size of a learned layer that is a downscaled copy). */
export const FORMAT_MINOR = 11;

/** 2.7: the window a Header without one means. */
export const DEFAULT_WINDOW = 32;
/** 2.7: a placeholder without a size covers the padded image at 1/DEFAULT_PLACEHOLDER_FACTOR; a layout without a base factor has this one. */
export const DEFAULT_PLACEHOLDER_FACTOR = 16;
/** 2.7: the quantiser levels of a layout without them. */
export const DEFAULT_LEVELS = 9;
/** (2.8) the coarse-first order needs 9 levels: level k = 3 * coarse trit + refinement trit */
export const COARSE_FIRST_LEVELS = 9;
export const PREAMBLE_BYTES = 5;
/** A raw-framed chunk (2.4) ends with its crc32 in this many little-endian bytes. */
export const CHUNK_CRC_BYTES = 4;

export type MrtPriorKind = 'static' | 'rcm';

/**
 * How chunks are entropy-coded (Index.coder): 'restart' (2.0): each chunk restarts the
 * rANS coder; 'chained' (2.2): each chunk continues from the state the previous one ended
 * in (4 bytes of state once per stream instead of once per chunk).
 */
export type MrtCoder = 'restart' | 'chained';

/**
 * How chunks are framed (Index.chunk_framing): 'message' (2.0): varint length + Chunk
 * message; 'raw' (2.4): payload then crc32 (4 bytes LE), its length from the chunk table.
 */
export type MrtChunkFraming = 'message' | 'raw';

/** Token layout (docs/design.md). */
export interface MrtLayout {
  /** window size S in pixels (v0: 32) */
  window: number;
  /** placeholder downscale factor (v0: 16) */
  baseFactor: number;
  /** gw = ceil(width / window) */
  gridW: number;
  /** gh = ceil(height / window) */
  gridH: number;
  /** tokens per window T */
  tokensPerWindow: number;
  /** quantiser levels L */
  levels: number;
  /** stream order: 'layer-major' (default) or (2.8) 'coarse-first' with `coarseLayers` >= 1 */
  order?: 'layer-major' | 'coarse-first';
  /** (2.8, 'coarse-first') layers whose tokens are first sent as coarse trits */
  coarseLayers?: number;
}

export interface MrtPlaceholder {
  /** MIME type; the writer omits 'image/webp' (the default) from the stream, and stores an 'image/avif' in the canonical layout as its AV1 bitstream only (2.3, src/format/avif.ts) */
  mime: string;
  width: number;
  height: number;
  bytes: Uint8Array;
  /** (read from a stream) bytes it takes in the stream when less than `bytes` (a compact AVIF, 2.3) */
  storedBytes?: number;
}

export interface MrtChunkEntry {
  index: number;
  /** first stream index of the chunk */
  tokenStart: number;
  /** one past the last stream index */
  tokenEnd: number;
  /** bytes the chunk takes: the Chunk message without its varint length prefix ('message'
   * framing) or payload + 4-byte crc32 ('raw' framing) */
  byteLength: number;
}

export interface MrtFinalInfo {
  mime: string;
  /** byte length of the Final message (without its varint length prefix) */
  byteLength: number;
}

export interface MrtHeader {
  /** container version from the preamble */
  version: { major: number; minor: number };
  /** the model's label, '' when the writer left it out (the encoder does since 2.6) */
  modelId: string;
  /** a prefix of the manifest's modelHash: 16 bytes (2.0/2.1) or 8 (2.2); empty when no model is needed */
  modelHash: Uint8Array;
  /** the learned layer's size: what the tokens and the placeholder code */
  width: number;
  height: number;
  /** the image's size (2.11; else width x height): the final layer's, and what a reader shows */
  imageWidth: number;
  imageHeight: number;
  layout: Required<MrtLayout>;
  prior: MrtPriorKind;
  /** (prior 'rcm', 2.6) the layers past the RCM share one static table (Index prior RCM_SHARED_LATE) */
  sharedLate: boolean;
  /** (2.8, with sharedLate) that table is one per neighbourhood context (Index prior RCM_LATE_CONTEXTS) */
  lateContexts: boolean;
  /** (2.10, coarse-first, with lateContexts) the coarse trits are coded by the model's coarse RCM (Index prior RCM_COARSE) */
  coarseRcm: boolean;
  coder: MrtCoder;
  chunkFraming: MrtChunkFraming;
  /** stream symbols: gridW * gridH * tokensPerWindow tokens, (2.8 coarse-first) plus gridW * gridH * coarseLayers coarse trits */
  totalTokens: number;
  /** the chunk table: every chunk of the complete stream */
  chunks: MrtChunkEntry[];
  placeholder?: MrtPlaceholder;
  final?: MrtFinalInfo;
  contentHash?: Uint8Array;
  encoderOptions?: string;
}

/** What the encoder passes to writeMrt (the chunk table is derived from the chunks). */
export interface MrtHeaderInput {
  /** a label for people (`mrt info`); readers identify the model by `modelHash` (the encoder does not write it: 10 bytes before the first token) */
  modelId?: string;
  modelHash?: Uint8Array;
  /** the learned layer's size */
  width: number;
  height: number;
  /** 2.11: the image's size when the learned layer is a downscaled copy (needs a final layer of that size) */
  imageWidth?: number;
  imageHeight?: number;
  /** gridW / gridH default to ceil(width/window), ceil(height/window) */
  layout: Omit<MrtLayout, 'gridW' | 'gridH'> & { gridW?: number; gridH?: number };
  /** 2.6: leave out of the Index what a reader derives from the Header (the window grid, 4 bytes); needs a 2.6 reader */
  compact?: boolean;
  /**
   * 2.7: leave out what equals its 2.7 default: the Header's window (DEFAULT_WINDOW) and
   * placeholder size (the padded image / DEFAULT_PLACEHOLDER_FACTOR): 6 bytes of the first paint
   * the placeholder can use instead; the layout's levels (DEFAULT_LEVELS) and base factor
   * (DEFAULT_PLACEHOLDER_FACTOR): 4 bytes of the Index. Needs a 2.7 reader.
   */
  omitDefaults?: boolean;
  prior: MrtPriorKind;
  /** (prior 'rcm') the layers past the RCM share one static table: needs a 2.6 reader */
  sharedLate?: boolean;
  /** (with sharedLate) one such table per neighbourhood context: needs a 2.8 reader */
  lateContexts?: boolean;
  /** (with lateContexts, coarse-first) the coarse trits coded by the model's coarse RCM: needs a 2.10 reader */
  coarseRcm?: boolean;
  /** how the chunk payloads were coded (default 'restart') */
  coder?: MrtCoder;
  /** how chunks are framed (default 'message'; 'raw' needs a 2.4 reader) */
  chunkFraming?: MrtChunkFraming;
  placeholder?: MrtPlaceholder;
  contentHash?: Uint8Array;
  encoderOptions?: string;
}

export interface MrtChunkInput {
  tokenStart: number;
  tokenEnd: number;
  payload: Uint8Array;
}

export interface MrtFinalInput {
  mime: string;
  bytes: Uint8Array;
}

/**
 * The first paint: what the Header message (the first message, before the Index) holds.
 * Enough to size the image box and paint the placeholder before anything else arrives.
 */
export interface MrtFirstPaint {
  /** container version from the preamble */
  version: { major: number; minor: number };
  /** the learned layer's size (the tokens and the placeholder) */
  width: number;
  height: number;
  /** the image's size (2.11; else width x height) */
  imageWidth: number;
  imageHeight: number;
  /** the padding unit (= the token window size S) */
  window: number;
  /** the padded image the placeholder covers: ceil(width/window)*window */
  paddedWidth: number;
  paddedHeight: number;
  placeholder?: MrtPlaceholder;
  /** absolute offset where the Header message ends (= where the Index starts) */
  firstPaintEnd: number;
}

/** readHeader's result: the header and the byte geometry of the complete stream. */
export interface MrtHeaderInfo {
  header: MrtHeader;
  /** absolute offset where the Header message (the first paint) ends and the Index starts */
  firstPaintEnd: number;
  /** absolute offset where the Index ends (= where chunk 0 starts) */
  headerEnd: number;
  /** absolute end offset of every chunk (length = header.chunks.length) */
  chunkEnds: number[];
  /** absolute end offset of the final message, if the stream has one */
  finalEnd?: number;
  /** byte length of the complete stream */
  totalLength: number;
}

export type MrtEvent =
  /** the Header message is complete (before the Index): paint the placeholder */
  | { type: 'placeholder'; width: number; height: number; placeholder?: MrtPlaceholder; first: MrtFirstPaint }
  /** the Index is complete: the full header and the byte geometry */
  | { type: 'header'; header: MrtHeader; info: MrtHeaderInfo }
  | { type: 'chunk'; index: number; tokenStart: number; tokenEnd: number; payload: Uint8Array; offset: number; end: number }
  /**
   * (raw chunk framing, 2.4) part of chunk `index` has arrived: `payload` is the prefix of
   * its payload received so far (a view valid only until the next push; not yet checked:
   * the checksum comes at the chunk's end, in its 'chunk' event). At most one per push.
   */
  | { type: 'partial'; index: number; tokenStart: number; tokenEnd: number; payload: Uint8Array; offset: number }
  | { type: 'final'; mime: string; bytes: Uint8Array }
  | {
      type: 'end';
      /** chunks received (whole and valid) */
      chunks: number;
      /** chunks in the complete stream */
      chunksTotal: number;
      /** the final layer was received */
      final: boolean;
      /** everything the header announces was received */
      complete: boolean;
    }
  | { type: 'error'; error: import('./errors.ts').MrtFormatError };
