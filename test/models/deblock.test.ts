// The window-grid deblocking filter (src/model/deblock.ts) on synthetic CHW images.
import { describe, expect, it } from 'vitest';
import { DEBLOCK_DEFAULT, deblockChw, type DeblockParams } from '../../src/model/deblock.ts';

const W = 96, H = 64, WIN = 32;
const plane = W * H;

/** A CHW image whose value at (x, y) is f(x, y, c). */
function image(f: (x: number, y: number, c: number) => number): Float32Array {
  const a = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) a[c * plane + y * W + x] = f(x, y, c);
  return a;
}

const at = (a: Float32Array, x: number, y: number, c = 0) => a[c * plane + y * W + x]!;
/** Largest |difference| between horizontal neighbours x-1, x over all rows and channels. */
function maxStepAt(a: Float32Array, x: number): number {
  let m = 0;
  for (let c = 0; c < 3; c++) for (let y = 0; y < H; y++) m = Math.max(m, Math.abs(at(a, x, y, c) - at(a, x - 1, y, c)));
  return m;
}

describe('deblockChw', () => {
  it('turns a small step on a window boundary into a ramp, keeping the sides\' mean', () => {
    // a gentle horizontal gradient with a 0.04 step where the second window column starts
    const a = image((x, _y, c) => 0.3 + 0.1 * c + 0.002 * x + (x >= WIN ? 0.04 : 0));
    const before = a.slice();
    deblockChw(a, W, H, WIN, 1);
    // the step across the boundary was the gradient (0.002) plus 0.04; now it is close to the gradient
    expect(maxStepAt(before, WIN)).toBeCloseTo(0.042, 5);
    expect(maxStepAt(a, WIN)).toBeLessThan(0.002 + 0.04 / 8);
    // the correction is a ramp: every pair within the radius changes by the same small amount
    const r = DEBLOCK_DEFAULT.radius;
    for (let x = WIN - r + 1; x < WIN + r; x++) expect(maxStepAt(a, x)).toBeLessThan(0.002 + 0.04 / r);
    // and it moves values, it does not add or remove light: the sum over the ramp is unchanged
    let s0 = 0, s1 = 0;
    for (let x = WIN - r; x < WIN + r; x++) { s0 += at(before, x, 5); s1 += at(a, x, 5); }
    expect(s1).toBeCloseTo(s0, 4);
  });

  it('smooths steps on horizontal boundaries too', () => {
    const a = image((_x, y) => 0.5 + (y >= WIN ? -0.03 : 0));
    deblockChw(a, W, H, WIN, 1);
    let m = 0;
    for (let x = 0; x < W; x++) m = Math.max(m, Math.abs(at(a, x, WIN) - at(a, x, WIN - 1)));
    expect(m).toBeLessThan(0.03 / 8);
  });

  it('keeps a strong edge that lies on a boundary', () => {
    const a = image((x) => (x >= WIN ? 0.8 : 0.2));
    const before = a.slice();
    deblockChw(a, W, H, WIN, 1);
    expect(Array.from(a)).toEqual(Array.from(before));
  });

  it('keeps a small step whose sides are busy (texture masks it)', () => {
    // a 1-px checkerboard of amplitude 0.2 on both sides, and a 0.04 step at the boundary
    const a = image((x, y) => 0.4 + 0.2 * ((x + y) & 1) + (x >= WIN ? 0.04 : 0));
    const before = a.slice();
    deblockChw(a, W, H, WIN, 1);
    expect(Array.from(a)).toEqual(Array.from(before));
  });

  it('changes nothing farther than the radius from a boundary, and nothing at all off the grid', () => {
    // steps everywhere (every 8 px, on and off the grid), small enough to be filtered where they are on it
    const a = image((x, y, c) => 0.2 + 0.01 * (x >> 3) + 0.015 * (y >> 3) + 0.05 * c);
    const before = a.slice();
    deblockChw(a, W, H, WIN, 1);
    const r = DEBLOCK_DEFAULT.radius;
    const near = (v: number) => v % WIN < r || v % WIN >= WIN - r;
    let changed = 0;
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          const d = at(a, x, y, c) !== at(before, x, y, c);
          // the image's own edges (x, y < r at the top-left, the right and bottom borders) are no boundaries
          const inside = (near(x) && x >= r && x < W - r) || (near(y) && y >= r && y < H - r);
          if (!inside) expect(d).toBe(false);
          if (d) changed++;
        }
      }
    }
    expect(changed).toBeGreaterThan(0);
  });

  it('corrects a step among mild texture more when fewer tokens are known', () => {
    // a 1-px checkerboard of amplitude 0.02 (below the activity limit) and a 0.03 step
    const textured = () => image((x, y) => 0.4 + 0.02 * ((x + y) & 1) + (x >= WIN ? 0.03 : 0));
    const change = (a: Float32Array) => {
      const o = textured();
      let s = 0;
      for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - o[i]!);
      return s;
    };
    const few = textured(), all = textured();
    deblockChw(few, W, H, WIN, 0);
    deblockChw(all, W, H, WIN, 1);
    expect(change(all)).toBeGreaterThan(0);
    expect(change(few)).toBeGreaterThan(1.2 * change(all));
  });

  it('is deterministic and the same for a copy', () => {
    let seed = 1;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const a = image((x, y) => 0.5 + 0.05 * rnd() + (x >= WIN ? 0.02 : 0) + (y >= WIN ? -0.02 : 0));
    const b = a.slice();
    deblockChw(a, W, H, WIN, 1);
    deblockChw(b, W, H, WIN, 1);
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  it('refuses a size that does not match the data and a radius that does not fit the window', () => {
    expect(() => deblockChw(new Float32Array(10), W, H, WIN, 1)).toThrow(RangeError);
    const p: DeblockParams = { ...DEBLOCK_DEFAULT, radius: 17 };
    expect(() => deblockChw(new Float32Array(3 * plane), W, H, WIN, 1, p)).toThrow(RangeError);
  });
});
