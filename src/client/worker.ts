// The decode worker: one per page, shared by every <mrt-img>.
//
// Each image is a Job (decode/job.ts) that wires the stages:
//   source (decode/source.ts: fetch, Range restarts, pacing)
//   → parser (decode/parser.ts: header → placeholder paint, no ML; StreamDecoder from src/codec)
//   → token state (decode/tokens.ts: tokens → z/mask, regeneration, the split decoder's tail sum)
//   → painters (decode/paint-*.ts: placeholder, token preview, decoder graph, native final).
// Page-wide: the model files (decode/models.ts), the ONNX session and its backend
// (decode/backend.ts), and one ONNX run at a time (RunScheduler), where an image's newer
// token state replaces its queued run. Runtime and models load lazily on the first header
// and once; the runtime not before the page's first paint (decode/gate.ts), and under
// Save-Data only from the HTTP cache.
import type { ToWorker } from './protocol.ts';
import { loseDevice } from './decode/backend.ts';
import { busyFor, cfg, configure, scheduler, send } from './decode/env.ts';
import { openGate, probeLearnedCache, warmLearned } from './decode/gate.ts';
import { Job } from './decode/job.ts';
import { retire, simulateAllocFailure } from './decode/memory.ts';
import { onPreviewReady } from './decode/models.ts';

const jobs = new Map<number, Job>();

// the page's placeholders before any learned run (a run blocks this thread)
scheduler.hold = () => {
  const now = performance.now();
  for (const j of jobs.values()) if (j.awaitsFirstPaint(now)) return true;
  return false;
};

// Images without a decoder paint get a token preview once its basis is here.
onPreviewReady(() => {
  for (const j of jobs.values()) j.paintPreview();
});

(self as unknown as { onmessage: ((ev: MessageEvent<ToWorker>) => void) | null }).onmessage = (ev: MessageEvent<ToWorker>) => {
  const m = ev.data;
  switch (m.type) {
    case 'config':
      configure(m.config);
      if (m.gate) openGate(m.gate);
      if (cfg().directFinal !== 'never') probeLearnedCache();
      break;
    case 'open-gate':
      openGate(m.why);
      break;
    case 'warm':
      // explicit: no wait for the page's first paint (Save-Data still holds: gate.ts)
      openGate('warm');
      warmLearned();
      break;
    case 'prefetch':
      // the gate still holds (the page's first paint), and Save-Data (gate.ts)
      if (cfg().paint !== false) warmLearned({ tail: true });
      break;
    case 'ping':
      send({ type: 'pong' });
      break;
    case 'lose-device':
      loseDevice();
      break;
    case 'crash':
      throw new Error('simulated crash (test hook)');
    case 'hang': {
      // busy, as a worker stuck in a runaway loop (for good: only the page's watchdog ends it)
      if (m.notice && m.ms) busyFor(m.ms);
      const end = performance.now() + (m.ms ?? Infinity);
      while (performance.now() < end);
      break;
    }
    case 'fail-alloc':
      simulateAllocFailure();
      break;
    case 'start': {
      jobs.get(m.id)?.cancel();
      const job = new Job(m.id, m.opts);
      jobs.set(m.id, job);
      job.run();
      break;
    }
    case 'refine':
      jobs.get(m.id)?.refine();
      break;
    case 'final-failed':
      jobs.get(m.id)?.finalFailed();
      break;
    case 'cancel':
      jobs.get(m.id)?.cancel();
      jobs.delete(m.id);
      break;
    case 'tokens': {
      const r = jobs.get(m.id)?.tokens() ?? { tokens: null, known: 0 };
      send({ type: 'tokens', id: m.id, req: m.req, tokens: r.tokens, known: r.known }, r.tokens ? [r.tokens.buffer] : []);
      break;
    }
  }
};

// A message from the page that cannot be deserialised was meant for some image, which would
// wait for it forever: the page replaces this worker.
self.addEventListener('messageerror', () => retire('a message to the decode worker could not be deserialised'));

self.addEventListener('unhandledrejection', (ev) => {
  // Every promise of the stages handles its errors; this is a last line so that none escapes
  // to the page. Logged, so that a bug here stays visible (the browser tests watch for it).
  const e = ev as PromiseRejectionEvent;
  e.preventDefault();
  console.error(`[mrt-worker] unhandled rejection: ${(e.reason as Error)?.message ?? e.reason}`);
});

send({ type: 'ready' });
