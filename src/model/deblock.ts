// Deblocking of a learned-layer paint along the token window grid. The decoder's linear
// synthesis paints each window from its own tokens, and with few tokens neighbouring windows
// disagree at their shared edge: a one-pixel step that the conv decoder does not remove
// (bench/seam-stages.ts). This removes that step where it is a seam, not image content:
//
//   per line across a boundary (p3 p2 p1 p0 | q0 q1 q2 q3), per channel,
//   excess = (q0 - p0) - slope,  slope = ((p0 - p1) + (q1 - q0)) / 2
//   (the step beyond what the gradient on each side predicts: a smooth ramp has none), and
//   the excess is spread as a linear ramp over `radius` pixels each side, added to what is
//   there (an additive correction: texture and edges near the boundary keep their shape).
//
// A line is left alone where its step is large (a real edge that lies on the boundary) or its
// sides are busy (texture masks the step, and the slope estimate is unreliable there), with a
// soft transition so that neighbouring lines do not flip between filtered and not.
//
// Runs on the decoder's output tensor (CHW float32 in [0, 1], padded to the window grid: what
// the Node decoder and the browser worker both hold before chwToPixels), in place. Plain
// TypeScript, no imports, so that the browser worker can call the same function.

export interface DeblockParams {
  /** Excess steps (in [0, 1] units, max over channels) from this up are edges: kept (fully filtered below half of it). */
  maxStep: number;
  /** Mean |difference| between neighbours on a side (max over sides and channels) from this up masks the step: kept. */
  maxActivity: number;
  /** Pixels each side of a boundary the ramp spans (at most window / 2). */
  radius: number;
  /**
   * With every token known, the correction shrinks by excess² / (excess² + texture · activity²):
   * a step no larger than the sides' own differences may be texture. Scaled by the fraction
   * of tokens known: with few tokens the paint has little texture and its steps are seams.
   */
  texture: number;
}

/** The filter measured on Kodak (bench/deblock.ts). */
export const DEBLOCK_DEFAULT: DeblockParams = { maxStep: 0.2, maxActivity: 0.1, radius: 6, texture: 4 };

/** 1 up to half of the limit, 0 from the limit on, linear between. */
function gate(v: number, limit: number): number {
  return v <= 0.5 * limit ? 1 : v >= limit ? 0 : 2 - (2 * v) / limit;
}

/**
 * Filters every line across one boundary. `at`: index of q0 in the first line's first
 * channel; `step`: from a pixel to the next across the boundary (1 for a vertical boundary,
 * width for a horizontal one); `next`: from one line to the next along the boundary;
 * `k`: the texture term for this paint.
 */
function boundary(chw: Float32Array, plane: number, at: number, step: number, next: number, lines: number, p: DeblockParams, k: number, ramp: Float32Array): void {
  const s2 = 2 * step, s3 = 3 * step, s4 = 4 * step;
  const r = ramp.length;
  let e0 = 0, e1 = 0, e2 = 0;
  for (let l = 0; l < lines; l++) {
    const q = at + l * next;
    let maxEx = 0;
    let act = 0;
    for (let c = 0; c < 3; c++) {
      const o = q + c * plane;
      const p3 = chw[o - s4]!, p2 = chw[o - s3]!, p1 = chw[o - s2]!, p0 = chw[o - step]!;
      const q0 = chw[o]!, q1 = chw[o + step]!, q2 = chw[o + s2]!, q3 = chw[o + s3]!;
      const e = q0 - p0 - 0.5 * (p0 - p1 + q1 - q0);
      if (c === 0) e0 = e;
      else if (c === 1) e1 = e;
      else e2 = e;
      maxEx = Math.max(maxEx, Math.abs(e));
      act = Math.max(act, Math.abs(p0 - p1) + Math.abs(p1 - p2) + Math.abs(p2 - p3), Math.abs(q1 - q0) + Math.abs(q2 - q1) + Math.abs(q3 - q2));
    }
    // act: the busier side's mean |difference| over the 3 neighbour pairs next to the boundary
    const a = act / 3;
    const e2max = maxEx * maxEx;
    const w = gate(maxEx, p.maxStep) * gate(a, p.maxActivity) * (e2max > 0 ? e2max / (e2max + k * a * a) : 0);
    if (w === 0) continue;
    for (let c = 0; c < 3; c++) {
      const e = w * (c === 0 ? e0 : c === 1 ? e1 : e2);
      const o = q + c * plane;
      for (let i = 0; i < r; i++) {
        const d = e * ramp[i]!;
        chw[o - (i + 1) * step] += d;
        chw[o + i * step] -= d;
      }
    }
  }
}

/**
 * The fraction of a paint's tokens known (deblockChw's `known`): stream symbols received
 * (tokens, and coarse trits before them) over windows × tokens per window, at most 1.
 */
export function knownFraction(symbols: number, windows: number, tokensPerWindow: number): number {
  return Math.min(1, symbols / (windows * tokensPerWindow));
}

/**
 * Deblocks `chw` (3 × height × width, float) in place along the window grid, whose lines
 * start at the top-left corner: vertical boundaries first, then horizontal ones. `known`:
 * the fraction of tokens known (knownFraction). Values may leave [0, 1] by a little;
 * chwToPixels clamps.
 */
export function deblockChw(chw: Float32Array, width: number, height: number, window: number, known: number, p: DeblockParams = DEBLOCK_DEFAULT): void {
  if (chw.length !== 3 * width * height) throw new RangeError(`deblock: ${chw.length} values for 3x${width}x${height}`);
  if (!(p.radius >= 2 && Number.isInteger(p.radius) && 2 * p.radius <= window)) throw new RangeError(`deblock: radius must be an integer in 2..${window / 2}, got ${p.radius}`);
  // p_i (i = 0 nearest the boundary, at -i - 0.5) moves up by excess · (r - i - 0.5) / (2r), q_i down
  // as much: the step becomes a straight ramp from -r to +r.
  const ramp = new Float32Array(p.radius);
  for (let i = 0; i < p.radius; i++) ramp[i] = (p.radius - i - 0.5) / (2 * p.radius);
  const plane = width * height;
  const k = p.texture * Math.min(Math.max(known, 0), 1);
  for (let x = window; x < width; x += window) boundary(chw, plane, x, 1, width, height, p, k, ramp);
  for (let y = window; y < height; y += window) boundary(chw, plane, y * width, width, 1, width, p, k, ramp);
}

/**
 * A learned paint (the decoder's padded CHW output) deblocked along its window grid, with the
 * strength for `known` of the model's stream symbols: what decode() and the browser's learned
 * paints do, one call for both.
 */
export function deblockPaint(
  out: Float32Array,
  g: { paddedW: number; paddedH: number; gridW: number; gridH: number },
  layout: { window: number; tokens: number },
  known: number,
  p: DeblockParams = DEBLOCK_DEFAULT,
): void {
  deblockChw(out, g.paddedW, g.paddedH, layout.window, knownFraction(known, g.gridW * g.gridH, layout.tokens), p);
}
