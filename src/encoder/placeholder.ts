// The native placeholder: a tiny lossy AVIF or WebP of the padded image at 1/baseFactor
// scale. Browsers paint it before any ML runtime loads; the decoder model takes its pixels
// as `base`.
import { av1StillPayload, type AvifFormat } from '../format/index.ts';
import { sizedInput } from './image-io.ts';
import { loadSharp } from './peers.ts';

export type PlaceholderFormat = 'auto' | 'avif' | 'webp';

/** libaom speed/effort for the placeholder (sharp's 0..9): see makePlaceholder. */
const AVIF_EFFORT = 9;
/**
 * AVIF formats tried (each has a compact layout: src/format/avif.ts); the closest to the image
 * wins. Full-resolution chroma is what a 48x32 placeholder needs most: on Kodak (bench/rd.ts,
 * mrt-v0.7, container 2.7) 4:4:4 8- and 10-bit against 4:2:0 alone gave +0.13 / +0.08 / +0.11 /
 * +0.06 / +0.02 dB at 256 B / 512 B / 1 K / 2 K / 4 K; adding the two 4:2:0 formats to these
 * +0.01 more for 50 % more encoding time.
 */
export const AVIF_TRIED: readonly AvifFormat[] = [{ chroma: '4:4:4', bitDepth: 8 }, { chroma: '4:4:4', bitDepth: 10 }];

export interface Placeholder {
  mime: 'image/webp' | 'image/avif';
  width: number;
  height: number;
  quality: number;
  bytes: Uint8Array;
  /** The placeholder as a decoder sees it: decoded RGB, interleaved. */
  rgb: Uint8Array;
}

/**
 * The highest quality (1..100) whose stored size fits `maxBytes` (quality 1 if none
 * does). Size grows with quality (almost always): binary search.
 */
async function fit(encodeAt: (q: number) => Promise<Buffer>, stored: (b: Buffer) => number, maxBytes: number): Promise<{ bytes: Buffer; quality: number }> {
  let lo = 1;
  let hi = 100;
  let best: Buffer | null = null; // quality 1 is encoded only if nothing fits
  let bestQ = 1;
  while (lo <= hi) {
    const q = (lo + hi) >> 1;
    const b = await encodeAt(q);
    if (stored(b) <= maxBytes) {
      if (q >= bestQ) {
        best = b;
        bestQ = q;
      }
      lo = q + 1;
    } else {
      hi = q - 1;
    }
  }
  return { bytes: best ?? (await encodeAt(1)), quality: bestQ };
}

/**
 * What `fit` finds (the same quality when size grows with quality), searched from `guess`: guess
 * + 1, 2, 4, 8, ... up (or − 1, 2, 4, ... down) to the first quality that does not fit (fits), then
 * a binary search between the two. 2 encodes when the guess is right or one too high, 3 when it is
 * one too low or two too high (on Kodak the effort-7 quality is mostly 0-2 below the effort-3 guess).
 */
async function fitFrom(guess: number, encodeAt: (q: number) => Promise<Buffer>, stored: (b: Buffer) => number, maxBytes: number): Promise<{ bytes: Buffer; quality: number }> {
  const made = new Map<number, Buffer>();
  const at = async (q: number) => made.get(q) ?? made.set(q, await encodeAt(q)).get(q)!;
  const fits = async (q: number) => stored(await at(q)) <= maxBytes;
  let lo = 0; // fits (0: none known to)
  let hi = 101; // does not fit (101: none known not to)
  if (await fits(guess)) {
    lo = guess;
    for (let off = 1; guess + off <= 100; off *= 2) {
      if (!(await fits(guess + off))) {
        hi = guess + off;
        break;
      }
      lo = guess + off;
    }
  } else {
    hi = guess;
    for (let off = 1; guess - off >= 1; off *= 2) {
      if (await fits(guess - off)) {
        lo = guess - off;
        break;
      }
      hi = guess - off;
    }
  }
  while (hi - lo > 1) {
    const q = (lo + hi) >> 1;
    if (await fits(q)) lo = q;
    else hi = q;
  }
  const quality = Math.max(lo, 1);
  return { bytes: await at(quality), quality };
}

/** How the AVIF placeholder is searched (an effort level's part: src/encoder/effort.ts). */
export interface PlaceholderSearch {
  /** sharp's AVIF effort (0..9) of the placeholder. */
  placeholderEffort: number;
  /** 'bisect': fit at placeholderEffort; 'bracket': fitFrom the quality found at GUESS_EFFORT. */
  placeholderSearch: 'bisect' | 'bracket';
}

/** The search of the slowest effort: every step at effort 9. */
export const FULL_SEARCH: PlaceholderSearch = { placeholderEffort: AVIF_EFFORT, placeholderSearch: 'bisect' };
/** AVIF effort of a 'bracket' search's first guess: ~6 ms per 48x32 encode against ~65 at effort 9. */
const GUESS_EFFORT = 3;

function sse(a: Uint8Array, b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return s;
}

/**
 * Downscales `padded` (RGB, paddedW × paddedH) to baseW × baseH and encodes it within
 * `maxBytes` of stored size: as AVIF (the container stores only its AV1 bitstream, format
 * 2.3) and/or WebP; 'auto' keeps whichever is closer to the downscaled image (AVIF was
 * +0.38 dB on Kodak at <= 221 bytes, bench/placeholder.ts).
 */
export async function makePlaceholder(
  padded: Uint8Array, paddedW: number, paddedH: number, baseW: number, baseH: number, maxBytes: number, format: PlaceholderFormat = 'auto',
  search: PlaceholderSearch = FULL_SEARCH,
): Promise<Placeholder> {
  const sharp = await loadSharp();
  const small = await sharp(padded, { raw: { width: paddedW, height: paddedH, channels: 3 } })
    .resize(baseW, baseH, { kernel: 'lanczos3', fit: 'fill' })
    .raw()
    .toBuffer();
  const raw = () => sharp(small, { raw: { width: baseW, height: baseH, channels: 3 } });
  const candidates: Placeholder[] = [];
  if (format !== 'webp') {
    // AVIF's stored size is its AV1 bitstream (when the file has the canonical layout)
    const stored = (b: Buffer) => av1StillPayload(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), baseW, baseH)?.payload.length ?? b.length;
    // effort 9 (effort levels 6-9; src/encoder/effort.ts): every later prefix builds on the placeholder, so its bytes are the most valuable
    // ones (bench/rd.ts, mrt-v0.7: +0.02 / +0.03 / +0.01 / +0.02 dB at 256 B / 512 B / 1 K / 2 K
    // over effort 6, for ~0.3 s more per image).
    // a bracket's guess for the next format starts from this one's (their qualities at GUESS_EFFORT
    // are within ~2 of each other on Kodak: 2-3 encodes instead of a 7-encode bisection)
    let guess: number | null = null;
    for (const f of AVIF_TRIED) {
      const at = (effort: number) => (quality: number) => raw().avif({ quality, effort, chromaSubsampling: f.chroma, bitdepth: f.bitDepth }).toBuffer();
      if (search.placeholderSearch === 'bracket') guess = (await (guess === null ? fit(at(GUESS_EFFORT), stored, maxBytes) : fitFrom(guess, at(GUESS_EFFORT), stored, maxBytes))).quality;
      const r = guess === null ? await fit(at(search.placeholderEffort), stored, maxBytes) : await fitFrom(guess, at(search.placeholderEffort), stored, maxBytes);
      candidates.push(await decoded('image/avif', r, baseW, baseH));
    }
  }
  if (format !== 'avif') {
    const r = await fit((quality) => raw().webp({ quality, effort: 6, smartSubsample: true }).toBuffer(), (b) => b.length, maxBytes);
    candidates.push(await decoded('image/webp', r, baseW, baseH));
  }
  // the closest to the downscaled image (ties: the first, AVIF)
  return candidates.reduce((best, c) => (sse(c.rgb, small) < sse(best.rgb, small) ? c : best));
}

async function decoded(mime: Placeholder['mime'], r: { bytes: Buffer; quality: number }, width: number, height: number): Promise<Placeholder> {
  const bytes = new Uint8Array(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength);
  return { mime, width, height, quality: r.quality, bytes, rgb: await decodePlaceholder(bytes, width, height) };
}

/** Decodes placeholder bytes of `width` x `height` (any other size is refused) the way the Node decoder needs them (RGB, interleaved). */
export async function decodePlaceholder(bytes: Uint8Array, width: number, height: number): Promise<Uint8Array> {
  const rgb = await (await sizedInput(bytes, width, height, 'placeholder')).removeAlpha().toColourspace('srgb').raw().toBuffer();
  return new Uint8Array(rgb.buffer, rgb.byteOffset, rgb.byteLength);
}
