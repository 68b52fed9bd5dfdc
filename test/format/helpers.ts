import { tokenLayout, createPrior, encodeChunks, streamSymbols, type RcmWeights, type TokenLayout } from '../../src/codec/index.ts';
import { autoChunkLayers, chunkRanges, writeMrt, type MrtChunkInput, type MrtChunkFraming, type MrtCoder, type MrtHeaderInput } from '../../src/format/index.ts';
import { syntheticTokens } from '../codec/fixtures.ts';

export interface Synthetic {
  bytes: Uint8Array;
  tokens: Uint8Array;
  layout: TokenLayout;
  chunks: MrtChunkInput[];
  header: MrtHeaderInput;
  final?: { mime: string; bytes: Uint8Array };
}

/** A synthetic but realistically shaped stream: one chunk per `layersPerChunk` layers. */
export function syntheticStream(o: {
  width: number;
  height: number;
  T?: number;
  L?: number;
  seed?: number;
  rcm?: RcmWeights | null;
  layersPerChunk?: number;
  /** Layers per chunk, chunk by chunk (whole-layer chunking that is not uniform: format 2.1), or 'auto' (the rule, 2.2). */
  chunkLayers?: number[] | 'auto';
  /** Entropy-coder chaining (default 'restart'; 'chained' is format 2.2). */
  coder?: MrtCoder;
  /** Chunk framing (default 'message'; 'raw' is format 2.4). */
  framing?: MrtChunkFraming;
  /** Bytes of model hash stored (default 16; 8 is what 2.2 encoders write). */
  hashBytes?: number;
  layers?: number;
  placeholderBytes?: number;
  finalBytes?: number;
  contentHash?: boolean;
  /** Leave the window grid out of the Index (format 2.6). */
  compact?: boolean;
  /** Leave the default window and placeholder size out of the Header (format 2.7). */
  omitDefaults?: boolean;
  /** The layers past the RCM share one static table (format 2.6; needs `rcm`). */
  sharedLate?: boolean;
  /** The shared late tables chosen by neighbourhood context (format 2.8; needs `sharedLate`). */
  lateContexts?: boolean;
  /** Coarse-first order with this many coarse layers (format 2.8); chunks count stream symbols. */
  coarseLayers?: number;
  /** The coarse pass coded by the RCM's coarse section (format 2.10; needs `lateContexts` and coarse layers). */
  coarseRcm?: boolean;
}): Synthetic {
  const T = o.T ?? 64;
  const L = o.L ?? 9;
  const K = o.coarseLayers ?? 0;
  const layout = tokenLayout({ gridW: Math.ceil(o.width / 32), gridH: Math.ceil(o.height / 32), tokensPerWindow: T, levels: L, coarseLayers: K });
  const count = (o.layers ?? T) * layout.windows;
  const tokens = syntheticTokens(layout, o.seed ?? 1, count);
  const symbols = K ? streamSymbols(layout, tokens) : tokens;
  const prior = createPrior(layout, o.rcm ?? null, { sharedLate: o.sharedLate, lateContexts: o.lateContexts, coarseRcm: o.coarseRcm });
  const step = (o.layersPerChunk ?? 1) * layout.windows;
  const n = symbols.length;
  const ranges = o.chunkLayers
    ? chunkRanges((o.chunkLayers === 'auto' ? autoChunkLayers((o.layers ?? T) + K) : o.chunkLayers).map((c) => c * layout.windows))
    : chunkRanges(Array.from({ length: Math.ceil(n / step) }, (_, k) => Math.min(step, n - k * step)));
  const coder = o.coder ?? 'restart';
  const payloads = encodeChunks(prior, symbols, ranges, coder);
  const chunks: MrtChunkInput[] = ranges.map((r, k) => ({ ...r, payload: payloads[k]! }));
  const header: MrtHeaderInput = {
    modelId: 'test-v0',
    modelHash: Uint8Array.from({ length: o.hashBytes ?? 16 }, (_, i) => i * 17),
    coder,
    chunkFraming: o.framing ?? 'message',
    width: o.width,
    height: o.height,
    layout: { window: 32, baseFactor: 16, tokensPerWindow: T, levels: L, ...(K ? { order: 'coarse-first' as const, coarseLayers: K } : {}) },
    prior: o.rcm ? 'rcm' : 'static',
    compact: o.compact,
    omitDefaults: o.omitDefaults,
    sharedLate: o.sharedLate,
    lateContexts: o.lateContexts,
    coarseRcm: o.coarseRcm,
  };
  if (o.placeholderBytes) {
    header.placeholder = { mime: 'image/webp', width: layout.gridW * 2, height: layout.gridH * 2, bytes: Uint8Array.from({ length: o.placeholderBytes }, (_, i) => (i * 31) & 255) };
  }
  if (o.contentHash) header.contentHash = Uint8Array.from({ length: 16 }, (_, i) => 255 - i);
  const final = o.finalBytes ? { mime: 'image/avif', bytes: Uint8Array.from({ length: o.finalBytes }, (_, i) => (i * 7 + 3) & 255) } : undefined;
  return { bytes: writeMrt(header, chunks, final), tokens, layout, chunks, header, final };
}
