/** Synthetic .mrt fixtures built with the shared writer (the edge never decodes payloads). */
import { writeMrt, readHeader, type MrtHeaderInfo } from '../../src/format/index.ts';

export interface Fixture {
  bytes: Uint8Array;
  info: MrtHeaderInfo;
}

/** `chunks` chunks with payload sizes `sizes[k]` (default 100 + 37k bytes), optional final layer. */
export function makeMrt(opts: { width?: number; height?: number; chunks?: number; sizes?: number[]; final?: number; framing?: 'raw' | 'message' } = {}): Fixture {
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
  const final = opts.final
    ? { mime: 'image/webp', bytes: new Uint8Array(opts.final).map((_, i) => (i * 13) & 0xff) }
    : undefined;
  const bytes = writeMrt(
    {
      width,
      height,
      layout: { window: 32, baseFactor: 16, tokensPerWindow: T, levels: 9 },
      prior: 'static',
      chunkFraming: opts.framing ?? 'raw', // raw: what the encoder writes (2.4)
      placeholder: { mime: 'image/webp', width: gw * 2, height: gh * 2, bytes: new Uint8Array(120).fill(7) },
    },
    chunks,
    final,
  );
  return { bytes, info: readHeader(bytes) };
}
