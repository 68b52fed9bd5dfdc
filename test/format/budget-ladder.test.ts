// The budget ladder (src/format/budget.ts): the fixed sizes a server rounds byte budgets up to.
import { describe, expect, it } from 'vitest';
import { BUDGET_LADDER_MAX, BUDGET_LADDER_MIN, budgetRung } from '../../src/format/budget.ts';

describe('budgetRung', () => {
  it('rounds up to 256 B × 2^k; 0 (header only) stays 0', () => {
    for (const [b, r] of [
      [0, 0],
      [-5, 0],
      [1, 256],
      [256, 256],
      [257, 512],
      [1000, 1024],
      [1024, 1024],
      [2047.5, 2048],
      [2048, 2048],
      [2049, 4096],
      [100_000, 131072],
    ] as const) expect(budgetRung(b), String(b)).toBe(r);
    expect(budgetRung(NaN)).toBe(0);
  });

  it('never fewer bytes than asked, at most twice as many (above the first rung), and a rung is its own rung', () => {
    for (let b = 1; b < 70_000; b += 97) {
      const r = budgetRung(b);
      expect(r).toBeGreaterThanOrEqual(b);
      if (b > BUDGET_LADDER_MIN) expect(r).toBeLessThan(2 * b);
      expect(budgetRung(r)).toBe(r);
    }
  });

  it('few rungs: 17 from 256 B to 16 MiB', () => {
    const rungs = new Set<number>();
    for (let b = 1; b <= 16 << 20; b = Math.ceil(b * 1.01) + 1) rungs.add(budgetRung(b));
    expect(rungs.size).toBe(17);
    expect(budgetRung(BUDGET_LADDER_MAX * 3 + 0.5)).toBe(BUDGET_LADDER_MAX * 3 + 1);
  });
});
