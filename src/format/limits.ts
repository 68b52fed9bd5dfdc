/**
 * Limits against hostile input. Exceeding one is a MrtFormatError with code 'limit',
 * raised before anything of that size is allocated.
 */
import { MrtFormatError } from './errors.ts';
import { DEFAULT_WINDOW } from './types.ts';

/**
 * Padded pixels of the learned layer, what the decoder model runs on: 1 Mi (1024 x 1024).
 * A browser tab's decode memory grows with it (bench/page-memory.ts); larger photos are
 * coded as a downscaled learned layer plus a full-resolution final layer (learned.ts).
 */
const MAX_LEARNED_PIXELS = 1 << 20;
/**
 * Stream layers per window the pixel limit is sized for: the shipped model's 512 tokens per
 * window plus a coarse pass over at most as many (test/format/limits.test.ts checks the
 * manifest against it). So no image within MAX_PIXELS exceeds MAX_TOKENS with that model,
 * whatever its coarse pass, and the encoder can refuse a source on its size alone.
 */
export const SIZED_FOR_STREAM_LAYERS = 1024;
/** Tokens in a stream (gw * gh * stream layers): the token buffer holds one byte per token. */
const MAX_TOKENS = (MAX_LEARNED_PIXELS / (DEFAULT_WINDOW * DEFAULT_WINDOW)) * SIZED_FOR_STREAM_LAYERS;

export const LIMITS = Object.freeze({
  /** maximum image width / height in pixels */
  MAX_DIMENSION: 16384,
  /**
   * maximum pixels of the learned layer padded to the window grid (ceil(w/S)*S x ceil(h/S)*S),
   * what the decoder model runs on: 1 Mi (1024 x 1024). The one learned-layer limit: see
   * checkImageSize.
   */
  MAX_PIXELS: MAX_LEARNED_PIXELS,
  /**
   * maximum pixels of the image itself (2.11: a final layer larger than the learned layer):
   * 64 Mi, e.g. 8192 x 8192 or a 50 MP photo; decoded by the browser as any <img> of its size.
   */
  MAX_IMAGE_PIXELS: 1 << 26,
  /** maximum window size in pixels */
  MAX_WINDOW: 1024,
  /** maximum tokens per window */
  MAX_TOKENS_PER_WINDOW: 4096,
  /** maximum quantiser levels (tokens are bytes) */
  MAX_LEVELS: 256,
  /** maximum windows (gridW * gridH); bounds the prior's per-window state */
  MAX_WINDOWS: 1 << 18,
  /** maximum tokens in a stream (gw * gh * T); the token buffer is one byte per token */
  MAX_TOKENS,
  /** maximum number of chunks */
  MAX_CHUNKS: 65536,
  /** maximum byte length of the Header message (the first paint: size + placeholder) */
  MAX_HEADER_BYTES: 1 << 16,
  /** maximum byte length of the Index message (model, layout, chunk table, ...) */
  MAX_INDEX_BYTES: 1 << 16,
  /** maximum byte length of one Chunk message */
  MAX_CHUNK_BYTES: 1 << 24,
  /** maximum byte length of the Final message */
  MAX_FINAL_BYTES: 1 << 26,
  /** maximum total stream length the header may announce (the most a parser ever holds is one message) */
  MAX_TOTAL_BYTES: 1 << 28,
  /** maximum length of strings (MIME types, model id, encoder options) */
  MAX_STRING_BYTES: 1024,
});

/** What the size rule needs to know of a stream: its window and, once known, its stream layers (T + coarse layers). */
export interface SizeLayout {
  window: number;
  streamLayers?: number;
}

function mp(pixels: number): string {
  return `${(pixels / 1e6).toFixed(1)} MP`;
}

/**
 * The one image-size rule, or null when `width` x `height` is within it: at most
 * MAX_DIMENSION a side, at most MAX_PIXELS once padded to the window grid and, when the
 * stream layers are known, at most MAX_TOKENS tokens. Checked by the encoder before it
 * decodes a source, by the header readers (Header: size and window; Index: tokens), by the
 * edge on PUT and by decode(). Lowering the limit is a change of MAX_PIXELS alone.
 */
export function imageSizeProblem(width: number, height: number, layout: SizeLayout = { window: DEFAULT_WINDOW }): string | null {
  const { window, streamLayers } = layout;
  const gw = Math.ceil(width / window);
  const gh = Math.ceil(height / window);
  const padded = gw * gh * window * window;
  const limit = `${LIMITS.MAX_DIMENSION} px a side and ${mp(LIMITS.MAX_PIXELS)} (${LIMITS.MAX_PIXELS} px) padded to the ${window} px window grid`;
  if (width > LIMITS.MAX_DIMENSION || height > LIMITS.MAX_DIMENSION || padded > LIMITS.MAX_PIXELS) {
    return `image ${width}x${height} (${mp(padded)} padded) exceeds the size limit of ${limit}`;
  }
  if (streamLayers !== undefined && gw * gh * streamLayers > LIMITS.MAX_TOKENS) {
    return `image ${width}x${height} with ${streamLayers} stream layers per window needs ${gw * gh * streamLayers} tokens, more than MAX_TOKENS (${LIMITS.MAX_TOKENS})`;
  }
  return null;
}

/**
 * The size rule of the image itself (2.11 Header image size, the source an encoder reads,
 * the final layer): at most MAX_DIMENSION a side and MAX_IMAGE_PIXELS; null when within it.
 */
export function fullSizeProblem(width: number, height: number): string | null {
  if (width > LIMITS.MAX_DIMENSION || height > LIMITS.MAX_DIMENSION || width * height > LIMITS.MAX_IMAGE_PIXELS) {
    return `image ${width}x${height} (${mp(width * height)}) exceeds the size limit of ${LIMITS.MAX_DIMENSION} px a side and ${mp(LIMITS.MAX_IMAGE_PIXELS)}`;
  }
  return null;
}

/** imageSizeProblem as a MrtFormatError 'limit' (at `offset`). */
export function checkImageSize(width: number, height: number, layout?: SizeLayout, offset = -1): void {
  const p = imageSizeProblem(width, height, layout);
  if (p) throw new MrtFormatError('limit', p, offset);
}
