import { describe, expect, it } from 'vitest';
import {
  createPrior,
  decodeChunk,
  decodeMrt,
  detExp,
  encodeChunk,
  encodeChunks,
  M,
  ModelledStream,
  parseRcm,
  RcmPrior,
  regenerate,
  regenerationSeed,
  serializeRcm,
  StaticPrior,
  StreamDecoder,
  tokenLayout,
  tokenPosition,
  streamIndex,
  tokenValue,
  tokensToZ,
  tokenProgress,
  streamSymbols,
  COARSE_LEVEL_OFFSET,
  coarseOnlyToken,
  ADAPTIVE_CONTEXTS,
  neighbourhoodContext,
  type StreamEvent,
} from '../../src/codec/index.ts';
import { describe as describeInfo, readHeader } from '../../src/format/index.ts';
import { coarseMaskOf } from '../../src/model/io.ts';
import { fakeRcm, rng, syntheticTokens } from './fixtures.ts';
import { syntheticStream } from '../format/helpers.ts';

describe('deterministic exp', () => {
  it('matches Math.exp to ~1e-15 relative on the softmax range', () => {
    let worst = 0;
    for (let i = 0; i <= 200000; i++) {
      const x = -60 + (i / 200000) * 60.5;
      const a = detExp(x);
      const b = Math.exp(x);
      worst = Math.max(worst, Math.abs(a - b) / b);
    }
    expect(worst).toBeLessThan(4e-15);
    expect(detExp(0)).toBe(1);
    expect(detExp(-1e9)).toBe(0);
    expect(detExp(NaN)).toBe(0);
  });
  it('bit-exact regression values (any engine must give these bits)', () => {
    const bits = (v: number) => {
      const dv = new DataView(new ArrayBuffer(8));
      dv.setFloat64(0, v);
      return dv.getBigUint64(0).toString(16);
    };
    const xs = [-0.5, -1, -3.3, -10.25, -33.000001, -87.5, -0.0001];
    const got = xs.map((x) => bits(detExp(x)));
    // recorded from this implementation; a change here breaks every RCM-coded file
    expect(got).toMatchInlineSnapshot(`
      [
        "3fe368b2fc6f960a",
        "3fd78b56362cef38",
        "3fa2e259bb85be84",
        "3f02899a7a835446",
        "3cf4fb531c737275",
        "380b2caeeaab824a",
        "3fefff2e4b97d31d",
      ]
    `);
  });
});

describe('layout', () => {
  it('stream index <-> (t, y, x) is layer-major', () => {
    const l = tokenLayout({ gridW: 5, gridH: 3, tokensPerWindow: 4, levels: 9 });
    expect(l.total).toBe(60);
    let i = 0;
    for (let t = 0; t < 4; t++)
      for (let y = 0; y < 3; y++)
        for (let x = 0; x < 5; x++) {
          expect(streamIndex(l, t, y, x)).toBe(i);
          expect(tokenPosition(l, i)).toEqual({ t, y, x });
          i++;
        }
    expect(tokenValue(0, 9)).toBe(-1);
    expect(tokenValue(4, 9)).toBe(0);
    expect(tokenValue(8, 9)).toBe(1);
  });
});

describe('priors', () => {
  const layout = tokenLayout({ gridW: 6, gridH: 4, tokensPerWindow: 8, levels: 9 });
  const tokens = syntheticTokens(layout, 4);
  for (const [name, make] of [
    ['static', () => new StaticPrior(layout)],
    ['rcm', () => new RcmPrior(layout, fakeRcm(1, { D: 8, H: 12, L: 9, T: 8 }))],
  ] as const) {
    it(`${name}: tables are valid (>= 1, sum M) and strictly ordered`, () => {
      const p = make();
      for (let i = 0; i < layout.total; i++) {
        const f = p.freqs(i);
        let sum = 0;
        for (const v of f) {
          expect(v).toBeGreaterThanOrEqual(1);
          sum += v;
        }
        expect(sum).toBe(M);
        p.update(i, tokens[i]!);
      }
      expect(() => make().freqs(3)).toThrow(/order/);
    });
  }
  it('static prior adapts and halves', () => {
    const l = tokenLayout({ gridW: 40, gridH: 40, tokensPerWindow: 1, levels: 4 });
    const p = new StaticPrior(l);
    expect([...p.freqs(0)]).toEqual([8192, 8192, 8192, 8192]);
    for (let i = 0; i < 1000; i++) {
      p.freqs(i);
      p.update(i, 2);
    }
    const f = p.freqs(1000);
    expect(f[2]).toBeGreaterThan(32000);
    expect(f[0]).toBeGreaterThanOrEqual(1);
  });
  it('RCM equals a plain reference of docs/design.md bit for bit (odd D, H, L: every unrolled remainder)', () => {
    // The straightforward form of the documented forward pass; RcmPrior interleaves rows
    // for speed but must give the same frequencies and the same recurrent state.
    function reference(w: ReturnType<typeof fakeRcm>, l: ReturnType<typeof tokenLayout>, toks: Uint8Array): Int32Array[] {
      const { D, H, L } = w;
      const h = new Float64Array(l.windows * D);
      const out: Int32Array[] = [];
      for (let i = 0; i < toks.length; i++) {
        const t = Math.floor(i / l.windows), r = i - t * l.windows, y = Math.floor(r / l.gridW), x = r - y * l.gridW;
        const kl = x > 0 ? toks[i - 1]! : L, ku = y > 0 ? toks[i - l.gridW]! : L;
        const kul = x > 0 && y > 0 ? toks[i - l.gridW - 1]! : L, kur = y > 0 && x < l.gridW - 1 ? toks[i - l.gridW + 1]! : L;
        const a: number[] = [];
        for (let d = 0; d < D; d++) a.push(h[r * D + d]! + w.P[t * D + d]! + w.N_left[kl * D + d]! + w.N_up[ku * D + d]! + w.N_ul[kul * D + d]! + w.N_ur[kur * D + d]!);
        const u: number[] = [];
        for (let j = 0; j < H; j++) {
          let s = w.b1[j]!;
          for (let d = 0; d < D; d++) s += w.W1[j * D + d]! * a[d]!;
          u.push(s > 0 ? s : 0);
        }
        const lg: number[] = [];
        for (let k = 0; k < L; k++) {
          let s = w.b2[k]!;
          for (let j = 0; j < H; j++) s += w.W2[k * H + j]! * u[j]!;
          lg.push(s);
        }
        let best = 0;
        for (let k = 1; k < L; k++) if (lg[k]! > lg[best]!) best = k;
        const e = lg.map((v) => detExp(v - lg[best]!));
        let sum = 0;
        for (const v of e) sum += v;
        const f = Int32Array.from(e, (v) => 1 + Math.floor((v / sum) * (M - L)));
        f[best] += M - f.reduce((p, q) => p + q, 0);
        out.push(f);
        for (let d = 0; d < D; d++) h[r * D + d] = w.decay[d]! * h[r * D + d]! + w.E_self[(t * L + toks[i]!) * D + d]!;
      }
      return out;
    }
    for (const dims of [{ D: 7, H: 13, L: 5, T: 4 }, { D: 16, H: 32, L: 9, T: 4 }, { D: 3, H: 2, L: 2, T: 3 }]) {
      const l = tokenLayout({ gridW: 5, gridH: 4, tokensPerWindow: dims.T, levels: dims.L });
      const w = fakeRcm(17 + dims.H, dims);
      const toks = syntheticTokens(l, 9);
      const ref = reference(w, l, toks);
      const p = new RcmPrior(l, w);
      for (let i = 0; i < toks.length; i++) {
        expect([...p.freqs(i)], `${JSON.stringify(dims)} token ${i}`).toEqual([...ref[i]!]);
        p.update(i, toks[i]!);
      }
    }
  });
  it('an RCM covering fewer layers hands the later layers to the static prior', () => {
    const layout = tokenLayout({ gridW: 5, gridH: 4, tokensPerWindow: 6, levels: 9 });
    const toks = syntheticTokens(layout, 3);
    const w = fakeRcm(9, { D: 4, H: 6, L: 9, T: 2 });
    const hybrid = new RcmPrior(layout, w);
    // References: the same RCM on a 2-layer stream (same stream indices for t < 2), and the
    // static prior fed every token.
    const rcmOnly = new RcmPrior(tokenLayout({ gridW: 5, gridH: 4, tokensPerWindow: 2, levels: 9 }), w);
    const plain = new StaticPrior(layout);
    const rcmEnd = 2 * layout.windows;
    for (let i = 0; i < layout.total; i++) {
      const want = Array.from(i < rcmEnd ? rcmOnly.freqs(i) : plain.freqs(i));
      expect(Array.from(hybrid.freqs(i)), `token ${i}`).toEqual(want);
      hybrid.update(i, toks[i]!);
      if (i < rcmEnd) rcmOnly.update(i, toks[i]!);
      plain.update(i, toks[i]!);
    }
  });
  it('2.6 shared late table: the layers past the RCM learn one table together, so a late layer starts from what the earlier ones taught', () => {
    const layout = tokenLayout({ gridW: 5, gridH: 4, tokensPerWindow: 6, levels: 9 });
    const toks = syntheticTokens(layout, 3);
    const w = fakeRcm(9, { D: 4, H: 6, L: 9, T: 2 });
    const shared = new RcmPrior(layout, w, true);
    const perLayer = new RcmPrior(layout, w);
    // reference for t >= 2: one adaptive table fed the late tokens in order (a 1-layer layout
    // whose single layer is every late layer in turn)
    const one = new StaticPrior(tokenLayout({ gridW: 5 * 4, gridH: 4, tokensPerWindow: 1, levels: 9 }));
    const rcmEnd = 2 * layout.windows;
    let differs = 0;
    for (let i = 0; i < layout.total; i++) {
      const f = Array.from(shared.freqs(i));
      const g = Array.from(perLayer.freqs(i));
      if (i < rcmEnd) expect(f, `token ${i}`).toEqual(g);
      else {
        const j = (i - rcmEnd) % one.layout.total;
        expect(f, `token ${i}`).toEqual(Array.from(one.freqs(j)));
        one.update(j, toks[i]!);
        if (f.join() !== g.join()) differs++;
      }
      shared.update(i, toks[i]!);
      perLayer.update(i, toks[i]!);
    }
    // layer 2 starts uniform either way; layers 3..5 start from layer 2's counts
    expect(differs).toBeGreaterThan(3 * layout.windows - 3);
    // the stream decoder follows the Index: coded with the shared table, decoded with it
    const payload = encodeChunk(createPrior(layout, w, { sharedLate: true }), toks, 0, layout.total);
    const out = new Uint8Array(layout.total);
    decodeChunk(createPrior(layout, w, { sharedLate: true }), payload, out, 0, layout.total);
    expect(out).toEqual(toks);
    expect(payload).not.toEqual(encodeChunk(createPrior(layout, w), toks, 0, layout.total));
  });
  it('2.8 late context tables: each late token is coded with the table of its neighbourhood context, fed in order', () => {
    const layout = tokenLayout({ gridW: 5, gridH: 4, tokensPerWindow: 12, levels: 9 });
    const toks = syntheticTokens(layout, 4);
    const w = fakeRcm(9, { D: 4, H: 6, L: 9, T: 2 });
    const ctx = new RcmPrior(layout, w, true, true);
    const shared = new RcmPrior(layout, w, true);
    // reference: ADAPTIVE_CONTEXTS one-table priors, the context's fed its tokens in order
    const refs = Array.from({ length: ADAPTIVE_CONTEXTS }, () => new StaticPrior(tokenLayout({ gridW: layout.total, gridH: 1, tokensPerWindow: 1, levels: 9 })));
    const fed = new Array(ADAPTIVE_CONTEXTS).fill(0);
    const off = new Uint8Array(layout.total);
    const used = new Set<number>();
    const rcmEnd = 2 * layout.windows;
    for (let i = 0; i < layout.total; i++) {
      const f = Array.from(ctx.freqs(i));
      if (i < rcmEnd) expect(f, `token ${i}`).toEqual(Array.from(shared.freqs(i)));
      else {
        const c = neighbourhoodContext(off, i, layout.windows, layout.gridW);
        used.add(c);
        expect(f, `token ${i}`).toEqual(Array.from(refs[c]!.freqs(fed[c])));
        refs[c]!.update(fed[c]++, toks[i]!);
      }
      ctx.update(i, toks[i]!);
      shared.update(i, toks[i]!);
      off[i] = toks[i] !== 4 ? 1 : 0;
    }
    expect(used.size).toBeGreaterThan(4);
    // the context itself: 4 * min(2, off-centre among left, up, up-left, up-right) + min(3, off-centre among the window's last 8)
    const o = new Uint8Array(3 * 6);
    o[6 + 1] = o[6 + 3] = 1; // layer 1: windows 1 and 3 of a 3x2 grid
    o[0 * 6 + 4] = o[1 * 6 + 4] = 1; // window 4 in layers 0 and 1
    expect(neighbourhoodContext(o, 2 * 6 + 4, 6, 3)).toBe(0 * 4 + 2);
    o[2 * 6 + 0] = o[2 * 6 + 1] = o[2 * 6 + 2] = o[2 * 6 + 3] = 1;
    expect(neighbourhoodContext(o, 2 * 6 + 4, 6, 3)).toBe(2 * 4 + 2);
    expect(neighbourhoodContext(o, 2 * 6 + 5, 6, 3)).toBe(2 * 4 + 0);
    // coded and decoded with them through a stream, which says so in its Index (prior 3, format 2.8)
    const st = syntheticStream({ width: 160, height: 128, T: 12, rcm: w, sharedLate: true, lateContexts: true, coder: 'chained', framing: 'raw', layersPerChunk: 3 });
    const info = readHeader(st.bytes);
    expect([info.header.lateContexts, info.header.sharedLate, info.header.version.minor]).toEqual([true, true, 8]);
    const d = decodeMrt(st.bytes, { rcm: w });
    expect(d.complete).toBe(true);
    expect(d.tokens).toEqual(st.tokens);
    expect(() => new RcmPrior(layout, w, false, true)).toThrow(/shared late table/);
  });
  describe('the coarse-trit RCM (format 2.10, Index prior RCM_COARSE)', () => {
    const w = { ...fakeRcm(31, { D: 6, H: 8, L: 9, T: 8 }), coarse: fakeRcm(32, { D: 5, H: 7, L: 3, T: 5 }) };
    for (const K of [3, 5, 8]) {
      it(`codes the coarse pass of ${K} coarse layers (the RCM covers 5) and round-trips`, () => {
        const st = syntheticStream({ width: 160, height: 128, T: 12, rcm: w, sharedLate: true, lateContexts: true, coarseRcm: true, coarseLayers: K, coder: 'chained', framing: 'raw', layersPerChunk: 3 });
        const info = readHeader(st.bytes);
        expect([info.header.coarseRcm, info.header.lateContexts, info.header.version.minor]).toEqual([true, true, 10]);
        expect(describeInfo(info).coarseRcm).toBe(true);
        const d = decodeMrt(st.bytes, { rcm: w });
        expect(d.complete).toBe(true);
        expect(d.tokens).toEqual(st.tokens);
        // the same tokens with the coarse pass on the neighbourhood tables (2.8): other bytes, same tokens
        const old = syntheticStream({ width: 160, height: 128, T: 12, rcm: w, sharedLate: true, lateContexts: true, coarseLayers: K, coder: 'chained', framing: 'raw', layersPerChunk: 3 });
        expect(readHeader(old.bytes).header.coarseRcm).toBe(false);
        expect(old.chunks[0]!.payload).not.toEqual(st.chunks[0]!.payload);
        expect(decodeMrt(old.bytes, { rcm: w }).tokens).toEqual(st.tokens);
      });
    }
    it('gives the coarse trits the RCM\'s frequencies in its layers, the neighbourhood tables past them', () => {
      const layout = tokenLayout({ gridW: 5, gridH: 4, tokensPerWindow: 12, levels: 9, coarseLayers: 8 });
      const cl = tokenLayout({ gridW: 5, gridH: 4, tokensPerWindow: 8, levels: 3 });
      const p = createPrior(layout, w, { sharedLate: true, lateContexts: true, coarseRcm: true });
      const rcm = new RcmPrior(cl, w.coarse, true, true);
      const tables = new StaticPrior(cl, 0, true);
      // past the coarse RCM: the tables, having seen every coarse trit before
      const past = new StaticPrior(cl, 5, true);
      const tokens = syntheticTokens(layout, 5, layout.total);
      let rcmDiffers = 0;
      for (let j = 0; j < cl.total; j++) {
        const f = Array.from(p.freqs(j));
        const fr = Array.from(rcm.freqs(j));
        const ft = Array.from(tables.freqs(j));
        if (j < 5 * cl.windows) {
          expect(f).toEqual(fr);
          if (f.join() !== ft.join()) rcmDiffers++;
        } else {
          expect(f).toEqual(Array.from(past.freqs(j)));
        }
        const c = Math.floor(tokens[j]! / 3);
        p.update(j, c);
        rcm.update(j, c);
        tables.update(j, c);
        past.update(j, c);
      }
      expect(rcmDiffers).toBeGreaterThan(5 * cl.windows * 0.9);
    });
    it('refuses a model without a coarse RCM, and a coarse RCM outside a coarse-first stream', () => {
      const st = syntheticStream({ width: 96, height: 64, T: 12, rcm: w, sharedLate: true, lateContexts: true, coarseRcm: true, coarseLayers: 2, framing: 'raw' });
      const { coarse: _, ...plain } = w;
      const d = decodeMrt(st.bytes, { rcm: plain });
      expect(d.error?.code).toBe('model');
      expect(d.error?.message).toMatch(/coarse RCM/);
      const layout = tokenLayout({ gridW: 3, gridH: 2, tokensPerWindow: 12, levels: 9, coarseLayers: 2 });
      expect(() => createPrior(layout, plain, { sharedLate: true, lateContexts: true, coarseRcm: true })).toThrow(/no coarse RCM/);
      expect(() => createPrior(tokenLayout({ gridW: 3, gridH: 2, tokensPerWindow: 12, levels: 9 }), w, { sharedLate: true, lateContexts: true, coarseRcm: true })).toThrow(/coarse-first/);
      expect(() => syntheticStream({ width: 96, height: 64, T: 12, rcm: w, sharedLate: true, lateContexts: true, coarseRcm: true, framing: 'raw' })).toThrow();
    });
    it('survives rcm.json serialisation, and a coarse RCM must have 3 levels', () => {
      expect(parseRcm(serializeRcm(w))).toEqual(w);
      const bad = JSON.parse(serializeRcm({ ...w, coarse: fakeRcm(33, { D: 2, H: 3, L: 4, T: 2 }) }));
      expect(() => parseRcm(bad)).toThrow(/coarse.*L=4/);
    });
  });
  it('RCM weights survive rcm.json serialisation exactly', () => {
    const w = fakeRcm(2, { D: 4, H: 6, L: 5, T: 3 });
    const w2 = parseRcm(serializeRcm(w));
    expect(w2).toEqual(w);
    expect(() => parseRcm({ format: 'nope' })).toThrow();
    const bad = JSON.parse(serializeRcm(w));
    bad.tensors.W1.shape = [6, 5];
    expect(() => parseRcm(bad)).toThrow(/shape/);
  });
});

describe('chunk coding round trip', () => {
  it('random token streams, random layouts and chunkings, both priors', () => {
    const r = rng(77);
    for (let rep = 0; rep < 40; rep++) {
      const L = 2 + Math.floor(r() * 15);
      const T = 1 + Math.floor(r() * 6);
      const layout = tokenLayout({ gridW: 1 + Math.floor(r() * 7), gridH: 1 + Math.floor(r() * 5), tokensPerWindow: T, levels: L });
      const tokens = new Uint8Array(layout.total);
      const skew = r();
      for (let i = 0; i < tokens.length; i++) tokens[i] = r() < skew ? Math.floor(r() * L) : Math.floor(L / 2);
      // Every fourth RCM covers fewer layers than the stream (the static prior codes the rest).
      const rcmT = rep % 4 === 3 ? Math.max(1, T - 2) : T;
      const rcm = rep % 2 ? fakeRcm(rep, { D: 1 + (rep % 5), H: 1 + (rep % 7), L, T: rcmT }) : null;
      const enc = createPrior(layout, rcm);
      const cuts = [0];
      while (cuts.at(-1)! < layout.total) cuts.push(Math.min(layout.total, cuts.at(-1)! + 1 + Math.floor(r() * 20)));
      const payloads = [];
      for (let c = 1; c < cuts.length; c++) payloads.push(encodeChunk(enc, tokens, cuts[c - 1]!, cuts[c]!));
      const dec = createPrior(layout, rcm);
      const out = new Uint8Array(layout.total);
      for (let c = 1; c < cuts.length; c++) decodeChunk(dec, payloads[c - 1]!, out, cuts[c - 1]!, cuts[c]!);
      expect(out).toEqual(tokens);
    }
  });
  it('extreme distributions (all one symbol, uniform) round trip', () => {
    const layout = tokenLayout({ gridW: 30, gridH: 20, tokensPerWindow: 4, levels: 9 });
    for (const gen of [() => 0, () => 8, (i: number) => (i * 7919) % 9]) {
      const tokens = Uint8Array.from({ length: layout.total }, (_, i) => gen(i));
      const p = encodeChunk(createPrior(layout, null), tokens, 0, layout.total);
      const out = new Uint8Array(layout.total);
      decodeChunk(createPrior(layout, null), p, out, 0, layout.total);
      expect(out).toEqual(tokens);
    }
  });
  it('a corrupted payload gives a coder error or different tokens, never a crash', () => {
    const layout = tokenLayout({ gridW: 8, gridH: 8, tokensPerWindow: 2, levels: 9 });
    const tokens = syntheticTokens(layout, 3);
    const p = encodeChunk(createPrior(layout, null), tokens, 0, layout.total);
    let errors = 0;
    for (let i = 0; i < p.length * 8; i++) {
      const q = p.slice();
      q[i >> 3]! ^= 1 << (i & 7);
      try {
        decodeChunk(createPrior(layout, null), q, new Uint8Array(layout.total), 0, layout.total);
      } catch (e) {
        expect((e as Error).name).toBe('MrtFormatError');
        errors++;
      }
    }
    expect(errors).toBeGreaterThan(p.length * 4);
  });
});

describe('ModelledStream (the prior run once, prefixes coded from it)', () => {
  const layout = tokenLayout({ gridW: 12, gridH: 8, tokensPerWindow: 10, levels: 9 });
  const tokens = syntheticTokens(layout, 11);
  const rcm = fakeRcm(5, { D: 3, H: 4, L: 9, T: 6 });
  const per = layout.gridW * layout.gridH;
  const layers = (n: number, each: number) => Array.from({ length: n / each }, (_, k) => ({ tokenStart: k * each * per, tokenEnd: (k + 1) * each * per }));
  it('codes any chunking of what it modelled as encodeChunks does with a fresh prior', () => {
    const m = new ModelledStream(createPrior(layout, rcm), tokens);
    m.extend(4 * per);
    m.extend(6 * per); // in steps: the same as at once
    expect(m.end).toBe(6 * per);
    for (const ranges of [layers(6, 1), layers(6, 2), layers(4, 4), layers(6, 6)]) {
      for (const coder of ['chained', 'restart'] as const) {
        expect(m.code(ranges, coder)).toEqual(encodeChunks(createPrior(layout, rcm), tokens, ranges, coder));
      }
    }
    expect(() => m.code(layers(8, 8), 'chained')).toThrow(/not in the modelled/);
  });
  it("extend's information content is within a few bytes of what rANS spends", () => {
    const m = new ModelledStream(createPrior(layout, null), tokens);
    const bits = m.extend(layout.total);
    const [payload] = m.code([{ tokenStart: 0, tokenEnd: layout.total }], 'chained');
    expect(Math.abs(payload!.length - bits / 8)).toBeLessThan(6);
  });
});

describe('StreamDecoder', () => {
  const rcm = fakeRcm(5, { D: 8, H: 16, L: 9, T: 16 });
  for (const prior of ['static', 'rcm'] as const) {
    it(`${prior}: decodes a stream pushed in random pieces, chunk events in order`, () => {
      const s = syntheticStream({ width: 200, height: 130, T: 16, rcm: prior === 'rcm' ? rcm : null, finalBytes: 40, placeholderBytes: 30 });
      const d = new StreamDecoder({ rcm });
      const r = rng(3);
      const ev: StreamEvent[] = [];
      for (let i = 0; i < s.bytes.length; ) {
        const n = 1 + Math.floor(r() * 100);
        ev.push(...d.push(s.bytes.subarray(i, i + n)));
        i += n;
      }
      ev.push(...d.end());
      expect(ev.slice(0, 2).map((e) => e.type)).toEqual(['placeholder', 'header']);
      expect(ev[0]).toMatchObject({ type: 'placeholder', width: 200, height: 130, placeholder: { mime: 'image/webp', bytes: s.header.placeholder!.bytes } });
      const chunks = ev.filter((e) => e.type === 'chunk');
      expect(chunks.map((c: any) => c.index)).toEqual(s.chunks.map((_, k) => k));
      expect(ev.at(-1)).toMatchObject({ type: 'end', complete: true, known: s.layout.total });
      expect(d.tokens).toEqual(s.tokens);
    });
  }
  it('every byte offset of a small RCM stream: known tokens are the true ones', () => {
    const s = syntheticStream({ width: 128, height: 96, T: 8, rcm: fakeRcm(6, { D: 6, H: 8, L: 9, T: 8 }) });
    const w = fakeRcm(6, { D: 6, H: 8, L: 9, T: 8 });
    const info = readHeader(s.bytes);
    for (let cut = 0; cut <= s.bytes.length; cut++) {
      const r = decodeMrt(s.bytes.subarray(0, cut), { rcm: w });
      const whole = cut < info.headerEnd ? 0 : info.chunkEnds.filter((e) => e <= cut).length;
      expect(r.chunks).toBe(whole);
      expect(r.known).toBe(whole ? s.chunks[whole - 1]!.tokenEnd : 0);
      for (let i = 0; i < r.known; i++) if (r.tokens[i] !== s.tokens[i]) expect.unreachable(`token ${i} at cut ${cut}`);
      const onBoundary = cut === info.headerEnd || info.chunkEnds.includes(cut);
      expect(r.error?.code).toBe(onBoundary ? undefined : 'truncated');
    }
  });
  it('raw chained stream (what the encoder writes), every byte offset: a chunk cut short decodes its first tokens, exactly; pushed byte by byte the same', () => {
    const w = fakeRcm(6, { D: 6, H: 8, L: 9, T: 8 });
    const s = syntheticStream({ width: 128, height: 96, T: 8, rcm: w, coder: 'chained', framing: 'raw', layersPerChunk: 2 });
    const info = readHeader(s.bytes);
    const inc = new StreamDecoder({ rcm: w });
    let last = 0;
    let gained = 0;
    for (let cut = 0; cut <= s.bytes.length; cut++) {
      const r = decodeMrt(s.bytes.subarray(0, cut), { rcm: w, ended: false });
      const whole = cut < info.headerEnd ? 0 : info.chunkEnds.filter((e) => e <= cut).length;
      const verified = whole ? s.chunks[whole - 1]!.tokenEnd : 0;
      expect(r.chunks).toBe(whole);
      expect(r.verified).toBe(verified);
      expect(r.known).toBeGreaterThanOrEqual(verified);
      if (r.known > verified) gained++;
      expect(r.known).toBeLessThanOrEqual(whole < s.chunks.length ? s.chunks[whole]!.tokenEnd : verified);
      expect(r.error).toBeUndefined();
      for (let i = 0; i < r.known; i++) if (r.tokens[i] !== s.tokens[i]) expect.unreachable(`token ${i} at cut ${cut}`);
      if (cut > 0) inc.push(s.bytes.subarray(cut - 1, cut));
      expect(inc.known).toBe(r.known); // incremental = from scratch
      expect(r.known).toBeGreaterThanOrEqual(last);
      last = r.known;
    }
    expect(last).toBe(s.layout.total);
    expect(gained).toBeGreaterThan(0);
    // a chunk whose payload is in but not its checksum: all its tokens decode
    for (let k = 0; k < s.chunks.length; k++) expect(decodeMrt(s.bytes.subarray(0, info.chunkEnds[k]! - 4), { rcm: w, ended: false }).known).toBe(s.chunks[k]!.tokenEnd);
    // a prefix cut inside a chunk, with the stream declared ended: truncated, its tokens kept
    const mid = info.chunkEnds[1]! + 20;
    const t = decodeMrt(s.bytes.subarray(0, mid), { rcm: w });
    expect(t.error?.code).toBe('truncated');
    expect(t.known).toBeGreaterThan(t.verified);
  });
  it('a corrupt byte inside a raw chunk: its provisional tokens are withdrawn when its checksum fails', () => {
    const w = fakeRcm(6, { D: 6, H: 8, L: 9, T: 8 });
    const s = syntheticStream({ width: 128, height: 96, T: 8, rcm: w, coder: 'chained', framing: 'raw', layersPerChunk: 2 });
    const info = readHeader(s.bytes);
    const b = s.bytes.slice();
    const at = info.chunkEnds[1]! + Math.floor(s.chunks[2]!.payload.length / 2); // inside chunk 2's payload
    b[at] ^= 0x40;
    const d = new StreamDecoder({ rcm: w });
    const events = [...d.push(b.subarray(0, at + 1))];
    expect(events.some((e) => e.type === 'partial')).toBe(true);
    expect(d.known).toBeGreaterThan(s.chunks[1]!.tokenEnd);
    events.push(...d.push(b.subarray(at + 1)));
    const err = events.find((e) => e.type === 'error');
    expect(err?.type === 'error' && ['crc', 'coder'].includes(err.error.code)).toBe(true);
    expect(d.known).toBe(s.chunks[1]!.tokenEnd);
    expect(d.verified).toBe(s.chunks[1]!.tokenEnd);
  });
  it('(coarse-first) withdrawn refinement trits: the tokens they made exact read 3c + 1 again', () => {
    const w = { ...fakeRcm(6, { D: 6, H: 8, L: 9, T: 8 }), coarse: fakeRcm(7, { D: 4, H: 5, L: 3, T: 4 }) };
    // 4 coarse layers, then refinement: chunk 2 holds refinement trits of layers 0-1
    const s = syntheticStream({ width: 128, height: 96, T: 8, rcm: w, coarseLayers: 4, sharedLate: true, lateContexts: true, coarseRcm: true, coder: 'chained', framing: 'raw', layersPerChunk: 2 });
    const info = readHeader(s.bytes);
    const b = s.bytes.slice();
    const at = info.chunkEnds[1]! + Math.floor(s.chunks[2]!.payload.length / 2);
    b[at] ^= 0x40;
    const d = new StreamDecoder({ rcm: w });
    d.push(b.subarray(0, at + 1));
    const layout = d.layout!;
    const refined = tokenProgress(layout, d.known).exact;
    expect(refined).toBeGreaterThan(0); // provisional refinement trits made tokens exact
    const events = d.push(b.subarray(at + 1));
    expect(events.some((e) => e.type === 'error')).toBe(true);
    expect(d.known).toBe(s.chunks[1]!.tokenEnd);
    const p = tokenProgress(layout, d.known);
    expect([p.exact, p.coarse]).toEqual([0, 4 * layout.windows]);
    for (let i = 0; i < p.coarse; i++) expect(d.tokens[i]).toBe(coarseOnlyToken(Math.floor(s.tokens[i]! / 3)));
  });
  it('an RCM stream without weights, or with weights of another shape, is a model error', () => {
    const s = syntheticStream({ width: 64, height: 64, T: 16, rcm });
    expect(decodeMrt(s.bytes).error?.code).toBe('model');
    expect(decodeMrt(s.bytes, { rcm: fakeRcm(1, { D: 2, H: 2, L: 9, T: 32 }) }).error?.code).toBe('model');
    expect(decodeMrt(s.bytes, { rcm: fakeRcm(1, { D: 2, H: 2, L: 7, T: 16 }) }).error?.code).toBe('model');
    expect(decodeMrt(s.bytes, { rcm, modelHash: new Uint8Array(16) }).error?.code).toBe('model');
    expect(decodeMrt(s.bytes, { rcm, modelHash: s.header.modelHash }).error).toBeUndefined();
  });
  it('wrong RCM weights of the right shape never deliver a chunk silently... (detected by the coder end state)', () => {
    const s = syntheticStream({ width: 256, height: 256, T: 16, rcm });
    const r = decodeMrt(s.bytes, { rcm: fakeRcm(99, { D: 8, H: 16, L: 9, T: 16 }) });
    expect(r.error?.code).toBe('coder');
    expect(r.chunks).toBe(0);
  });
});

describe('regenerate', () => {
  const layout = tokenLayout({ gridW: 6, gridH: 5, tokensPerWindow: 6, levels: 9 });
  const tokens = syntheticTokens(layout, 8);
  const rcm = fakeRcm(8, { D: 6, H: 10, L: 9, T: 6 });
  it('without RCM: received tokens only, zeros with mask 0 elsewhere', () => {
    const known = 2 * layout.windows + 3;
    const { z, mask } = regenerate(layout, null, tokens, known);
    for (let i = 0; i < layout.total; i++) {
      expect(mask[i]).toBe(i < known ? 1 : 0);
      expect(z[i]).toBeCloseTo(i < known ? tokenValue(tokens[i]!, 9) : 0, 6);
    }
    expect(tokensToZ(layout, tokens, known).z).toEqual(z);
  });
  it('with RCM: everything known, regenerated values are expectations in [-1, 1]', () => {
    const known = layout.windows;
    const { z, mask } = regenerate(layout, rcm, tokens, known);
    for (let i = 0; i < layout.total; i++) {
      expect(mask[i]).toBe(1);
      expect(Math.abs(z[i]!)).toBeLessThanOrEqual(1);
    }
    for (let i = 0; i < known; i++) expect(z[i]).toBeCloseTo(tokenValue(tokens[i]!, 9), 6);
    // the first regenerated token's expectation agrees with the coding prior's table
    const p = new RcmPrior(layout, rcm);
    for (let i = 0; i < known; i++) {
      p.freqs(i);
      p.update(i, tokens[i]!);
    }
    const f = p.freqs(known);
    let e = 0;
    for (let k = 0; k < 9; k++) e += (f[k]! / M) * tokenValue(k, 9);
    expect(z[known]).toBeCloseTo(e, 2);
  });
  it('sampled: levels drawn from the RCM, the same for the same seed, another for another seed; temperature sharpens', () => {
    const known = layout.windows + 2;
    const levels = new Set(Array.from({ length: 9 }, (_, k) => Math.fround(tokenValue(k, 9))));
    const a = regenerate(layout, rcm, tokens, known, 1, { temperature: 1, seed: 7 });
    expect(regenerate(layout, rcm, tokens, known, 1, { temperature: 1, seed: 7 }).z).toEqual(a.z);
    expect(regenerate(layout, rcm, tokens, known, 1, { temperature: 1, seed: 8 }).z).not.toEqual(a.z);
    for (let i = 0; i < known; i++) expect(a.z[i]).toBeCloseTo(tokenValue(tokens[i]!, 9), 6);
    for (let i = known; i < layout.total; i++) {
      expect(levels.has(a.z[i]!)).toBe(true);
      expect(a.mask[i]).toBe(1);
    }
    // the first drawn token follows the coding prior's table: over many seeds, its frequencies
    const p = new RcmPrior(layout, rcm);
    for (let i = 0; i < known; i++) {
      p.freqs(i);
      p.update(i, tokens[i]!);
    }
    const f = Array.from(p.freqs(known), (x) => x / M);
    const seen = new Array(9).fill(0);
    const cold = new Array(9).fill(0);
    const n = 2000;
    for (let s = 0; s < n; s++) {
      const k = (v: number) => [...Array(9).keys()].find((j) => Math.fround(tokenValue(j, 9)) === v)!;
      seen[k(regenerate(layout, rcm, tokens, known, 1, { temperature: 1, seed: s }).z[known]!)]++;
      cold[k(regenerate(layout, rcm, tokens, known, 1, { temperature: 0.25, seed: s }).z[known]!)]++;
    }
    for (let k = 0; k < 9; k++) expect(Math.abs(seen[k] / n - f[k]!)).toBeLessThan(0.04);
    const top = f.indexOf(Math.max(...f));
    expect(cold[top] / n).toBeGreaterThan(seen[top] / n);
    expect(() => regenerate(layout, rcm, tokens, known, 1, { temperature: 0, seed: 1 })).toThrow(/temperature/);
    expect(regenerationSeed(Uint8Array.of(1, 2, 3, 4, 5))).toBe(0x01020304);
    expect(regenerationSeed(undefined)).toBe(0);
  });
});

describe('coarse-first order (2.8)', () => {
  const w = fakeRcm(8, { D: 6, H: 8, L: 9, T: 6 });
  it('progress: coarse trits, then their refinement, then whole layers', () => {
    const l = tokenLayout({ gridW: 3, gridH: 2, tokensPerWindow: 5, levels: 9, coarseLayers: 2 });
    expect(l.streamLength).toBe(6 * 7);
    expect(tokenProgress(l, 0)).toEqual({ exact: 0, coarse: 0 });
    expect(tokenProgress(l, 7)).toEqual({ exact: 0, coarse: 7 });
    expect(tokenProgress(l, 12)).toEqual({ exact: 0, coarse: 12 });
    expect(tokenProgress(l, 15)).toEqual({ exact: 3, coarse: 12 });
    expect(tokenProgress(l, 24)).toEqual({ exact: 12, coarse: 12 });
    expect(tokenProgress(l, 30)).toEqual({ exact: 18, coarse: 18 });
    expect(tokenProgress(l, 42)).toEqual({ exact: 30, coarse: 30 });
    const tokens = Uint8Array.from({ length: 30 }, (_, i) => (i * 5) % 9);
    const sym = streamSymbols(l, tokens);
    expect(sym.length).toBe(42);
    for (let i = 0; i < 12; i++) expect(sym[i]! * 3 + sym[12 + i]!).toBe(tokens[i]);
    expect(Array.from(sym.subarray(24))).toEqual(Array.from(tokens.subarray(12)));
    expect(() => tokenLayout({ gridW: 1, gridH: 1, tokensPerWindow: 4, levels: 7, coarseLayers: 1 })).toThrow(/9 levels/);
    expect(() => tokenLayout({ gridW: 1, gridH: 1, tokensPerWindow: 4, levels: 9, coarseLayers: 5 })).toThrow(/coarseLayers/);
  });
  for (const prior of ['static', 'rcm'] as const) {
    it(`${prior}: coarse trits + refinements cost about what the tokens cost layer-major`, () => {
      const rcm = prior === 'rcm' ? w : null;
      const o = { width: 960, height: 640, T: 6, rcm, coder: 'chained' as const, framing: 'raw' as const, layersPerChunk: 2 };
      const pay = (x: ReturnType<typeof syntheticStream>) => x.chunks.reduce((a, c) => a + c.payload.length, 0);
      const ratio = pay(syntheticStream({ ...o, coarseLayers: 3 })) / pay(syntheticStream(o));
      // what is left is the coarse tables' learning and the rescaling of the refinement frequencies
      expect(ratio).toBeGreaterThan(0.98);
      expect(ratio).toBeLessThan(1.03);
    });
    it(`${prior}: every byte offset of a raw chained stream: exact tokens are the true ones, coarse ones in the true bin`, () => {
      const rcm = prior === 'rcm' ? w : null;
      const s = syntheticStream({ width: 160, height: 96, T: 6, rcm, coder: 'chained', framing: 'raw', layersPerChunk: 2, coarseLayers: 3 });
      const info = readHeader(s.bytes);
      expect(info.header.version.minor).toBe(8);
      expect(info.header.layout).toMatchObject({ order: 'coarse-first', coarseLayers: 3 });
      expect(info.header.totalTokens).toBe(s.layout.streamLength);
      const inc = new StreamDecoder({ rcm: w });
      let coarseSeen = 0;
      for (let cut = 0; cut <= s.bytes.length; cut++) {
        const r = decodeMrt(s.bytes.subarray(0, cut), { rcm: w, ended: false });
        expect(r.error).toBeUndefined();
        const p = tokenProgress(s.layout, r.known);
        for (let i = 0; i < p.exact; i++) if (r.tokens[i] !== s.tokens[i]) expect.unreachable(`token ${i} at cut ${cut}`);
        for (let i = p.exact; i < p.coarse; i++) if (Math.floor(r.tokens[i]! / 3) !== Math.floor(s.tokens[i]! / 3)) expect.unreachable(`coarse ${i} at cut ${cut}`);
        if (p.coarse > p.exact) coarseSeen++;
        if (cut > 0) inc.push(s.bytes.subarray(cut - 1, cut));
        expect(inc.known).toBe(r.known);
        expect(inc.progress).toEqual(p);
      }
      expect(coarseSeen).toBeGreaterThan(0);
      expect(inc.tokens).toEqual(s.tokens);
      expect(inc.known).toBe(s.layout.streamLength);
    });
  }
  it('z / mask: coarse-only tokens take (c - 1) * COARSE_LEVEL_OFFSET levels; regeneration keeps them in their bin', () => {
    const l = tokenLayout({ gridW: 4, gridH: 3, tokensPerWindow: 6, levels: 9, coarseLayers: 2 });
    const tokens = Uint8Array.from({ length: l.total }, (_, i) => (i * 7 + 2) % 9);
    // as a decoder holds them after the coarse pass and 5 refinements: 3c + 1 past the refined ones
    const held = tokens.slice();
    for (let i = 5; i < 24; i++) held[i] = Math.floor(tokens[i]! / 3) * 3 + 1;
    const known = 24 + 5;
    const { z, mask } = tokensToZ(l, held, known);
    for (let i = 0; i < 5; i++) expect(z[i]).toBeCloseTo(tokenValue(tokens[i]!, 9), 6);
    for (let i = 5; i < 24; i++) expect(z[i]).toBeCloseTo(((Math.floor(tokens[i]! / 3) - 1) * COARSE_LEVEL_OFFSET) / 4, 6);
    expect(Array.from(mask.subarray(0, 24)).every((m) => m === 1)).toBe(true);
    expect(Array.from(mask.subarray(24)).every((m) => m === 0)).toBe(true);
    const rg = regenerate(l, fakeRcm(9, { D: 4, H: 5, L: 9, T: 6 }), held, known);
    for (let i = 5; i < 24; i++) {
      const c = Math.floor(tokens[i]! / 3);
      expect(rg.z[i]!).toBeGreaterThanOrEqual(tokenValue(3 * c, 9) - 1e-6);
      expect(rg.z[i]!).toBeLessThanOrEqual(tokenValue(3 * c + 2, 9) + 1e-6);
    }
    expect(Array.from(rg.mask).every((m) => m === 1)).toBe(true);
    // a model trained to tell coarse tokens apart (manifest coarseMask): their mask, and only theirs, takes it
    const cm = tokensToZ(l, held, known, 0.5);
    expect(cm.z).toEqual(z);
    expect(Array.from(cm.mask.subarray(0, 5))).toEqual([1, 1, 1, 1, 1]);
    expect(Array.from(cm.mask.subarray(5, 24)).every((m) => m === 0.5)).toBe(true);
    expect(Array.from(cm.mask.subarray(24)).every((m) => m === 0)).toBe(true);
    const rgm = regenerate(l, fakeRcm(9, { D: 4, H: 5, L: 9, T: 6 }), held, known, 0.5);
    expect(rgm.z).toEqual(rg.z);
    expect(Array.from(rgm.mask.subarray(0, 5))).toEqual([1, 1, 1, 1, 1]);
    expect(Array.from(rgm.mask.subarray(5, 24)).every((m) => m === 0.5)).toBe(true);
    // the rest is regenerated in full: as if known
    expect(Array.from(rgm.mask.subarray(24)).every((m) => m === 1)).toBe(true);
  });

  it('manifest coarseMask: 1 when absent, a number in (0, 1] otherwise', () => {
    const m = { id: 'x', files: {}, layout: { window: 32, baseFactor: 16, tokens: 8, levels: 9 }, modelHash: '00' };
    expect(coarseMaskOf(m)).toBe(1);
    expect(coarseMaskOf({ ...m, coarseMask: 0.5 })).toBe(0.5);
    for (const bad of [0, -1, 1.5, Number.NaN, '0.5' as unknown as number]) expect(() => coarseMaskOf({ ...m, coarseMask: bad })).toThrow(/coarseMask/);
  });
});
