// What each lean op reads: one rule for the converter's fusion and the runtime's planner.
import type { LeanOp } from './format.ts';

/** The tensors an op reads (weights excluded). */
export function opInputs(n: LeanOp): string[] {
  switch (n.op) {
    case 'Add':
      return [n.a, n.b];
    case 'Concat':
      return n.xs;
    default:
      return [n.x];
  }
}
