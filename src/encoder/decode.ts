// .mrt prefix → pixels in Node: what a client that received the first N bytes paints.
import sharp from 'sharp';
import { decodeMrt, layoutForImage, regenerate, REGENERATE_BY_DEFAULT, tokensToZ } from '../codec/index.ts';
import { chwToPixels, geometry, pixelsToChw } from '../model/io.ts';
import type { RgbImage } from './image-io.ts';
import { loadModels, modelHashPrefix, runDecoder, type Models } from './models.ts';
import { decodePlaceholder } from './placeholder.ts';

export interface DecodeOptions {
  models?: Models;
  /** Bytes of the stream the client received; default all. */
  bytes?: number;
  /** Fill tokens not received from the prior (default REGENERATE_BY_DEFAULT). */
  regenerate?: boolean;
}

export interface DecodeResult {
  image: RgbImage;
  /** What produced the pixels. */
  source: 'tokens' | 'final';
  bytesUsed: number;
  chunks: number;
  /** Tokens received (stream order prefix). */
  tokens: number;
  /** Set when the stream was corrupt or cut inside a message; the image is the best before it. */
  error?: string;
}

export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecodeError';
  }
}

export async function decode(mrt: Uint8Array, options: DecodeOptions = {}): Promise<DecodeResult> {
  const bytes = options.bytes ?? mrt.length;
  if (!Number.isInteger(bytes) || bytes < 0) throw new RangeError(`bytes must be a non-negative integer, got ${options.bytes}`);
  const prefix = mrt.subarray(0, Math.min(bytes, mrt.length));
  const models = options.models ?? (await loadModels());

  const want = modelHashPrefix(models.manifest);
  const sd = decodeMrt(prefix, { rcm: models.rcm, modelHash: want });
  const header = sd.header;
  if (!header) throw new DecodeError(sd.error ? `no header: ${sd.error.message}` : `the first ${prefix.length} bytes do not hold the whole header`);
  if (header.modelHash.length !== want.length || header.modelHash.some((b, i) => b !== want[i])) {
    throw new DecodeError(`stream was encoded with model ${header.modelId}, not the loaded ${models.manifest.id} (model hash differs)`);
  }
  const error = sd.error ? `${sd.error.message} (byte ${sd.error.offset})` : undefined;

  if (sd.final) {
    const { data, info } = await sharp(sd.final.bytes).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    return {
      image: { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) },
      source: 'final', bytesUsed: prefix.length, chunks: sd.chunks, tokens: sd.known, error,
    };
  }
  if (!header.placeholder) throw new DecodeError('stream has no placeholder; this decoder needs it as the model base');

  const layout = models.manifest.layout;
  const g = geometry(header.width, header.height, layout);
  const base = pixelsToChw(await decodePlaceholder(header.placeholder.bytes), g.baseW, g.baseH, 3);
  const tokenLayout = layoutForImage(header.width, header.height, header.layout);
  const regen = options.regenerate ?? REGENERATE_BY_DEFAULT;
  const { z, mask } = regen ? regenerate(tokenLayout, models.rcm, sd.tokens, sd.known) : tokensToZ(tokenLayout, sd.tokens, sd.known);
  const out = await runDecoder(models, z, mask, base, g);
  const px = chwToPixels(out, g.paddedW, g.paddedH, g.width, g.height, 3);
  return {
    image: { width: g.width, height: g.height, data: new Uint8Array(px.buffer, px.byteOffset, px.byteLength) },
    source: 'tokens', bytesUsed: prefix.length, chunks: sd.chunks, tokens: sd.known, error,
  };
}
