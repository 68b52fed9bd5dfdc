// One ONNX run at a time across every image of the page. Each image holds at most one
// pending request: a newer token state replaces the queued one instead of queueing behind
// it, so a fast network never builds a backlog of stale decodes. A run blocks the worker for
// its whole length, so none starts while `hold` says another image's first paint (its
// placeholder) is on its way: those come first.

let yieldPort: MessagePort | null = null;
const yielded: (() => void)[] = [];

/**
 * Resolves one task later, after the tasks already queued (messages from the page such as a
 * refine, other streams' reads): a message to ourselves, so no timer clamping.
 */
export function nextTask(): Promise<void> {
  if (!yieldPort) {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => yielded.shift()?.();
    (ch.port1 as { unref?: () => void }).unref?.(); // (Node: the port alone keeps no process alive)
    yieldPort = ch.port2;
  }
  return new Promise((r) => {
    yielded.push(r);
    yieldPort!.postMessage(0);
  });
}

/** How often a held queue asks `hold` again (besides wake()). */
const HOLD_RECHECK_MS = 50;

export interface RunRequest {
  /** Image id. */
  id: number;
  /** Higher runs first (fetchpriority=high → 2, auto → 1, low → 0); ties: oldest request first. */
  priority: number;
  /** Does the work; reads the newest state of the image when it starts. */
  run: () => Promise<void>;
}

export class RunScheduler {
  private pending = new Map<number, RunRequest & { seq: number }>();
  private busy = false;
  private seq = 0;
  /** Requests replaced before they ran (for stats and tests). */
  superseded = 0;
  completed = 0;
  /** True while runs must wait (decode/job.ts: a placeholder on its way); asked before each run. */
  hold: () => boolean = () => false;
  private holdTimer: ReturnType<typeof setTimeout> | null = null;

  /** Queues `req`, replacing a request of the same image that has not started yet. */
  request(req: RunRequest): void {
    if (this.pending.has(req.id)) this.superseded++;
    this.pending.set(req.id, { ...req, seq: this.seq++ });
    this.pump();
  }

  cancel(id: number): void {
    this.pending.delete(id);
  }

  /** Something `hold` depends on changed: start a run if one may. */
  wake(): void {
    this.pump();
  }

  get idle(): boolean {
    return !this.busy && this.pending.size === 0;
  }

  private next(): (RunRequest & { seq: number }) | undefined {
    let best: (RunRequest & { seq: number }) | undefined;
    for (const r of this.pending.values()) {
      if (!best || r.priority > best.priority || (r.priority === best.priority && r.seq < best.seq)) best = r;
    }
    return best;
  }

  private pump(): void {
    if (this.busy || this.pending.size === 0) return;
    if (this.hold()) {
      this.holdTimer ??= setTimeout(() => {
        this.holdTimer = null;
        this.pump();
      }, HOLD_RECHECK_MS);
      return;
    }
    const r = this.next();
    if (!r) return;
    this.pending.delete(r.id);
    this.busy = true;
    // run() reports its own errors; a throw here must not stop the queue. The next run starts a
    // task later: a run blocks the worker, and what came meanwhile (a refine, a stream's bytes) goes first.
    r.run()
      .catch(() => undefined)
      .then(nextTask)
      .finally(() => {
        this.busy = false;
        this.completed++;
        this.pump();
      });
  }
}
