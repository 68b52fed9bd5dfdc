// Final painter: the stream's native final layer (lossless or high quality), decoded by the
// browser; it ends the image's ML paints.
import { decodedProblem, embeddedProblem } from './embedded.ts';
import { send } from './env.ts';
import type { Job } from './job.ts';

/** A final layer that is not the header's size or not a raster image: refused, the token image stays. */
function refuse(job: Job, why: string): void {
  job.fail({ code: 'corrupt', message: `final layer refused: ${why}`, fatal: !job.painted });
}

export async function paintFinal(job: Job, mime: string, bytes: Uint8Array): Promise<void> {
  const { width, height } = job.parser.header!;
  // checked on the image's own header before the browser decodes (and allocates) it
  const refused = embeddedProblem(bytes, width, height, 'final layer');
  if (refused) return refuse(job, refused);
  job.finalShown = true;
  job.ml.stop();
  try {
    const bitmap = await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: mime }), { colorSpaceConversion: 'none' });
    const decoded = decodedProblem(bitmap, width, height, 'final layer');
    if (decoded) {
      bitmap.close();
      job.finalShown = false;
      refuse(job, decoded);
      job.ml.request();
      return;
    }
    if (job.dead) return bitmap.close();
    job.painted = { known: job.known, kind: 'final' };
    send({ type: 'paint', id: job.id, bitmap, detail: { kind: 'final', bytes: job.received, chunks: job.chunks, tokens: job.known } }, [bitmap]);
  } catch {
    // A final layer the browser cannot decode (e.g. AVIF without support): keep the token image.
    job.finalShown = false;
    job.ml.request();
  }
}
