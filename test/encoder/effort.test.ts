// Encoder effort levels (src/encoder/effort.ts) and what makes the lower ones fast: the
// closed loop's dot products through onnxruntime (src/encoder/matmul.ts), the placeholder's
// bracketed quality search. Speed itself is measured by bench/encode-speed.ts, not here.
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { geometry } from '../../src/model/io.ts';
import { decode, encode, loadModels, normaliseOptions, type Models } from '../../src/encoder/index.ts';
import { DEFAULT_EFFORT, EFFORT_LEVELS, effortLevel, MAX_EFFORT, MIN_EFFORT } from '../../src/encoder/effort.ts';
import { matmul } from '../../src/encoder/matmul.ts';
import { closedLoop, prepareGram, tailRows, windowDots } from '../../src/encoder/tail-rdo.ts';
import { makePlaceholder } from '../../src/encoder/placeholder.ts';
import { psnr } from '../../bench/lib/metrics.ts';

const KODAK = new URL('../../../shared/data/kodak/', import.meta.url).pathname;
let models: Models;
let png: Uint8Array;
let original: Buffer;

beforeAll(async () => {
  models = await loadModels();
  const img = sharp(join(KODAK, 'kodim23.png')).extract({ left: 200, top: 100, width: 192, height: 128 });
  png = new Uint8Array(await img.clone().png().toBuffer());
  original = await img.clone().raw().toBuffer();
});

describe('effort levels', () => {
  it('accepts the integers 1..9 only, and effort is one of the options the bytes depend on', () => {
    for (const bad of [0, 10, 1.5, Number.NaN, -1]) {
      expect(() => effortLevel(bad)).toThrow(/effort must be an integer in 1\.\.9/);
      expect(() => normaliseOptions(models, { effort: bad })).toThrow(RangeError);
    }
    for (let e = MIN_EFFORT; e <= MAX_EFFORT; e++) expect(effortLevel(e)).toBe(EFFORT_LEVELS[e]);
    expect(normaliseOptions(models, {}).effort).toBe(DEFAULT_EFFORT);
    expect(normaliseOptions(models, { effort: 3 }).effort).toBe(3);
  });

  it('every level writes a file that decodes to the image, the same bytes each time', async () => {
    const scores: number[] = [];
    for (const effort of [1, DEFAULT_EFFORT, 9]) {
      const a = await encode(png, { models, effort });
      const b = await encode(png, { models, effort });
      expect(Buffer.compare(Buffer.from(a), Buffer.from(b)), `effort ${effort}`).toBe(0);
      const whole = await decode(a, { models });
      expect([whole.image.width, whole.image.height]).toEqual([192, 128]);
      scores.push(psnr(original, whole.image.data));
    }
    // the same image at every level: within a dB of each other, and a real paint of it
    for (const s of scores) expect(s).toBeGreaterThan(24);
    expect(Math.max(...scores) - Math.min(...scores)).toBeLessThan(1);
  });
});

describe('fast closed loop', () => {
  it('matmul (onnxruntime) multiplies', async () => {
    const a = Float32Array.from([1, 2, 3, 4, 5, 6]); // 2x3
    const b = Float32Array.from([1, 0, 0, 1, 2, -1]); // 3x2
    expect(Array.from(await matmul(a, b, 2, 3, 2))).toEqual([7, -1, 16, -1]);
    expect(Array.from(await matmul(Float64Array.from(a), Float64Array.from(b), 2, 3, 2))).toEqual([7, -1, 16, -1]);
    await expect(matmul(Float64Array.from(a), b as unknown as Float64Array, 2, 3, 2)).rejects.toThrow(/one type/);
    await expect(matmul(a, b, 3, 3, 2)).rejects.toThrow(/matmul/);
  });

  it('windowDots gives closedLoop the products it computes itself: the same tokens', async () => {
    const g = geometry(192, 128, models.manifest.layout);
    const tb = models.tail!;
    const rows = tailRows(tb);
    const plane = g.paddedW * g.paddedH;
    // a smooth image and a different "paint": residuals of a realistic size
    const image = Float32Array.from({ length: 3 * plane }, (_, i) => 0.5 + 0.3 * Math.sin(i / 97));
    const painted = Float32Array.from({ length: 3 * plane }, (_, i) => 0.5 + 0.3 * Math.sin(i / 101));
    const perLayer = g.gridW * g.gridH;
    const T = models.manifest.layout.tokens;
    const start = Uint8Array.from({ length: T * perLayer }, (_, i) => (i * 7) % 9);
    const [own, given] = [start.slice(), start.slice()];
    const lambda = () => 0.001;
    closedLoop(own, tb.split, T, 9, g, rows, image, painted, lambda, 2);
    closedLoop(given, tb.split, T, 9, g, rows, image, painted, lambda, 2, undefined, await windowDots(g, rows, image, painted));
    let differ = 0;
    for (let i = 0; i < own.length; i++) if (own[i] !== given[i]) differ++;
    // float32 against float64 sums: a near-tie may fall the other way, rarely
    expect(differ / own.length).toBeLessThan(1e-3);
    expect(Buffer.compare(Buffer.from(own.subarray(0, tb.split * perLayer)), Buffer.from(start.subarray(0, tb.split * perLayer)))).toBe(0);
  });

  it('prepareGram (onnxruntime, float64) gives closedLoop the Gram matrix it computes itself: the same tokens', async () => {
    const g = geometry(192, 128, models.manifest.layout);
    const tb = models.tail!;
    const rows = tailRows(tb);
    const copy = { ...rows, basis: rows.basis.slice() }; // the Gram matrix is kept per basis array
    await prepareGram(copy);
    const plane = g.paddedW * g.paddedH;
    const image = Float32Array.from({ length: 3 * plane }, (_, i) => 0.5 + 0.3 * Math.sin(i / 97));
    const painted = Float32Array.from({ length: 3 * plane }, (_, i) => 0.5 + 0.3 * Math.sin(i / 101));
    const T = models.manifest.layout.tokens;
    const start = Uint8Array.from({ length: T * g.gridW * g.gridH }, (_, i) => (i * 5) % 9);
    const [own, prepared] = [start.slice(), start.slice()];
    const dots = await windowDots(g, rows, image, painted);
    closedLoop(own, tb.split, T, 9, g, rows, image, painted, () => 0.001, 2, undefined, dots);
    closedLoop(prepared, tb.split, T, 9, g, copy, image, painted, () => 0.001, 2, undefined, dots);
    let differ = 0;
    for (let i = 0; i < own.length; i++) if (own[i] !== prepared[i]) differ++;
    // float64 sums in another order at most: a near-tie may fall the other way, very rarely
    expect(differ / own.length).toBeLessThan(1e-4);
    expect(Buffer.from(prepared).equals(Buffer.from(start))).toBe(false);
  });

  it("the placeholder's bracketed search finds the quality the full search finds", async () => {
    const g = geometry(192, 128, models.manifest.layout);
    const padded = new Uint8Array(await sharp(png).resize(g.paddedW, g.paddedH, { fit: 'fill' }).removeAlpha().raw().toBuffer());
    for (const bytes of [80, 150]) {
      const full = await makePlaceholder(padded, g.paddedW, g.paddedH, g.baseW, g.baseH, bytes, 'avif', { placeholderEffort: 9, placeholderSearch: 'bisect' });
      const bracket = await makePlaceholder(padded, g.paddedW, g.paddedH, g.baseW, g.baseH, bytes, 'avif', { placeholderEffort: 9, placeholderSearch: 'bracket' });
      expect([bracket.quality, Buffer.from(bracket.bytes).equals(Buffer.from(full.bytes))], `${bytes} B`).toEqual([full.quality, true]);
    }
  });
});
