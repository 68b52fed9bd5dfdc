// Reading source images for the encoder: any format sharp reads, EXIF orientation applied,
// converted to 8-bit sRGB RGB. The size rule is checked on the metadata, before decoding.
import type { Metadata, Sharp } from 'sharp';
import { fullSizeProblem, LIMITS } from '../format/index.ts';
import { loadSharp } from './peers.ts';

export type AlphaMode = 'reject' | { background: string };

export interface RgbImage {
  width: number;
  height: number;
  /** Interleaved RGB, 8 bit, row-major. */
  data: Uint8Array;
}

/** A problem with one input file: reported by name, the batch goes on. */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

/**
 * Reads a source image within the format's image size rule (src/format/limits.ts
 * fullSizeProblem; a photo larger than the learned layer's limit is coded as a downscaled
 * learned layer plus a full-resolution final layer).
 */
export async function readImage(input: string | Uint8Array, alpha: AlphaMode = { background: '#ffffff' }): Promise<RgbImage> {
  const sharp = await loadSharp(); // outside the try: a missing peer is not a bad input file
  let meta: Metadata;
  try {
    // the header only (no pixels): the size rule below says why a source is too large
    meta = await sharp(input, { limitInputPixels: false, failOn: 'error' }).metadata();
  } catch (e) {
    throw new InputError(`cannot read image: ${(e as Error).message}`);
  }
  const { width, height } = meta;
  if (!width || !height) throw new InputError('image has no dimensions');
  // Orientations 5-8 swap the axes.
  const [w, h] = (meta.orientation ?? 1) >= 5 ? [height, width] : [width, height];
  const tooLarge = fullSizeProblem(w, h);
  if (tooLarge) throw new InputError(tooLarge);
  if (meta.pages && meta.pages > 1) throw new InputError(`animated or multi-page images are not supported (${meta.pages} pages)`);
  // limitInputPixels: the decoder itself never allocates past the rule, whatever the metadata said
  let pipeline = sharp(input, { limitInputPixels: LIMITS.MAX_IMAGE_PIXELS, failOn: 'error' }).rotate();
  if (meta.hasAlpha) {
    if (alpha === 'reject') throw new InputError('image has an alpha channel (use --background COLOR to flatten it)');
    pipeline = pipeline.flatten({ background: alpha.background });
  }
  try {
    const { data, info } = await pipeline.toColourspace('srgb').removeAlpha().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new InputError(`unexpected channel count ${info.channels}`);
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`cannot decode image: ${(e as Error).message}`);
  }
}

/**
 * Formats a stream may embed (sharp's names; AVIF is 'heif'): rasters whose decoding costs
 * follow their pixels. An SVG or PDF of the right size could still cost any time to render.
 */
const EMBEDDED_FORMATS: ReadonlySet<string> = new Set(['jpeg', 'png', 'webp', 'heif', 'gif']);

/**
 * sharp input for an image a stream says is `width` x `height` (its placeholder, its final
 * layer): any other size or a format other than EMBEDDED_FORMATS is refused on the image's
 * header, and sharp never decodes more pixels than that (a 31 KB PNG can claim 16000x16000).
 */
export async function sizedInput(bytes: Uint8Array, width: number, height: number, what: string): Promise<Sharp> {
  const sharp = await loadSharp();
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (e) {
    throw new InputError(`cannot read the ${what}: ${(e as Error).message}`);
  }
  if (!EMBEDDED_FORMATS.has(meta.format ?? '')) {
    throw new InputError(`the ${what} is ${meta.format ?? 'of an unknown format'}, not an image format a stream may embed (JPEG, PNG, WebP, AVIF, GIF)`);
  }
  if (meta.width !== width || meta.height !== height) {
    throw new InputError(`the ${what} is ${meta.width}x${meta.height}, the header says ${width}x${height}`);
  }
  return sharp(bytes, { limitInputPixels: width * height });
}

/** `img` resized to `width` x `height` (Lanczos 3, in sRGB): a 2.11 learned layer from its image, and back up for display. */
export async function resizeRgb(img: RgbImage, width: number, height: number): Promise<RgbImage> {
  const buf = await (await loadSharp())(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(width, height, { fit: 'fill', kernel: 'lanczos3' })
    .raw()
    .toBuffer();
  return { width, height, data: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) };
}

/** Writes RGB pixels as PNG bytes. */
export async function encodePng(img: RgbImage): Promise<Uint8Array> {
  const sharp = await loadSharp();
  const buf = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } }).png().toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
