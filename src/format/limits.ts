/**
 * Limits against hostile input. Exceeding one is a MrtFormatError with code 'limit',
 * raised before anything of that size is allocated.
 */
export const LIMITS = Object.freeze({
  /** maximum image width / height in pixels */
  MAX_DIMENSION: 16384,
  /** maximum width * height */
  MAX_PIXELS: 64 * 1024 * 1024,
  /** maximum window size in pixels */
  MAX_WINDOW: 1024,
  /** maximum tokens per window */
  MAX_TOKENS_PER_WINDOW: 4096,
  /** maximum quantiser levels (tokens are bytes) */
  MAX_LEVELS: 256,
  /** maximum windows (gridW * gridH); bounds the prior's per-window state */
  MAX_WINDOWS: 1 << 18,
  /** maximum tokens in a stream (gw * gh * T); the token buffer is one byte per token */
  MAX_TOKENS: 1 << 24,
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
