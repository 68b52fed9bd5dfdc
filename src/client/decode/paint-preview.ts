// Preview painter: the decoder's linear path in plain JS (src/model/preview.ts, a few ms),
// painted for each chunk until the decoder graph has painted the image once.
import { tokensToZ } from '../../codec/index.ts';
import { previewPixels, previewSize } from '../../model/preview.ts';
import { knownFraction } from '../../model/deblock.ts';
import { cfg, send } from './env.ts';
import type { Job } from './job.ts';
import { previewBasis } from './models.ts';

/** Images up to this many pixels get a full-resolution token preview, larger ones half. */
const PREVIEW_FULL_MAX_PIXELS = 256 * 256;

/** A preview of `known` tokens is not worth painting: the decoder (or a newer preview) has painted. */
function superseded(job: Job, known: number): boolean {
  const p = job.painted;
  return job.dead || job.finalShown || p?.kind === 'ml' || p?.kind === 'final' || (p?.kind === 'preview' && p.known >= known);
}

/** Paints the preview of the current tokens unless the decoder graph has painted this image. */
export function paintPreview(job: Job): void {
  // the preview basis of the model the stream names (none until that model is here)
  const preview = job.parser.model && previewBasis(job.parser.model);
  const sd = job.parser.sd;
  const base = job.placeholder.base;
  if (!preview || !sd?.layout || !base || cfg().paint === false) return;
  const known = sd.known;
  // with no tokens the preview is only a bilinear upscale: the placeholder paint is as good
  if (known === 0 || superseded(job, known)) return;
  const g = job.parser.g!;
  const t0 = performance.now();
  const { z } = tokensToZ(sd.layout, sd.tokens, known);
  // large images preview at half resolution (a quarter of the work; the canvas scales it)
  const scale = g.width * g.height > PREVIEW_FULL_MAX_PIXELS ? 2 : 1;
  const T = sd.layout.tokensPerWindow;
  const px = previewPixels(preview, g, T, z, base, scale, knownFraction(known, g.gridW * g.gridH, T));
  const size = previewSize(g, scale);
  const runMs = performance.now() - t0;
  const detail = { kind: 'preview' as const, bytes: job.received, chunks: sd.chunks, tokens: known, runMs };
  createImageBitmap(new ImageData(px as Uint8ClampedArray<ArrayBuffer>, size.width, size.height)).then(
    (bitmap) => {
      // An ML paint (or a newer preview) may have landed while the bitmap was made.
      if (superseded(job, known)) {
        bitmap.close();
        return;
      }
      job.painted = { known, kind: 'preview' };
      send({ type: 'paint', id: job.id, bitmap, detail }, [bitmap]);
      send({ type: 'stats', id: job.id, stats: { previewMs: runMs, sinceFirstChunkMs: performance.now() - job.firstChunkAt, known, kind: 'preview' } });
    },
    () => undefined, // display only: the decoder graph's paint follows
  );
}
