// A worker thread of `mrt encode -j N` (src/encoder/workers.ts): encodes the images it is sent
// with its own models. onnxruntime-node runs a session on the calling thread and the closed
// loop is JavaScript, so images encoded side by side on one thread take turns; on their own
// threads they use every core.
import { parentPort, workerData } from 'node:worker_threads';
import { encodeRgb, type normaliseOptions } from './encode.ts';
import { readImage } from './image-io.ts';
import { loadModels } from './models.ts';

export interface EncodeRequest {
  id: number;
  source: Uint8Array;
  opts: ReturnType<typeof normaliseOptions>;
  hash: Uint8Array;
}
export type EncodeReply = { id: number; mrt: Uint8Array } | { id: number; error: string };

const port = parentPort!;
const models = loadModels((workerData as { modelsDir: string }).modelsDir);
models.catch(() => {}); // reported with each request
port.on('message', async (r: EncodeRequest) => {
  try {
    const m = await models;
    const img = await readImage(r.source, r.opts.alpha);
    const mrt = await encodeRgb(img, m, r.opts, r.hash);
    port.postMessage({ id: r.id, mrt } satisfies EncodeReply, [mrt.buffer as ArrayBuffer]);
  } catch (e) {
    port.postMessage({ id: r.id, error: (e as Error).message } satisfies EncodeReply);
  }
});
