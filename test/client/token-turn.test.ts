// The decode worker's order of work: a stream's token decoding waits while another image's
// placeholder is being decoded (every first paint before any image's tokens), never for long.
import { describe, expect, it } from 'vitest';
import { placeholderBegins, tokenTurn } from '../../src/client/decode/env.ts';

const settledWithin = async (p: Promise<unknown>, ms: number) => Promise.race([p.then(() => true), new Promise((r) => setTimeout(() => r(false), ms))]);

describe('tokenTurn', () => {
  it('comes at once when no placeholder is being decoded', async () => {
    expect(await settledWithin(tokenTurn(), 100)).toBe(true);
  });

  it('waits while a placeholder is being decoded, and comes when the last one is painted', async () => {
    const a = placeholderBegins();
    const b = placeholderBegins();
    const turn = tokenTurn();
    expect(await settledWithin(turn, 150)).toBe(false);
    a();
    a(); // (a second call of the same end counts once)
    expect(await settledWithin(turn, 150)).toBe(false);
    b();
    expect(await settledWithin(turn, 100)).toBe(true);
  });

  it('waits at most 1.5 s for a placeholder that never ends', async () => {
    const stuck = placeholderBegins();
    const t0 = Date.now();
    await tokenTurn();
    const waited = Date.now() - t0;
    stuck();
    expect(waited).toBeGreaterThanOrEqual(1400);
    expect(waited).toBeLessThan(3000);
  });
});
