// The exported models (models/, or $MRT_MODELS_DIR) load in onnxruntime-node and in
// onnxruntime-web (WASM backend, 1 thread) and reproduce PyTorch's outputs on the fixtures
// that training/export.py writes to models/testvec/ (tolerance stored there: max |diff|
// <= 1e-4 on outputs in [-1, 1] / [0, 1]). Also checks the manifest and rcm.json against
// docs/design.md, and recomputes the RCM's frequencies from rcm.json in float64.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { geometry, type Manifest } from '../../src/model/io.ts';
import { TailSynthesis, parseTail } from '../../src/model/tail.ts';
import { parsePreview, previewPixels, previewSize } from '../../src/model/preview.ts';

const DIR = resolve(process.env.MRT_MODELS_DIR ?? 'models');
const have = existsSync(join(DIR, 'manifest.json'));

interface Tensor32 {
  shape: number[];
  f32: string;
}
interface Fixture {
  model: string;
  tol: number;
  inputs: Record<string, Tensor32>;
  outputs: Record<string, Tensor32>;
}

function f32(t: Tensor32): Float32Array {
  const b = Buffer.from(t.f32, 'base64');
  const out = new Float32Array(b.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = b.readFloatLE(i * 4);
  expect(out.length).toBe(t.shape.reduce((a, c) => a * c, 1));
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function readJson<T>(name: string): T {
  return JSON.parse(readFileSync(join(DIR, name), 'utf8')) as T;
}

type Ort = typeof ortNode | typeof ortWeb;

async function runFixture(ort: Ort, fx: Fixture, opts: object) {
  const session = await ort.InferenceSession.create(readFileSync(join(DIR, fx.model)), opts);
  const feeds: Record<string, ortNode.Tensor> = {};
  for (const [name, t] of Object.entries(fx.inputs)) {
    feeds[name] = new ort.Tensor('float32', f32(t), t.shape) as ortNode.Tensor;
  }
  const res = await session.run(feeds as never);
  const diffs: Record<string, number> = {};
  for (const [name, t] of Object.entries(fx.outputs)) {
    const got = res[name];
    expect(Array.from(got.dims)).toEqual(t.shape);
    diffs[name] = maxAbsDiff(got.data as Float32Array, f32(t));
  }
  await session.release();
  return diffs;
}

// Missing prerequisites fail the file loudly: these tests never skip themselves into green.
if (!have) throw new Error('prerequisites missing (models/, ../shared/data/kodak, or the edge scripts): see README');
describe('exported models', () => {
  const manifest = have
    ? readJson<{
        id: string;
        files: Record<string, { sha256: string; bytes: number }>;
        layout: { window: number; baseFactor: number; tokens: number; levels: number };
        modelHash: string;
      }>('manifest.json')
    : null!;

  it('manifest matches the files (sha256, bytes, modelHash per design.md)', () => {
    expect(manifest.layout.window).toBe(32);
    expect(manifest.layout.baseFactor).toBe(16);
    const digests: Buffer[] = [];
    for (const name of ['decoder.onnx', 'encoder.onnx', 'rcm.json']) {
      const bytes = readFileSync(join(DIR, name));
      const d = createHash('sha256').update(bytes).digest();
      expect(manifest.files[name].sha256).toBe(d.toString('hex'));
      expect(manifest.files[name].bytes).toBe(bytes.length);
      digests.push(d);
    }
    // modelHash = sha256 of the three raw 32-byte digests concatenated
    expect(manifest.modelHash).toBe(createHash('sha256').update(Buffer.concat(digests)).digest('hex'));
    // preview.bin is listed (and checked by the client) but derived from decoder.onnx, so
    // it is not part of modelHash
    const pv = readFileSync(join(DIR, 'preview.bin'));
    expect(manifest.files['preview.bin'].sha256).toBe(createHash('sha256').update(pv).digest('hex'));
    expect(manifest.files['preview.bin'].bytes).toBe(pv.length);
  });

  it('split decoder (models with more than 64 layers): listed with its sha256; with the tail summed by src/model/tail.ts it reproduces decoder.onnx\'s fixture (onnxruntime-web wasm)', async () => {
    const m = manifest as typeof manifest & Pick<Manifest, 'splitDecoder'>;
    const T = m.layout.tokens;
    if (T <= 64) {
      // small models ship none; the export adds one exactly when T > 64
      expect(m.splitDecoder).toBeUndefined();
      return;
    }
    const sd = m.splitDecoder!;
    expect(sd.layers).toBeLessThan(T);
    for (const f of [sd.file, sd.tail]) {
      const bytes = readFileSync(join(DIR, f));
      expect(m.files[f].sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    }
    const tb = parseTail(new Uint8Array(readFileSync(join(DIR, sd.tail))));
    expect([tb.split, tb.tokens, tb.window]).toEqual([sd.layers, T, m.layout.window]);
    // every layer received, tokens at random levels: the tail carries 3/4 of the layers
    ortWeb.env.wasm.numThreads = 1;
    const full = await ortWeb.InferenceSession.create(readFileSync(join(DIR, 'decoder.onnx')), { executionProviders: ['wasm'] });
    const s = await ortWeb.InferenceSession.create(readFileSync(join(DIR, sd.file)), { executionProviders: ['wasm'] });
    const gh = 3, gw = 5, cells = gh * gw;
    const L = m.layout.levels;
    const z = Float32Array.from({ length: T * cells }, (_, i) => (((i * 7919) % L) * 2) / (L - 1) - 1);
    const mask = new Float32Array(T * cells).fill(1);
    const feeds: Record<string, ortWeb.Tensor> = {
      z: new ortWeb.Tensor('float32', z, [1, T, gh, gw]),
      mask: new ortWeb.Tensor('float32', mask, [1, T, gh, gw]),
      base: new ortWeb.Tensor('float32', Float32Array.from({ length: 3 * 2 * gh * 2 * gw }, (_, i) => (i % 11) / 11), [1, 3, 2 * gh, 2 * gw]),
    };
    const want = (await full.run(feeds)).image.data as Float32Array;
    const tail = new TailSynthesis(tb, cells).update(z);
    feeds.tail = new ortWeb.Tensor('float32', tail, [1, tail.length / cells, gh, gw]);
    const got = (await s.run(feeds)).image.data as Float32Array;
    // float16 tail basis: export.py checks < 2e-3 at 768x512 with every token random
    expect(maxAbsDiff(got, want)).toBeLessThanOrEqual(2e-3);
    // without the tail (zeros) the tail tokens' linear synthesis is missing: a different image
    feeds.tail = new ortWeb.Tensor('float32', new Float32Array(tail.length), [1, tail.length / cells, gh, gw]);
    const without = (await s.run(feeds)).image.data as Float32Array;
    expect(maxAbsDiff(without, want)).toBeGreaterThan(1e-2);
    await full.release();
    await s.release();
  });

  it('tail.bin: the incremental sum equals a fresh one after tokens arrive and change; malformed files are refused', () => {
    const sd = (manifest as typeof manifest & Pick<Manifest, 'splitDecoder'>).splitDecoder;
    if (!sd) return expect(manifest.layout.tokens).toBeLessThanOrEqual(64);
    const good = new Uint8Array(readFileSync(join(DIR, sd.tail)));
    const tb = parseTail(good);
    const cells = 6;
    const z = new Float32Array(tb.tokens * cells);
    const inc = new TailSynthesis(tb, cells);
    let g = 12345;
    const rnd = () => ((g = (g * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let step = 0; step < 4; step++) {
      // more tokens arrive; with regeneration, earlier values may change too
      for (let i = 0; i < 200; i++) z[Math.floor(rnd() * z.length)] = Math.round(rnd() * 8) / 4 - 1;
      const a = inc.update(z).slice();
      const b = new TailSynthesis(tb, cells).update(z);
      expect(maxAbsDiff(a, b)).toBeLessThanOrEqual(1e-5);
    }
    // by hand: one token at (t, cell) adds z * basis[t] at that cell
    const one = new Float32Array(tb.tokens * cells);
    one[(tb.split + 3) * cells + 4] = 0.5;
    const out = new TailSynthesis(tb, cells).update(one);
    const per = 3 * tb.window * tb.window;
    for (const k of [0, 777, per - 1]) {
      expect(out[k * cells + 4]).toBeCloseTo(0.5 * tb.basis[3 * per + k], 7);
      expect(out[k * cells + 3]).toBe(0);
    }
    expect(() => inc.update(new Float32Array(5))).toThrow(/expected/);
    expect(() => parseTail(good.subarray(0, good.length - 2))).toThrow(/length/);
    const bad = good.slice();
    bad[0] = 0x58;
    expect(() => parseTail(bad)).toThrow(/magic/);
    const v2 = good.slice();
    v2[4] = 2;
    expect(() => parseTail(v2)).toThrow(/version/);
    const nan = good.slice();
    nan[12] = 0x00;
    nan[13] = 0x7e; // float16 NaN
    expect(() => parseTail(nan)).toThrow(/finite/);
  });

  it('preview.bin: src/model/preview.ts reproduces the PyTorch preview fixture', () => {
    const basis = parsePreview(new Uint8Array(readFileSync(join(DIR, 'preview.bin'))));
    expect(basis.window).toBe(manifest.layout.window);
    expect(basis.components).toBeLessThanOrEqual(manifest.layout.tokens);
    const fx = readJson<Fixture>('testvec/preview.json');
    const [, T, gh, gw] = fx.inputs.z.shape;
    const g = geometry(gw * 32, gh * 32, manifest.layout);
    const px = previewPixels(basis, g, T, f32(fx.inputs.z), f32(fx.inputs.base));
    const want = f32(fx.outputs.image);
    const plane = g.width * g.height;
    let worst = 0;
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(px[4 * p + c] / 255 - want[c * plane + p]));
    }
    // 8-bit output: half a level of rounding plus float order
    expect(worst).toBeLessThanOrEqual(fx.tol);
    // a cropped image (not a whole number of windows) paints the same pixels where they overlap
    const gc = geometry(gw * 32 - 5, gh * 32 - 7, manifest.layout);
    const pc = previewPixels(basis, gc, T, f32(fx.inputs.z), f32(fx.inputs.base));
    for (let y = 0; y < gc.height; y += 3) {
      for (let x = 0; x < gc.width; x += 3) {
        expect(pc[4 * (y * gc.width + x)]).toBe(px[4 * (y * g.width + x)]);
      }
    }
  });

  it('preview with deblockKnown: the steps across the window grid shrink, pixels away from it stay', () => {
    const basis = parsePreview(new Uint8Array(readFileSync(join(DIR, 'preview.bin'))));
    const fx = readJson<Fixture>('testvec/preview.json');
    const [, T, gh, gw] = fx.inputs.z.shape;
    const g = geometry(gw * 32, gh * 32, manifest.layout);
    const raw = previewPixels(basis, g, T, f32(fx.inputs.z), f32(fx.inputs.base));
    const db = previewPixels(basis, g, T, f32(fx.inputs.z), f32(fx.inputs.base), 1, 0.1);
    const win = basis.window;
    let stepRaw = 0, stepDb = 0, changedFar = 0;
    for (let y = 0; y < g.height; y++) {
      for (let x = 0; x < g.width; x++) {
        const i = 4 * (y * g.width + x);
        const dx = Math.min(x % win, win - 1 - (x % win));
        const dy = Math.min(y % win, win - 1 - (y % win));
        if (dx >= 6 && dy >= 6) changedFar += Number(raw[i] !== db[i]);
        if (x % win === 0 && x > 0) {
          stepRaw += Math.abs(raw[i]! - raw[i - 4]!);
          stepDb += Math.abs(db[i]! - db[i - 4]!);
        }
      }
    }
    expect(changedFar).toBe(0);
    expect(stepDb).toBeLessThan(stepRaw * 0.8);
  });

  it('preview at half resolution: close to the full preview averaged 2x2', () => {
    const basis = parsePreview(new Uint8Array(readFileSync(join(DIR, 'preview.bin'))));
    const fx = readJson<Fixture>('testvec/preview.json');
    const [, T, gh, gw] = fx.inputs.z.shape;
    for (const [w, h] of [[gw * 32, gh * 32], [gw * 32 - 5, gh * 32 - 7]]) {
      const g = geometry(w, h, manifest.layout);
      const full = previewPixels(basis, g, T, f32(fx.inputs.z), f32(fx.inputs.base));
      const half = previewPixels(basis, g, T, f32(fx.inputs.z), f32(fx.inputs.base), 2);
      const hs = previewSize(g, 2);
      expect(half.length).toBe(4 * hs.width * hs.height);
      let se = 0, n = 0;
      for (let y = 0; y + 1 < h; y += 2) {
        for (let x = 0; x + 1 < w; x += 2) {
          for (let c = 0; c < 3; c++) {
            const at = (yy: number, xx: number) => full[4 * (yy * w + xx) + c];
            const avg = (at(y, x) + at(y, x + 1) + at(y + 1, x) + at(y + 1, x + 1)) / 4;
            se += (half[4 * ((y / 2) * hs.width + x / 2) + c] - avg) ** 2;
            n++;
          }
        }
      }
      const psnr = 10 * Math.log10((255 * 255) / (se / n));
      expect(psnr).toBeGreaterThan(35);
    }
  });

  it('preview.bin: malformed files are refused with a clear error', () => {
    const good = new Uint8Array(readFileSync(join(DIR, 'preview.bin')));
    expect(() => parsePreview(good.subarray(0, good.length - 1))).toThrow(/length/);
    const bad = good.slice();
    bad[0] = 0x58;
    expect(() => parsePreview(bad)).toThrow(/magic/);
    const v2 = good.slice();
    v2[4] = 2;
    expect(() => parsePreview(v2)).toThrow(/version/);
  });

  type RcmJson = { format: string; D: number; H: number; L: number; T: number; tensors: Record<string, Tensor32>; coarse?: RcmJson };
  const rcmJson = readJson<RcmJson>('rcm.json');
  // the token RCM, and (2.10) the coarse-trit RCM when the model has one (export.py --coarse-rcm)
  const rcms: [string, RcmJson, string][] = [['RCM', rcmJson, 'testvec/rcm.json']];
  if (rcmJson.coarse) rcms.push(['coarse RCM', rcmJson.coarse, 'testvec/rcm-coarse.json']);

  it('rcm.json has the tensors and shapes of design.md', () => {
    for (const [what, r] of rcms) {
      const { D, H, L, T } = r;
      expect(r.format).toBe('mrt-rcm-1');
      // The RCM may cover only the first layers (docs/design.md): 1 <= T <= the model's T.
      expect(T).toBeGreaterThanOrEqual(1);
      expect(T).toBeLessThanOrEqual(manifest.layout.tokens);
      // the coarse RCM codes coarse trits (L = 3)
      expect(L, what).toBe(what === 'RCM' ? manifest.layout.levels : 3);
      const want: Record<string, number[]> = {
        decay: [D], E_self: [T, L, D], P: [T, D], N_left: [L + 1, D], N_up: [L + 1, D], N_ul: [L + 1, D],
        N_ur: [L + 1, D], W1: [H, D], b1: [H], W2: [L, H], b2: [L],
      };
      expect(Object.keys(r.tensors).sort()).toEqual(Object.keys(want).sort());
      for (const [name, shape] of Object.entries(want)) {
        expect(r.tensors[name].shape).toEqual(shape);
        const a = f32(r.tensors[name]);
        for (const v of a) expect(Number.isFinite(v)).toBe(true);
        if (name === 'decay') for (const v of a) expect(v > 0 && v < 1).toBe(true);
      }
    }
  });

  for (const [what, r, fixture] of rcms) {
    it(`${what} frequencies recomputed from rcm.json match the exported fixture (|df| <= 1)`, () => {
      const fx = readJson<{ T: number; L: number; gh: number; gw: number; tokens: number[]; freqs: number[][] }>(fixture);
      const { D, H, L, T } = r;
      expect([fx.T, fx.L]).toEqual([T, L]);
      const w = Object.fromEntries(Object.entries(r.tensors).map(([k, t]) => [k, Float64Array.from(f32(t))]));
      const { gh, gw, tokens } = fx;
      const M = 1 << 15;
      const tok = (t: number, y: number, x: number) =>
        y < 0 || x < 0 || x >= gw ? L : tokens[(t * gh + y) * gw + x];
      const h = Array.from({ length: gh * gw }, () => new Float64Array(D));
      let worst = 0;
      for (let t = 0; t < T; t++) {
        for (let y = 0; y < gh; y++) {
          for (let x = 0; x < gw; x++) {
            const hw = h[y * gw + x];
            const nl = tok(t, y, x - 1), nu = tok(t, y - 1, x), nul = tok(t, y - 1, x - 1), nur = tok(t, y - 1, x + 1);
            const a = new Float64Array(D);
            for (let d = 0; d < D; d++) {
              a[d] = hw[d] + w.P[t * D + d] + w.N_left[nl * D + d] + w.N_up[nu * D + d] + w.N_ul[nul * D + d] +
                w.N_ur[nur * D + d];
            }
            const u = new Float64Array(H);
            for (let j = 0; j < H; j++) {
              let s = w.b1[j];
              for (let d = 0; d < D; d++) s += w.W1[j * D + d] * a[d];
              u[j] = Math.max(0, s);
            }
            const lg = new Float64Array(L);
            for (let k = 0; k < L; k++) {
              let s = w.b2[k];
              for (let j = 0; j < H; j++) s += w.W2[k * H + j] * u[j];
              lg[k] = s;
            }
            const mx = Math.max(...lg);
            const e = lg.map((v) => Math.exp(v - mx));
            const sum = e.reduce((p, c) => p + c, 0);
            const f = Array.from(e, (v) => 1 + Math.floor((v / sum) * (M - L)));
            let best = 0;
            for (let k = 1; k < L; k++) if (e[k] > e[best]) best = k;
            f[best] += M - f.reduce((p, c) => p + c, 0);
            const want = fx.freqs[(t * gh + y) * gw + x];
            expect(f.reduce((p, c) => p + c, 0)).toBe(M);
            for (let k = 0; k < L; k++) worst = Math.max(worst, Math.abs(f[k] - want[k]));
            // recurrent update with the token just coded
            const s = tokens[(t * gh + y) * gw + x];
            for (let d = 0; d < D; d++) hw[d] = w.decay[d] * hw[d] + w.E_self[(t * L + s) * D + d];
          }
        }
      }
      // the |df| <= 1 slack covers the exp() of the reference (numpy vs Math.exp), not the formula
      expect(worst).toBeLessThanOrEqual(1);
    });
  }

  for (const name of ['decoder', 'encoder']) {
    it(`${name}.onnx matches PyTorch in onnxruntime-node`, async () => {
      const fx = readJson<Fixture>(`testvec/${name}.json`);
      const d = await runFixture(ortNode, fx, { intraOpNumThreads: 1 });
      for (const v of Object.values(d)) expect(v).toBeLessThanOrEqual(fx.tol);
    });

    it(`${name}.onnx matches PyTorch in onnxruntime-web (wasm)`, async () => {
      ortWeb.env.wasm.numThreads = 1;
      const fx = readJson<Fixture>(`testvec/${name}.json`);
      const d = await runFixture(ortWeb, fx, { executionProviders: ['wasm'] });
      for (const v of Object.values(d)) expect(v).toBeLessThanOrEqual(fx.tol);
    });
  }

  it('decoder runs at 768x512 in onnxruntime-web (wasm) with the layout of the manifest', async () => {
    ortWeb.env.wasm.numThreads = 1;
    const { tokens: T } = manifest.layout;
    const gh = 16, gw = 24;
    const s = await ortWeb.InferenceSession.create(readFileSync(join(DIR, 'decoder.onnx')), {
      executionProviders: ['wasm'],
    });
    const z = new Float32Array(T * gh * gw);
    const mask = new Float32Array(T * gh * gw);
    for (let i = 0; i < 8 * gh * gw; i++) {
      z[i] = ((i * 7919) % 9) / 4 - 1;
      mask[i] = 1;
    }
    const base = new Float32Array(3 * 32 * 48).fill(0.5);
    const feeds = {
      z: new ortWeb.Tensor('float32', z, [1, T, gh, gw]),
      mask: new ortWeb.Tensor('float32', mask, [1, T, gh, gw]),
      base: new ortWeb.Tensor('float32', base, [1, 3, 32, 48]),
    };
    await s.run(feeds); // warm-up
    const t0 = performance.now();
    const out = await s.run(feeds);
    const ms = performance.now() - t0;
    expect(Array.from(out.image.dims)).toEqual([1, 3, 512, 768]);
    const img = out.image.data as Float32Array;
    let lo = Infinity, hi = -Infinity;
    for (const v of img) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThanOrEqual(1);
    console.log(`decoder 768x512 onnxruntime-web wasm 1 thread: ${ms.toFixed(0)} ms`);
    await s.release();
  });
});
