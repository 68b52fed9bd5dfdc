// Parts of a stream served on their own as plain images (the edge's `?part=`): the placeholder
// and the final layer. A first visit, which has no learned decoder cached, needs nothing else
// of the stream; as plain image responses they paint without the decode worker, and the final
// layer is a URL the browser loads, preloads and caches like any <img>.
import { base64Encode } from './bytes.ts';
import type { MrtFirstPaint } from './types.ts';

export const MRT_PARTS = ['placeholder', 'final'] as const;
export type MrtPart = (typeof MRT_PARTS)[number];

/** Response headers of a part: which part, and the geometry a page needs to show the placeholder. */
export const PART_HEADERS = {
  /** 'placeholder' | 'final': says the server serves parts (any other server sends the stream) */
  part: 'X-MRT-Part',
  /** the learned layer's size, WxH */
  size: 'X-MRT-Size',
  /** the image's size, WxH (the final layer's) */
  imageSize: 'X-MRT-Image-Size',
  /** the padded learned layer the placeholder covers, WxH */
  paddedSize: 'X-MRT-Padded-Size',
  /** the final layer's media type, or 'none' */
  finalType: 'X-MRT-Final-Type',
} as const;

export function isPart(v: string): v is MrtPart {
  return (MRT_PARTS as readonly string[]).includes(v);
}

/** The URL of a stream's part: its own query kept, `part` set. */
export function partUrl(src: string, part: MrtPart): string {
  const u = new URL(src);
  u.searchParams.set('part', part);
  return u.href;
}

export function formatSize(width: number, height: number): string {
  return `${width}x${height}`;
}

/** 'WxH' → [w, h] (positive integers), else null. */
export function parseSize(v: string | null): [number, number] | null {
  const m = v ? /^(\d{1,6})x(\d{1,6})$/.exec(v) : null;
  if (!m) return null;
  const w = Number(m[1]);
  const h = Number(m[2]);
  return w > 0 && h > 0 ? [w, h] : null;
}

/**
 * The part of a decoded placeholder (`bitmapWidth` x `bitmapHeight`) over the image: the
 * placeholder covers the padded learned layer, the image is its top-left `width` x `height`.
 */
export function placeholderCrop(
  g: { width: number; height: number; paddedWidth: number; paddedHeight: number },
  bitmapWidth: number,
  bitmapHeight: number,
): [number, number] {
  return [(g.width * bitmapWidth) / g.paddedWidth, (g.height * bitmapHeight) / g.paddedHeight];
}

/**
 * The stream's placeholder as the CSS `background` of its element (`style="background:…"`), for
 * a page that renders its largest image on the server: the placeholder is on screen with the
 * page's first frame, before the element's script or any part arrives (as a page inlines a
 * placeholder under a plain <img>), and the element's own paints cover it. `first`:
 * readFirstPaint of the stream's first bytes. The image is the top-left part of the padded
 * learned layer the placeholder covers, hence a background larger than the box, anchored at its
 * top-left corner. Null for a stream without a placeholder.
 */
export function placeholderBackground(first: Pick<MrtFirstPaint, 'width' | 'height' | 'paddedWidth' | 'paddedHeight' | 'placeholder'>): string | null {
  const ph = first.placeholder;
  if (!ph) return null;
  const pct = (padded: number, size: number) => `${+((100 * padded) / size).toFixed(4)}%`;
  return `url(data:${ph.mime};base64,${base64Encode(ph.bytes)}) 0 0/${pct(first.paddedWidth, first.width)} ${pct(first.paddedHeight, first.height)} no-repeat`;
}
