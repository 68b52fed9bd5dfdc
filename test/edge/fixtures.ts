/** Synthetic .mrt fixtures built with the shared writer (the edge never decodes payloads). */
import { writeMrt, readHeader, type MrtHeaderInfo } from '../../src/format/index.ts';

export interface Fixture {
  bytes: Uint8Array;
  info: MrtHeaderInfo;
}

/**
 * The first `length` bytes of a lossless WebP of `width` x `height` (its header is real, the rest
 * filler): what a reader checks before a browser decodes it (src/format/embedded.ts).
 */
export function webpHeaderOf(width: number, height: number, length: number): Uint8Array {
  const b = new Uint8Array(Math.max(30, length)).map((_, i) => (i * 13) & 0xff);
  const ascii = (at: number, s: string) => [...s].forEach((ch, i) => (b[at + i] = ch.charCodeAt(0)));
  const u32 = (at: number, v: number) => [0, 1, 2, 3].forEach((i) => (b[at + i] = (v >>> (8 * i)) & 0xff));
  ascii(0, 'RIFF');
  u32(4, b.length - 8);
  ascii(8, 'WEBPVP8L');
  u32(16, b.length - 20);
  b[20] = 0x2f;
  u32(21, (width - 1) | ((height - 1) << 14));
  return b;
}

/**
 * `chunks` chunks with payload sizes `sizes[k]` (default 100 + 37k bytes), optional final layer
 * of `final` bytes; the placeholder and the final layer carry WebP headers of their sizes
 * (`wrongSizes`: both claim one pixel more).
 */
export function makeMrt(opts: { width?: number; height?: number; chunks?: number; sizes?: number[]; final?: number; framing?: 'raw' | 'message'; wrongSizes?: boolean } = {}): Fixture {
  const width = opts.width ?? 256;
  const height = opts.height ?? 192;
  const T = 8;
  const gw = Math.ceil(width / 32);
  const gh = Math.ceil(height / 32);
  const n = opts.chunks ?? T;
  const per = gw * gh;
  const total = per * T;
  const step = Math.ceil(total / n);
  const chunks = [];
  for (let k = 0; k < n; k++) {
    const size = opts.sizes?.[k] ?? 100 + 37 * k;
    const payload = new Uint8Array(size);
    for (let i = 0; i < size; i++) payload[i] = (i * 31 + k * 7) & 0xff;
    chunks.push({ tokenStart: k * step, tokenEnd: Math.min(total, (k + 1) * step), payload });
  }
  const off = opts.wrongSizes ? 1 : 0;
  const final = opts.final ? { mime: 'image/webp', bytes: webpHeaderOf(width + off, height, opts.final) } : undefined;
  const bytes = writeMrt(
    {
      width,
      height,
      layout: { window: 32, baseFactor: 16, tokensPerWindow: T, levels: 9 },
      prior: 'static',
      chunkFraming: opts.framing ?? 'raw', // raw: what the encoder writes (2.4)
      placeholder: { mime: 'image/webp', width: gw * 2, height: gh * 2, bytes: webpHeaderOf(gw * 2 + off, gh * 2, 120) },
    },
    chunks,
    final,
  );
  return { bytes, info: readHeader(bytes) };
}
