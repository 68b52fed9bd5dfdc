// The encoder's closed-loop tail optimisation (src/encoder/tail-rdo.ts) on small synthetic
// bases where the right answer is known, and through the real models.
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeMrt } from '../../src/codec/index.ts';
import { geometry } from '../../src/model/io.ts';
import { tailMismatch, type TailBasis } from '../../src/model/tail.ts';
import type { Manifest } from '../../src/model/io.ts';
import { closedLoop, EARLY_LOOP, optimiseTail, type TailRdoParams } from '../../src/encoder/tail-rdo.ts';
import { decode, encode, loadModels } from '../../src/encoder/index.ts';
import { psnr } from '../../bench/lib/metrics.ts';

const L = 9; // level k has value (k − 4) / 4
const S = 2; // window: 3·2·2 = 12 values per window
const D = 3 * S * S;
const g = geometry(4, 2, { window: S, baseFactor: 1 }); // two windows side by side
const exact: TailRdoParams = { lambda: 0, lateLambda: 0, lateFrom: 99, passes: 1 };

/** A basis of `rows` (each D long) for layers split..split+rows. */
function basis(split: number, rows: number[][]): TailBasis {
  return { split, tokens: split + rows.length, window: S, basis: Float32Array.from(rows.flat()) };
}

/** CHW image [3][2][4] whose window w holds `vec[w]` (in (c, i, j) order). */
function imageOf(vec: number[][]): Float32Array {
  const img = new Float32Array(3 * g.paddedH * g.paddedW);
  vec.forEach((v, w) => {
    for (let c = 0; c < 3; c++) for (let i = 0; i < S; i++) for (let j = 0; j < S; j++) {
      img[c * g.paddedH * g.paddedW + i * g.paddedW + w * S + j] = v[(c * S + i) * S + j]!;
    }
  });
  return img;
}

const unit = (i: number, s = 1) => Array.from({ length: D }, (_, k) => (k === i ? s : 0));
const scale = (v: number[], s: number) => v.map((x) => x * s);

describe('optimiseTail', () => {
  it('leaves the layers before the split alone and sets the tail to the centre when nothing is left to code', () => {
    const tb = basis(1, [unit(0), unit(1)]);
    const tokens = Uint8Array.from([7, 2, 8, 8, 0, 1]); // layers 0..2 × 2 windows
    const zero = imageOf([unit(0, 0), unit(0, 0)]);
    optimiseTail(tokens, 3, L, g, tb, zero, zero, exact);
    expect(Array.from(tokens)).toEqual([7, 2, 4, 4, 4, 4]);
  });

  it('with λ = 0 and an orthogonal basis picks the nearest level of each projection', () => {
    const tb = basis(0, [unit(0, 2), unit(5, 0.5)]);
    // window 0: coefficient 0.6 on row 0 (value 0.3 → level 5), 0.2 on row 1 (value 0.4 → level 6)
    // window 1: −1.7 on row 0 (value −0.85 → level 1), 3 on row 1 (value 6, clipped to level 8)
    const img = imageOf([[...unit(0, 0.6)].map((x, k) => (k === 5 ? 0.2 : x)), [...unit(0, -1.7)].map((x, k) => (k === 5 ? 3 : x))]);
    const tokens = new Uint8Array(4);
    optimiseTail(tokens, 2, L, g, tb, img, new Float32Array(img.length), exact);
    expect(Array.from(tokens)).toEqual([5, 1, 6, 8]);
  });

  it('is closed-loop: a later token codes what the earlier one left (not its own projection)', () => {
    const b = unit(3);
    const tb = basis(0, [b, b]); // the same direction twice
    const img = imageOf([scale(b, 1.25), scale(b, -0.3)]);
    const tokens = new Uint8Array(4);
    optimiseTail(tokens, 2, L, g, tb, img, new Float32Array(img.length), exact);
    // window 0: 1.25 → 1.0 (level 8, the top), then the remaining 0.25 → level 5;
    // window 1: −0.3 → −0.25 (level 3), then −0.05 → 0 (level 4). Open-loop would repeat
    // its first choice (8, 8 and 3, 3).
    expect(Array.from(tokens)).toEqual([8, 3, 5, 4]);
  });

  it('trades distortion for bits: a large λ keeps the tail at the centre level', () => {
    const tb = basis(0, [unit(0), unit(1)]);
    const img = imageOf([scale(unit(0), 0.5), scale(unit(1), -0.5)]);
    const run = (lambda: number) => {
      const tokens = new Uint8Array(4).fill(4); // the network's tokens: bit costs start from their levels
      optimiseTail(tokens, 2, L, g, tb, img, new Float32Array(img.length), { lambda, lateLambda: lambda, lateFrom: 99, passes: 2 });
      return Array.from(tokens);
    };
    expect(run(0)).toEqual([6, 4, 4, 2]);
    expect(run(1e6)).toEqual([4, 4, 4, 4]);
  });
});

describe('closedLoop (a range of layers inside a basis: the encoder re-chooses layers before the split this way)', () => {
  const rows = { first: 1, rows: 3, window: S, basis: Float32Array.from([unit(0), unit(1), unit(2)].flat()) }; // layers 1..3
  it('re-chooses only layers from..to − 1, against the residual of what was painted', () => {
    const tokens = Uint8Array.from([7, 2, 0, 0, 0, 0, 1, 1]); // layers 0..3 × 2 windows
    // layer 1 codes coefficient 0 (window 0: 0.5 → level 6; window 1: −0.25 → level 3); layer 3 stays
    const img = imageOf([scale(unit(0), 0.5), scale(unit(0), -0.25)]);
    closedLoop(tokens, 1, 3, L, g, rows, img, new Float32Array(img.length), () => 0, 1);
    expect(Array.from(tokens)).toEqual([7, 2, 6, 3, 4, 4, 1, 1]);
  });
  it('prices the coarse bin\'s bits at (1 + alpha) λ in the coarse pass\'s layers only', () => {
    const tb = { first: 0, rows: 1, window: S, basis: Float32Array.from(unit(0)) };
    const img = imageOf([scale(unit(0), 0.5), scale(unit(0), 0)]); // window 0 wants level 6 (bin 2)
    const run = (coarse: { layers: number; alpha: number }) => {
      const tokens = new Uint8Array(2).fill(4); // bit costs start from the centre level
      closedLoop(tokens, 0, 1, L, g, tb, img, new Float32Array(img.length), () => 0.01, 1, coarse);
      return Array.from(tokens);
    };
    expect(run({ layers: 1, alpha: 0 })).toEqual([6, 4]);
    // its outer bin is rare: at alpha 20 its coarse trit costs more than level 5 (centre bin) errs
    expect(run({ layers: 1, alpha: 20 })).toEqual([5, 4]);
    expect(run({ layers: 0, alpha: 20 })).toEqual([6, 4]); // layer 0 is not in a coarse pass
  });
  it('refuses layers the basis does not cover', () => {
    const tokens = new Uint8Array(10);
    const zero = new Float32Array(3 * g.paddedH * g.paddedW);
    expect(() => closedLoop(tokens, 0, 2, L, g, rows, zero, zero, () => 0, 1)).toThrow(RangeError);
    expect(() => closedLoop(tokens, 2, 5, L, g, rows, zero, zero, () => 0, 1)).toThrow(/not all in the basis/);
  });
});

describe('tailMismatch (the one check of tail.bin against the manifest, browser and Node)', () => {
  const manifest = (split: number | null, tokens = 4, window = S): Manifest => ({
    id: 't', files: {}, modelHash: '', layout: { window, baseFactor: 16, tokens, levels: L },
    ...(split === null ? {} : { splitDecoder: { file: 'decoder-split.onnx', tail: 'tail.bin', layers: split } }),
  });
  const tb = basis(1, [unit(0), unit(1), unit(2)]); // split 1 of 4 layers, window 2
  it('accepts the basis of its own split decoder and names every disagreement', () => {
    expect(tailMismatch(tb, manifest(1))).toBeNull();
    expect(tailMismatch(tb, manifest(2))).toMatch(/split 1 of 4 layers.*says 2 of 4/);
    expect(tailMismatch(tb, manifest(1, 5))).toMatch(/says 1 of 5/);
    expect(tailMismatch(tb, manifest(1, 4, 4))).toMatch(/window 2;.*window 4/);
    expect(tailMismatch(tb, manifest(null))).toMatch(/no split decoder/);
  });
});

describe('tail RDO through the shipped models', () => {
  it('is on by default for a model with a split decoder, keeps the first layers, re-chooses the rest and paints the whole file better', async () => {
    const models = await loadModels();
    if (!models.tail) throw new Error('the shipped model has no split decoder: this test needs one');
    const KODAK = new URL('../../../shared/data/kodak/', import.meta.url).pathname;
    const img = sharp(join(KODAK, 'kodim23.png')).extract({ left: 200, top: 100, width: 256, height: 192 });
    const png = new Uint8Array(await img.clone().png().toBuffer());
    const original = await img.clone().raw().toBuffer();
    const on = await encode(png, { models, final: 'none' });
    const off = await encode(png, { models, final: 'none', tailRdo: false });
    const a = decodeMrt(on, { rcm: models.rcm }), b = decodeMrt(off, { rcm: models.rcm });
    expect([a.known, b.known]).toEqual([a.header!.totalTokens, b.header!.totalTokens]);
    expect(a.known).toBeGreaterThan(0);
    // the network's tokens up to EARLY_LOOP.from; re-chosen from there (through the preview
    // basis before the split, the tail basis after it)
    const perLayer = (256 / 32) * (192 / 32);
    const head = EARLY_LOOP.from * perLayer;
    const split = models.tail.split * perLayer;
    const same = (x: Uint8Array, y: Uint8Array) => Buffer.compare(Buffer.from(x), Buffer.from(y)) === 0;
    expect(same(a.tokens.subarray(0, head), b.tokens.subarray(0, head))).toBe(true);
    expect(same(a.tokens.subarray(head, split), b.tokens.subarray(head, split))).toBe(false);
    expect(same(a.tokens.subarray(split), b.tokens.subarray(split))).toBe(false);
    const pOn = psnr(original, (await decode(on, { models })).image.data);
    const pOff = psnr(original, (await decode(off, { models })).image.data);
    expect(pOn).toBeGreaterThan(pOff);
  });
});
