// Worker threads for encoding several images at once (`mrt encode -j N`, bench/encode-speed.ts):
// one encode at a time per worker, each worker with its own models (src/encoder/encode-worker.ts).
import { Worker } from 'node:worker_threads';
import type { normaliseOptions } from './encode.ts';
import type { EncodeReply, EncodeRequest } from './encode-worker.ts';

// From the TypeScript sources (a checkout, run through tsx), the worker registers tsx before
// importing its .ts module (a worker does not inherit the parent's module hooks).
const fromSource = import.meta.url.endsWith('.ts');
const WORKER = new URL(fromSource ? './encode-worker.ts' : './encode-worker.js', import.meta.url);
const workerAt = (): [string | URL, { eval?: boolean }] => fromSource
  ? [`import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((t) => { t.register(); return import(${JSON.stringify(WORKER.href)}); });`, { eval: true }]
  : [WORKER, {}];

export class EncodeWorkers {
  private readonly free: Worker[] = [];
  private readonly all = new Set<Worker>();
  /** the request each busy worker is on */
  private readonly busy = new Map<Worker, { resolve: (b: Uint8Array) => void; reject: (e: Error) => void }>();

  /** `jobs` workers, each loading the models in `modelsDir` (undefined: the shipped ones). */
  constructor(jobs: number, private readonly modelsDir: string | undefined) {
    for (let i = 0; i < jobs; i++) this.free.push(this.spawn());
  }

  private spawn(): Worker {
    const [entry, how] = workerAt();
    const w = new Worker(entry, { ...how, workerData: { modelsDir: this.modelsDir } });
    this.all.add(w);
    w.on('message', (r: EncodeReply) => {
      const p = this.busy.get(w);
      this.busy.delete(w);
      this.free.push(w);
      if ('error' in r) p?.reject(new Error(r.error));
      else p?.resolve(r.mrt);
    });
    // a worker that dies fails its image and is replaced
    w.on('error', (e) => {
      this.all.delete(w);
      const p = this.busy.get(w);
      this.busy.delete(w);
      if (p) {
        p.reject(e);
        this.free.push(this.spawn());
      }
    });
    return w;
  }

  /** Encodes `source` (image file bytes) on a free worker; at most `jobs` calls may be in flight. */
  encode(source: Uint8Array, opts: ReturnType<typeof normaliseOptions>, hash: Uint8Array): Promise<Uint8Array> {
    const w = this.free.pop();
    if (!w) return Promise.reject(new Error('EncodeWorkers: more encodes in flight than workers'));
    return new Promise((resolve, reject) => {
      this.busy.set(w, { resolve, reject });
      w.postMessage({ id: 0, source, opts, hash } satisfies EncodeRequest);
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.all].map((w) => w.terminate()));
  }
}
