// Throughput estimate from the stream's own arrival, for `budget="auto"` where the browser
// has no navigator.connection (Safari, Firefox): the shared budget rule
// (src/format/budget.ts) then gets a measured Downlink and RTT instead of the browser's.
//
// RTT: request start → first byte. Downlink: the bytes that arrived after the first read,
// over the time since it (the first read comes with the round trip and whatever the network
// had buffered, so it says nothing about the rate). No estimate before MIN_SPAN_MS of
// arrival and MIN_READS reads: a burst that ends sooner is a fast network, and the stream
// simply completes.

/** Milliseconds of arrival (after the first read) before the rate counts. */
export const MIN_SPAN_MS = 150;
/** Reads (after the first) before the rate counts. */
export const MIN_READS = 2;

export interface Estimate {
  /** Mbit/s */
  downlinkMbps: number;
  rttMs: number;
}

export class ThroughputEstimator {
  private firstAt: number | null = null;
  private lastAt = 0;
  private bytesAfterFirst = 0;
  private reads = 0;
  rttMs: number | null = null;

  constructor(private readonly startedAt: number) {}

  /** `bytes` arrived at `now` (ms, same clock as the start). */
  add(bytes: number, now: number): void {
    if (bytes <= 0) return;
    if (this.firstAt === null) {
      this.firstAt = now;
      this.rttMs = Math.max(0, now - this.startedAt);
      return;
    }
    this.bytesAfterFirst += bytes;
    this.reads++;
    this.lastAt = now;
  }

  /** The estimate so far, or null while there is too little evidence. `now`: the rate includes the time waited since the last read. */
  estimate(now = this.lastAt): Estimate | null {
    if (this.firstAt === null || this.reads < MIN_READS) return null;
    const span = Math.max(now, this.lastAt) - this.firstAt;
    if (span < MIN_SPAN_MS) return null;
    return { downlinkMbps: (this.bytesAfterFirst * 8) / 1000 / span, rttMs: this.rttMs ?? 0 };
  }
}

/** The latest estimate of this worker (all images of the page): a later image starts from it. */
let latest: Estimate | null = null;

export function lastEstimate(): Estimate | null {
  return latest;
}

export function recordEstimate(e: Estimate | null): void {
  if (e) latest = e;
}
