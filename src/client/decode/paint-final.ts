// Final painter: the stream's native final layer (full resolution, full quality). The page
// shows it as a real <img> (so "Save image as", currentSrc and LCP see an image); it ends the
// image's learned paints.
import { embeddedProblem } from '../../format/embedded.ts';
import { send } from './env.ts';
import type { Job } from './job.ts';

/** A final layer that is not the image's size or not a raster image: refused, the token image stays. */
function refuse(job: Job, why: string): void {
  job.fail({ code: 'corrupt', message: `final layer refused: ${why}`, fatal: !job.painted });
}

/** Why the final layer cannot be shown (checked on the image's own header before the browser decodes, and allocates, it), or null. */
export function finalProblem(job: Job, bytes: Uint8Array): string | null {
  const { imageWidth, imageHeight } = job.parser.header!;
  return embeddedProblem(bytes, imageWidth, imageHeight, 'final layer');
}

/** `wire`: the bytes this image moved (a final layer read alone skipped the learned chunks), default what the parser took. */
export function paintFinal(job: Job, mime: string, bytes: Uint8Array, wire: number = job.received): void {
  const refused = finalProblem(job, bytes);
  if (refused) return refuse(job, refused);
  if (job.dead) return;
  job.finalShown = true;
  job.ml.stop();
  job.paintedBeforeFinal = job.painted;
  job.painted = { known: job.known, kind: 'final' };
  const copy = bytes.slice();
  send({ type: 'final', id: job.id, mime, bytes: copy.buffer, detail: { kind: 'final', bytes: wire, chunks: job.chunks, tokens: job.known } }, [copy.buffer]);
}
