// Final painter: the stream's native final layer (lossless or high quality), decoded by the
// browser; it ends the image's ML paints.
import { send } from './env.ts';
import type { Job } from './job.ts';

export async function paintFinal(job: Job, mime: string, bytes: Uint8Array): Promise<void> {
  job.finalShown = true;
  job.ml.stop();
  try {
    const bitmap = await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: mime }), { colorSpaceConversion: 'none' });
    if (job.dead) return bitmap.close();
    job.painted = { known: job.known, kind: 'final' };
    send({ type: 'paint', id: job.id, bitmap, detail: { kind: 'final', bytes: job.received, chunks: job.chunks, tokens: job.known } }, [bitmap]);
  } catch {
    // A final layer the browser cannot decode (e.g. AVIF without support): keep the token image.
    job.finalShown = false;
    job.ml.request();
  }
}
