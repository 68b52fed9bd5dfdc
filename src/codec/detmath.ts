// Deterministic exp for the coding path: IEEE-754 double arithmetic with only + - * / and
// Math.floor, in a fixed order, so that every JS engine gives bit-identical results
// (JS forbids fused multiply-add contraction). Accuracy ~1e-15 relative; what matters is
// that encoder and decoder compute the same bits.

const LOG2E = 1.4426950408889634;
// ln 2 split for Cody-Waite range reduction (fdlibm): n * LN2_HI is exact for |n| < 2^11.
const LN2_HI = 6.93147180369123816490e-1;
const LN2_LO = 1.90821492927058770002e-10;

// Taylor coefficients 1/k!, k = 0..12, each the correctly rounded quotient of exact integers.
const C = [1, 1, 1 / 2, 1 / 6, 1 / 24, 1 / 120, 1 / 720, 1 / 5040, 1 / 40320, 1 / 362880, 1 / 3628800, 1 / 39916800, 1 / 479001600];
const C0 = C[0]!, C1 = C[1]!, C2 = C[2]!, C3 = C[3]!, C4 = C[4]!, C5 = C[5]!, C6 = C[6]!;
const C7 = C[7]!, C8 = C[8]!, C9 = C[9]!, C10 = C[10]!, C11 = C[11]!, C12 = C[12]!;

// POW2[n + 1022] = 2^n for n in [-1022, 1023], built by exact doublings/halvings.
const POW2 = (() => {
  const t = new Float64Array(2046);
  t[1022] = 1;
  for (let n = 1; n <= 1023; n++) t[1022 + n] = t[1022 + n - 1]! * 2;
  for (let n = 1; n <= 1022; n++) t[1022 - n] = t[1022 - n + 1]! / 2;
  return t;
})();

/** Lower cut-off: exp(x) for x <= EXP_MIN is returned as 0. */
export const EXP_MIN = -700;

/**
 * Deterministic e^x. Range reduction x = n ln2 + r, |r| <= ln2/2, then a degree-12
 * Taylor polynomial (Horner, fixed order) scaled by an exact power of two.
 * x <= EXP_MIN or NaN -> 0; x >= 709 -> Infinity.
 */
export function detExp(x: number): number {
  if (!(x > EXP_MIN)) return 0;
  if (x >= 709) return Infinity;
  const n = Math.floor(x * LOG2E + 0.5);
  const r = x - n * LN2_HI - n * LN2_LO;
  const p =
    ((((((((((((C12 * r + C11) * r + C10) * r + C9) * r + C8) * r + C7) * r + C6) * r + C5) * r + C4) * r + C3) * r + C2) * r + C1) * r) + C0;
  return p * POW2[n + 1022]!;
}
