// A page of side-by-side crops for people to look at: the same regions of the original, the
// thumbnails and MRT's paints, shown at 2× with nearest-neighbour scaling so that seams,
// doubled edges and ringing are visible. Crops are lossless PNGs.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

export const CROP = 128;

export interface CropPanel {
  label: string;
  /** one line under the crop: bytes, scores */
  caption: string;
  /** the whole image, RGB, the reference's size */
  px: Uint8Array;
}

export interface CropRegion { why: string; x: number; y: number }

/** Mean |difference| per channel over a CROP×CROP region: between two images (b given) or between
 *  horizontal neighbours of one (activity). */
function regionMean(a: Uint8Array, b: Uint8Array | null, w: number, x0: number, y0: number): number {
  let s = 0;
  for (let y = y0; y < y0 + CROP; y++) {
    for (let x = x0; x < x0 + CROP - (b ? 0 : 1); x++) {
      const p = (y * w + x) * 3;
      const q = b ? p : p + 3;
      const o = b ?? a;
      s += Math.abs(a[p] - o[q]) + Math.abs(a[p + 1] - o[q + 1]) + Math.abs(a[p + 2] - o[q + 2]);
    }
  }
  return s / (3 * CROP * CROP);
}

/** Two regions on the 32-px window grid: the original's smoothest (where seams show first) and
 *  the one where `paint` is furthest from the original (its worst region, picked on purpose). */
export function pickRegions(orig: Uint8Array, paint: Uint8Array, w: number, h: number): CropRegion[] {
  let smooth: CropRegion & { v: number } = { why: '', x: 0, y: 0, v: Infinity };
  let worst: CropRegion & { v: number } = { why: '', x: 0, y: 0, v: -Infinity };
  for (let y = 0; y + CROP <= h; y += 32) {
    for (let x = 0; x + CROP <= w; x += 32) {
      const act = regionMean(orig, null, w, x, y);
      if (act < smooth.v) smooth = { why: '', x, y, v: act };
      const err = regionMean(orig, paint, w, x, y);
      if (err > worst.v) worst = { why: '', x, y, v: err };
    }
  }
  return [
    { why: `smoothest region of the original (${smooth.x}, ${smooth.y})`, x: smooth.x, y: smooth.y },
    { why: `region of MRT's largest error at 1 KB (${worst.x}, ${worst.y})`, x: worst.x, y: worst.y },
  ];
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');

/** Writes the crops of one image into dir and returns its HTML section (image paths relative to
 *  the page, which is written beside dir). */
export async function cropSection(dir: string, name: string, w: number, h: number, panels: CropPanel[], regions: CropRegion[]): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const stem = name.replace(/\.[^.]+$/, '');
  const rel = dir.split('/').pop()!;
  const out = [`<h2>${esc(name)}</h2>`];
  for (const [ri, r] of regions.entries()) {
    out.push(`<p>${esc(r.why)}</p><div class="row">`);
    for (const [pi, p] of panels.entries()) {
      const file = `${stem}-r${ri}-${pi}.png`;
      await sharp(p.px, { raw: { width: w, height: h, channels: 3 } }).extract({ left: r.x, top: r.y, width: CROP, height: CROP }).png({ compressionLevel: 9 }).toFile(join(dir, file));
      out.push(`<figure><img src="${rel}/${file}" width="${2 * CROP}" height="${2 * CROP}" alt="${esc(p.label)}"><figcaption><b>${esc(p.label)}</b><br>${esc(p.caption)}</figcaption></figure>`);
    }
    out.push('</div>');
  }
  return out.join('\n');
}

export function cropsPage(title: string, intro: string, sections: string[]): string {
  return `<!doctype html><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font:14px sans-serif;margin:1em}img{image-rendering:pixelated;display:block}.row{display:flex;flex-wrap:wrap;gap:6px}figure{margin:0;width:${2 * CROP}px}figcaption{font-size:12px}</style>
<h1>${esc(title)}</h1><p>${esc(intro)}</p>
${sections.join('\n')}
`;
}
