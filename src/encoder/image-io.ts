// Reading source images for the encoder: any format sharp reads, EXIF orientation applied,
// converted to 8-bit sRGB RGB. Size limits are checked on the metadata, before decoding.
import sharp, { type Metadata } from 'sharp';

/** Largest source the encoder accepts (pixels on a side, and pixels in all). */
export const MAX_INPUT_SIDE = 16384;
export const MAX_INPUT_PIXELS = 40_000_000;

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

export async function readImage(input: string | Uint8Array, alpha: AlphaMode = { background: '#ffffff' }): Promise<RgbImage> {
  let meta: Metadata;
  try {
    // limitInputPixels makes sharp refuse huge images while reading the header only.
    meta = await sharp(input, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error' }).metadata();
  } catch (e) {
    throw new InputError(`cannot read image: ${(e as Error).message}`);
  }
  const { width, height } = meta;
  if (!width || !height) throw new InputError('image has no dimensions');
  // Orientations 5-8 swap the axes.
  const [w, h] = (meta.orientation ?? 1) >= 5 ? [height, width] : [width, height];
  if (w > MAX_INPUT_SIDE || h > MAX_INPUT_SIDE || w * h > MAX_INPUT_PIXELS) {
    throw new InputError(`image is ${w}x${h}; the limit is ${MAX_INPUT_SIDE} px a side and ${MAX_INPUT_PIXELS} px in all`);
  }
  if (meta.pages && meta.pages > 1) throw new InputError(`animated or multi-page images are not supported (${meta.pages} pages)`);
  let pipeline = sharp(input, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error' }).rotate();
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

/** Writes RGB pixels as PNG bytes. */
export async function encodePng(img: RgbImage): Promise<Uint8Array> {
  const buf = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } }).png().toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
