// RunScheduler (src/client/scheduler.ts): one ONNX run at a time for the page, a newer
// state of an image replaces its queued run, priorities order the queue. Pure, runs in Node.
import { describe, expect, it } from 'vitest';
import { RunScheduler } from '../../src/client/scheduler.ts';

const tick = () => new Promise((r) => setTimeout(r, 0));

function gate() {
  let open!: () => void;
  const p = new Promise<void>((r) => (open = r));
  return { p, open };
}

describe('RunScheduler', () => {
  it('runs one at a time and replaces a queued run of the same image', async () => {
    const s = new RunScheduler();
    const ran: string[] = [];
    let running = 0;
    let maxRunning = 0;
    const g = gate();
    const job = (name: string, wait?: Promise<void>) => async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      ran.push(name);
      if (wait) await wait;
      running--;
    };
    s.request({ id: 1, priority: 1, run: job('a1', g.p) }); // starts at once
    s.request({ id: 1, priority: 1, run: job('a2') }); // queued
    s.request({ id: 1, priority: 1, run: job('a3') }); // replaces a2
    s.request({ id: 2, priority: 1, run: job('b1') });
    expect(ran).toEqual(['a1']);
    g.open();
    for (let i = 0; i < 10; i++) await tick();
    expect(ran).toEqual(['a1', 'a3', 'b1']);
    expect(maxRunning).toBe(1);
    expect(s.superseded).toBe(1);
    expect(s.idle).toBe(true);
  });

  it('higher priority first; a throwing run does not stop the queue; cancel drops a queued run', async () => {
    const s = new RunScheduler();
    const ran: string[] = [];
    const g = gate();
    s.request({ id: 9, priority: 1, run: async () => { ran.push('first'); await g.p; } });
    s.request({ id: 1, priority: 0, run: async () => { ran.push('low'); } });
    s.request({ id: 2, priority: 2, run: async () => { ran.push('high'); throw new Error('boom'); } });
    s.request({ id: 3, priority: 1, run: async () => { ran.push('cancelled'); } });
    s.request({ id: 4, priority: 1, run: async () => { ran.push('auto'); } });
    s.cancel(3);
    g.open();
    for (let i = 0; i < 10; i++) await tick();
    expect(ran).toEqual(['first', 'high', 'auto', 'low']);
    expect(s.idle).toBe(true);
  });

  it('holds runs while `hold` says so, and starts them on wake() or its own recheck', async () => {
    const s = new RunScheduler();
    const ran: string[] = [];
    let held = true;
    s.hold = () => held;
    s.request({ id: 1, priority: 1, run: async () => { ran.push('a'); } });
    for (let i = 0; i < 5; i++) await tick();
    expect(ran).toEqual([]);
    expect(s.idle).toBe(false);
    held = false;
    s.wake();
    for (let i = 0; i < 5; i++) await tick();
    expect(ran).toEqual(['a']);
    // released without a wake(): the queue looks again by itself
    held = true;
    s.request({ id: 2, priority: 1, run: async () => { ran.push('b'); } });
    for (let i = 0; i < 5; i++) await tick();
    expect(ran).toEqual(['a']);
    held = false;
    await new Promise((r) => setTimeout(r, 120));
    expect(ran).toEqual(['a', 'b']);
    expect(s.idle).toBe(true);
  });
});
