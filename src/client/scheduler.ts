// One ONNX run at a time across every image of the page. Each image holds at most one
// pending request: a newer token state replaces the queued one instead of queueing behind
// it, so a fast network never builds a backlog of stale decodes.

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

  /** Queues `req`, replacing a request of the same image that has not started yet. */
  request(req: RunRequest): void {
    if (this.pending.has(req.id)) this.superseded++;
    this.pending.set(req.id, { ...req, seq: this.seq++ });
    this.pump();
  }

  cancel(id: number): void {
    this.pending.delete(id);
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
    if (this.busy) return;
    const r = this.next();
    if (!r) return;
    this.pending.delete(r.id);
    this.busy = true;
    // run() reports its own errors; a throw here must not stop the queue.
    r.run()
      .catch(() => undefined)
      .finally(() => {
        this.busy = false;
        this.completed++;
        this.pump();
      });
  }
}
