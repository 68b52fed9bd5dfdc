// Placeholder painter: the header's native AVIF/WebP placeholder, decoded by the browser and
// painted before any ML byte is fetched; its pixels become the decoder's `base` input.
import type { MrtFirstPaint } from '../../format/index.ts';
import { pixelsToChw, type Geometry } from '../../model/io.ts';
import { decodedProblem, embeddedProblem, embeddedSize, NOT_AN_IMAGE } from '../../format/embedded.ts';
import { send } from './env.ts';
import type { Job } from './job.ts';
import { placeholderCrop } from '../../format/parts.ts';

export class Placeholder {
  /** Why there is no base (a placeholder the browser cannot decode or read). */
  error = '';
  /** The model's `base` input: the placeholder's RGB at (Wp/16, Hp/16), CHW float in [0, 1]. */
  base: Float32Array | null = null;
  /** The decoded placeholder at its own size (the base is made from it). */
  private canvas: OffscreenCanvas | null = null;

  async paint(job: Job, first: MrtFirstPaint): Promise<void> {
    const ph = first.placeholder;
    if (!ph) return;
    // The browser would decode whatever size the image's own header claims: refuse any other
    // size than the stream's header gives (which is never larger than the padded image).
    // Bytes of no embeddable format are never decoded; like a placeholder the browser cannot
    // decode, they leave no base (an ML paint reports it) while the tokens still decode, as in
    // Node. A header that claims another size than the stream's is a refused stream.
    if (embeddedSize(ph.bytes) === NOT_AN_IMAGE) {
      this.error = `the placeholder ${NOT_AN_IMAGE}`;
      return;
    }
    const refused = embeddedProblem(ph.bytes, ph.width, ph.height, 'placeholder');
    if (refused) return this.refuse(job, refused);
    let bitmap: ImageBitmap;
    try {
      bitmap = await createImageBitmap(new Blob([ph.bytes as Uint8Array<ArrayBuffer>], { type: ph.mime }), {
        colorSpaceConversion: 'none',
        premultiplyAlpha: 'none',
      });
    } catch (e) {
      // Not reported here: tokens still decode; an ML paint without its base reports it.
      this.error = `cannot decode the ${ph.mime} placeholder: ${(e as Error).message}`;
      return;
    }
    const decoded = decodedProblem(bitmap, ph.width, ph.height, 'placeholder');
    if (decoded) {
      bitmap.close();
      return this.refuse(job, decoded);
    }
    try {
      this.canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
      this.canvas.getContext('2d', { willReadFrequently: true })!.drawImage(bitmap, 0, 0);
    } catch {
      this.canvas = null;
    }
    if (job.dead || job.painted) {
      bitmap.close();
      return;
    }
    job.painted = { known: 0, kind: 'placeholder' };
    // The placeholder covers the padded image: paint only the part over the real image.
    send(
      {
        type: 'paint',
        id: job.id,
        bitmap,
        crop: placeholderCrop(first, bitmap.width, bitmap.height),
        detail: { kind: 'placeholder', bytes: job.received, chunks: 0, tokens: 0 },
      },
      [bitmap],
    );
    // Wall-clock time of the placeholder hand-off (bench/client-paint.ts checks that no ML
    // file was requested before it).
    send({ type: 'stats', id: job.id, stats: { placeholderPostedAt: Date.now() } });
  }

  /** A placeholder that is not what the header says is a refused stream: nothing is painted, the fallback shows. */
  private refuse(job: Job, why: string): void {
    this.error = why;
    job.fail({ code: 'placeholder', message: `stream refused: ${why}`, fatal: true });
  }

  /** Makes the base once the geometry is known (no-op without a decoded placeholder). */
  makeBase(g: Geometry): void {
    if (!this.canvas || this.base) return;
    // the model's base is the padded image at 1/baseFactor: a placeholder of another size is no base
    if (this.canvas.width !== g.baseW || this.canvas.height !== g.baseH) {
      this.error = `the placeholder is ${this.canvas.width}x${this.canvas.height}, the model's base for ${g.width}x${g.height} is ${g.baseW}x${g.baseH}`;
      return;
    }
    try {
      const px = this.canvas.getContext('2d', { willReadFrequently: true })!.getImageData(0, 0, g.baseW, g.baseH, { colorSpace: 'srgb' }).data;
      this.base = pixelsToChw(px, g.baseW, g.baseH, 4);
    } catch (e) {
      this.error = `cannot read the placeholder pixels: ${(e as Error).message}`;
    }
  }
}
