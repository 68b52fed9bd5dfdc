// The client's throughput estimate for budget="auto" without navigator.connection
// (src/client/decode/throughput.ts), and the shared rule fed with it.
import { describe, expect, it } from 'vitest';
import { budgetFor } from '../../src/format/budget.ts';
import { MIN_SPAN_MS, ThroughputEstimator } from '../../src/client/decode/throughput.ts';

describe('ThroughputEstimator', () => {
  it('RTT is request start → first byte; the first read does not count towards the rate', () => {
    const e = new ThroughputEstimator(1000);
    e.add(5000, 1300); // the first read: round trip + whatever was buffered
    expect(e.rttMs).toBe(300);
    expect(e.estimate()).toBeNull();
    // 1000 B every 100 ms = 80 kbit/s
    for (let i = 1; i <= 5; i++) e.add(1000, 1300 + i * 100);
    const est = e.estimate()!;
    expect(est.rttMs).toBe(300);
    expect(est.downlinkMbps).toBeCloseTo(0.08, 6);
  });

  it('no estimate from a burst: too few reads or too short a span', () => {
    const e = new ThroughputEstimator(0);
    e.add(100, 10);
    e.add(14000, 11);
    expect(e.estimate()).toBeNull(); // one read after the first
    e.add(100, 12);
    expect(e.estimate()).toBeNull(); // 2 ms of arrival
    expect(e.estimate(10 + MIN_SPAN_MS)).not.toBeNull(); // a stall counts as time
  });

  it('waiting lowers the rate (now past the last read)', () => {
    const e = new ThroughputEstimator(0);
    e.add(1, 50);
    e.add(1000, 150);
    e.add(1000, 250);
    const a = e.estimate()!.downlinkMbps;
    const b = e.estimate(450)!.downlinkMbps;
    expect(b).toBeCloseTo(a / 2, 6);
  });

  it('fed to the shared rule: a slow measured link caps the budget at about a second of transfer', () => {
    const e = new ThroughputEstimator(0);
    e.add(500, 200);
    for (let i = 1; i <= 10; i++) e.add(640, 200 + i * 100); // 6.4 KB/s
    const est = e.estimate()!;
    const b = budgetFor({ downlinkMbps: est.downlinkMbps, rttMs: est.rttMs }, { width: 768, height: 512, totalBytes: 14167 });
    expect(b.bytes).toBe(Math.floor(6400 * 0.8)); // 1 s target less the 200 ms round trip
    expect(b.reasons[0]).toMatch(/^downlink=/);
    // a fast one: no cap
    const f = new ThroughputEstimator(0);
    f.add(500, 20);
    for (let i = 1; i <= 10; i++) f.add(64000, 20 + i * 20);
    expect(budgetFor({ downlinkMbps: f.estimate()!.downlinkMbps, rttMs: f.estimate()!.rttMs }, { width: 768, height: 512, totalBytes: 14167 }).bytes).toBe(Infinity);
  });
});
