// The learned layer of a large photo (2.11): the tokens code a downscaled copy of at most
// LIMITS.MAX_PIXELS padded pixels, and the final layer carries the image at full resolution.
// One rule for the encoder (which size to code) and the readers (which sizes to accept).
import { LIMITS } from './limits.ts';

function padded(w: number, h: number, window: number): number {
  return Math.ceil(w / window) * window * Math.ceil(h / window) * window;
}

/**
 * The size the encoder codes an image of `width` x `height` at: the image itself when it
 * fits the learned-layer limit (`maxPixels`, padded to the window grid), else the largest
 * same-aspect downscale that does (each side rounded, then shrunk a pixel at a time).
 */
export function learnedSize(width: number, height: number, window: number, maxPixels: number = LIMITS.MAX_PIXELS): { width: number; height: number } {
  if (padded(width, height, window) <= maxPixels) return { width, height };
  const s = Math.sqrt(maxPixels / (width * height));
  let w = Math.max(1, Math.round(width * s));
  let h = Math.max(1, Math.round(height * s));
  while (padded(w, h, window) > maxPixels) {
    // shrink the side that keeps the aspect closest
    if (w * height >= h * width && w > 1) w--;
    else h--;
  }
  return { width: w, height: h };
}

/**
 * Null when a learned layer of `learned` size may code an image of `image` size: no larger
 * on either side, and the same aspect (each side within a pixel of the other's scale).
 */
export function learnedSizeProblem(image: { width: number; height: number }, learned: { width: number; height: number }): string | null {
  const { width: W, height: H } = image;
  const { width: w, height: h } = learned;
  if (w > W || h > H) return `learned layer ${w}x${h} is larger than the image ${W}x${H}`;
  // |w/W - h/H| within one pixel of either side: |w*H - h*W| <= max(W, H)
  if (Math.abs(w * H - h * W) > Math.max(W, H)) return `learned layer ${w}x${h} does not have the aspect of the image ${W}x${H}`;
  return null;
}
