// The best thumbnail that fits a byte budget: every (side, quality) of WebP, AVIF and JPEG
// encoded once, upscaled to the image size (Lanczos, as a browser's smooth upscale), and the
// PSNR-best that fits picked per budget (an oracle: a site could do the same offline).
// Used by bench/peers.ts (the bar of bench/rd.ts) and by the demo's middle panel.
import sharp from 'sharp';
import type { Rgb } from './kodak.ts';
import { psnr } from './metrics.ts';

export const THUMB_SIDES = [24, 32, 48, 64, 96, 128, 192, 256, 384, 512];
export const THUMB_QUALITIES = [1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90];
export const THUMB_FORMATS = ['webp', 'avif', 'jpeg'] as const;
export type ThumbFormat = (typeof THUMB_FORMATS)[number];

export interface ThumbCandidate {
  fmt: ThumbFormat;
  side: number;
  q: number;
  enc: Buffer;
  bytes: number;
  psnr: number;
  /** the upscaled pixels (RGB, image size) */
  px: Buffer;
}

export async function upscale(buf: Buffer | Uint8Array, rawInfo: { width: number; height: number; channels: 3 | 4 } | null, w: number, h: number): Promise<Buffer> {
  const s = rawInfo ? sharp(buf, { raw: rawInfo }) : sharp(buf);
  return s.removeAlpha().resize(w, h, { kernel: 'lanczos3', fit: 'fill' }).raw().toBuffer();
}

export async function encodeThumb(src: Rgb, side: number, fmt: ThumbFormat, q: number): Promise<Buffer> {
  const scale = side / Math.max(src.width, src.height);
  const tw = Math.max(1, Math.round(src.width * scale));
  const th = Math.max(1, Math.round(src.height * scale));
  const s = sharp(src.data, { raw: { width: src.width, height: src.height, channels: 3 } }).resize(tw, th, { kernel: 'lanczos3', fit: 'fill' });
  if (fmt === 'webp') return s.webp({ quality: q, effort: 6 }).toBuffer();
  if (fmt === 'avif') return s.avif({ quality: q, effort: 6 }).toBuffer();
  return s.jpeg({ quality: q, mozjpeg: true }).toBuffer();
}

/** Every (side, quality) of one format up to `maxBytes`. */
export async function thumbCandidates(src: Rgb, fmt: ThumbFormat, maxBytes: number): Promise<ThumbCandidate[]> {
  const cands: ThumbCandidate[] = [];
  for (const side of THUMB_SIDES) {
    for (const q of THUMB_QUALITIES) {
      const enc = await encodeThumb(src, side, fmt, q);
      if (enc.length > maxBytes) break; // higher quality only grows
      const px = await upscale(enc, null, src.width, src.height);
      cands.push({ fmt, side, q, enc, bytes: enc.length, psnr: psnr(src.data, px), px });
    }
  }
  return cands;
}

/** The PSNR-best candidate within `budget` bytes, or null. */
export function bestWithin<T extends { bytes: number; psnr: number }>(cands: T[], budget: number): T | null {
  const fit = cands.filter((c) => c.bytes <= budget);
  return fit.length ? fit.reduce((a, b) => (b.psnr > a.psnr ? b : a)) : null;
}
