// The native placeholder: a tiny lossy WebP of the padded image at 1/baseFactor scale.
// Browsers paint it before any ML runtime loads; the decoder model takes its pixels as `base`.
import sharp from 'sharp';

export interface Placeholder {
  mime: 'image/webp';
  width: number;
  height: number;
  quality: number;
  bytes: Uint8Array;
  /** The placeholder as a decoder sees it: decoded RGB, interleaved. */
  rgb: Uint8Array;
}

/**
 * Downscales `padded` (RGB, paddedW × paddedH) to baseW × baseH and picks the highest
 * WebP quality (1..100) whose file fits `maxBytes` (quality 1 if none does).
 */
export async function makePlaceholder(
  padded: Uint8Array, paddedW: number, paddedH: number, baseW: number, baseH: number, maxBytes: number,
): Promise<Placeholder> {
  const small = await sharp(padded, { raw: { width: paddedW, height: paddedH, channels: 3 } })
    .resize(baseW, baseH, { kernel: 'lanczos3', fit: 'fill' })
    .raw()
    .toBuffer();
  const webp = (quality: number) =>
    sharp(small, { raw: { width: baseW, height: baseH, channels: 3 } }).webp({ quality, effort: 6, smartSubsample: true }).toBuffer();
  // Size grows with quality (almost always): binary search the largest quality that fits.
  let lo = 1;
  let hi = 100;
  let best = await webp(1);
  let bestQ = 1;
  while (lo <= hi) {
    const q = (lo + hi) >> 1;
    const b = await webp(q);
    if (b.length <= maxBytes) {
      if (q >= bestQ) {
        best = b;
        bestQ = q;
      }
      lo = q + 1;
    } else {
      hi = q - 1;
    }
  }
  const rgb = await sharp(best).removeAlpha().raw().toBuffer();
  return {
    mime: 'image/webp', width: baseW, height: baseH, quality: bestQ,
    bytes: new Uint8Array(best.buffer, best.byteOffset, best.byteLength),
    rgb: new Uint8Array(rgb.buffer, rgb.byteOffset, rgb.byteLength),
  };
}

/** Decodes placeholder bytes the way the Node decoder needs them (RGB, interleaved). */
export async function decodePlaceholder(bytes: Uint8Array): Promise<Uint8Array> {
  const rgb = await sharp(bytes).removeAlpha().toColourspace('srgb').raw().toBuffer();
  return new Uint8Array(rgb.buffer, rgb.byteOffset, rgb.byteLength);
}
