// The lean runtime's WASM kernels (src/model/lean/kernels.c) against naive TypeScript
// references, on random inputs: the decoder's layer shapes, odd sizes, groups, strides,
// padding, bias/no bias, relu; the element-wise kernels; and that the committed .wasm is
// what scripts/build-wasm.sh builds (needs clang + lld: the test fails if they are missing).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { instantiateKernels, type Kernels } from '../../src/model/lean/kernels.ts';

const ROOT = join(import.meta.dirname, '../..');
let k: Kernels;
beforeAll(async () => {
  k = await instantiateKernels(new Uint8Array(readFileSync(join(ROOT, 'src/model/lean/kernels.wasm'))));
});

// deterministic random numbers in [-1, 1)
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return (s / 2 ** 32) * 2 - 1;
  };
}
const randn = (n: number, r: () => number) => Float32Array.from({ length: n }, r);

// bump allocator over the module's memory; every call to reset() starts again at heapBase
class Arena {
  top = 0;
  constructor(private k: Kernels) { this.reset(); }
  reset() { this.top = this.k.heapBase; }
  alloc(bytes: number): number {
    const p = (this.top + 15) & ~15;
    // odd offsets (multiple of 4 but not 16) exercise unaligned vector loads
    this.top = p + 4 + bytes;
    const need = this.top - this.k.memory.buffer.byteLength;
    if (need > 0) this.k.memory.grow(Math.ceil(need / 65536));
    return p + 4;
  }
  put(a: Float32Array): number { const p = this.alloc(a.byteLength); new Float32Array(this.k.memory.buffer, p, a.length).set(a); return p; }
  f32(p: number, n: number) { return new Float32Array(this.k.memory.buffer, p, n).slice(); }
}

function relErr(got: Float32Array, want: Float32Array) {
  expect(got.length).toBe(want.length);
  let d = 0, s = 0;
  for (let i = 0; i < want.length; i++) { d = Math.max(d, Math.abs(got[i] - want[i])); s = Math.max(s, Math.abs(want[i])); }
  return d / Math.max(s, 1e-6);
}

interface ConvCfg { C: number; H: number; W: number; OC: number; KH: number; KW: number; SH?: number; SW?: number; PT?: number; PL?: number; PB?: number; PR?: number; groups?: number; act?: number; bias?: boolean }

function convRef(x: Float32Array, c: Required<ConvCfg>, w: Float32Array, b: Float32Array | null) {
  const { C, H, W, OC, KH, KW, SH, SW, PT, PL, PB, PR, groups, act } = c;
  const OH = Math.floor((H + PT + PB - KH) / SH) + 1, OW = Math.floor((W + PL + PR - KW) / SW) + 1;
  const ICg = C / groups, OCg = OC / groups;
  const y = new Float32Array(OC * OH * OW);
  for (let oc = 0; oc < OC; oc++) {
    const g = Math.floor(oc / OCg);
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++) {
        let s = b ? b[oc] : 0;
        for (let i = 0; i < ICg; i++)
          for (let ky = 0; ky < KH; ky++)
            for (let kx = 0; kx < KW; kx++) {
              const iy = oy * SH - PT + ky, ix = ox * SW - PL + kx;
              if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
              s += x[((g * ICg + i) * H + iy) * W + ix] * w[((oc * ICg + i) * KH + ky) * KW + kx];
            }
        y[(oc * OH + oy) * OW + ox] = act && s < 0 ? 0 : s;
      }
  }
  return y;
}

function full(c: ConvCfg): Required<ConvCfg> {
  return { SH: 1, SW: 1, PT: 0, PL: 0, PB: 0, PR: 0, groups: 1, act: 0, bias: true, ...c };
}

function checkConv(a: Arena, cfg: ConvCfg, seed: number) {
  const c = full(cfg);
  const r = rng(seed);
  const ICg = c.C / c.groups;
  const x = randn(c.C * c.H * c.W, r), w = randn(c.OC * ICg * c.KH * c.KW, r), b = c.bias ? randn(c.OC, r) : null;
  const want = convRef(x, c, w, b);
  a.reset();
  const px = a.put(x), pw = a.put(w), pb = b ? a.put(b) : 0;
  // sentinel around y: the kernel must write exactly the output
  const py = a.alloc((want.length + 8) * 4);
  new Float32Array(k.memory.buffer, py, want.length + 8).fill(12345);
  k.conv2d(px, c.C, c.H, c.W, pw, pb, py + 16, c.OC, c.KH, c.KW, c.SH, c.SW, c.PT, c.PL, c.PB, c.PR, c.groups, c.act);
  const all = a.f32(py, want.length + 8);
  expect([...all.subarray(0, 4), ...all.subarray(want.length + 4)]).toEqual(new Array(8).fill(12345));
  const e = relErr(all.subarray(4, 4 + want.length), want);
  expect(e, JSON.stringify(cfg)).toBeLessThan(1e-4);
}

interface CtCfg { C: number; H: number; W: number; OC: number; KH: number; KW: number; SH: number; SW: number; groups?: number; act?: number; bias?: boolean }

function ctRef(x: Float32Array, c: CtCfg, w: Float32Array, b: Float32Array | null) {
  const { C, H, W, OC, KH, KW, SH, SW } = c;
  const groups = c.groups ?? 1, act = c.act ?? 0;
  const OH = (H - 1) * SH + KH, OW = (W - 1) * SW + KW, ICg = C / groups, OCg = OC / groups;
  const y = new Float64Array(OC * OH * OW);
  for (let oc = 0; oc < OC; oc++) for (let i = 0; i < OH * OW; i++) y[oc * OH * OW + i] = b ? b[oc] : 0;
  for (let ic = 0; ic < C; ic++) {
    const g = Math.floor(ic / ICg);
    for (let o = 0; o < OCg; o++) {
      const oc = g * OCg + o;
      for (let iy = 0; iy < H; iy++)
        for (let ix = 0; ix < W; ix++)
          for (let ky = 0; ky < KH; ky++)
            for (let kx = 0; kx < KW; kx++)
              y[(oc * OH + iy * SH + ky) * OW + ix * SW + kx] += x[(ic * H + iy) * W + ix] * w[((ic * OCg + o) * KH + ky) * KW + kx];
    }
  }
  return Float32Array.from(y, (v) => (act && v < 0 ? 0 : v));
}

function checkCt(a: Arena, c: CtCfg, seed: number) {
  const r = rng(seed);
  const groups = c.groups ?? 1, bias = c.bias ?? false;
  const x = randn(c.C * c.H * c.W, r), w = randn(c.C * (c.OC / groups) * c.KH * c.KW, r), b = bias ? randn(c.OC, r) : null;
  const want = ctRef(x, c, w, b);
  a.reset();
  const px = a.put(x), pw = a.put(w), pb = b ? a.put(b) : 0;
  const py = a.alloc((want.length + 8) * 4);
  new Float32Array(k.memory.buffer, py, want.length + 8).fill(12345);
  k.conv_transpose2d(px, c.C, c.H, c.W, pw, pb, py + 16, c.OC, c.KH, c.KW, c.SH, c.SW, groups, c.act ?? 0);
  const all = a.f32(py, want.length + 8);
  expect([...all.subarray(0, 4), ...all.subarray(want.length + 4)]).toEqual(new Array(8).fill(12345));
  expect(relErr(all.subarray(4, 4 + want.length), want), JSON.stringify(c)).toBeLessThan(1e-4);
}

const p1 = { PT: 1, PL: 1, PB: 1, PR: 1 };

describe('conv2d', () => {
  it('decoder 3x3 stride-1 layers', () => {
    const a = new Arena(k);
    const cfgs: ConvCfg[] = [
      { C: 96, H: 16, W: 24, OC: 48, KH: 3, KW: 3, ...p1 },
      { C: 48, H: 16, W: 24, OC: 96, KH: 3, KW: 3, ...p1, act: 1 },
      { C: 72, H: 32, W: 48, OC: 48, KH: 3, KW: 3, ...p1 },
      { C: 48, H: 32, W: 48, OC: 48, KH: 3, KW: 3, ...p1, act: 1 },
      { C: 32, H: 24, W: 40, OC: 32, KH: 3, KW: 3, ...p1 },
      { C: 16, H: 33, W: 70, OC: 16, KH: 3, KW: 3, ...p1, act: 1 },
      { C: 8, H: 40, W: 96, OC: 8, KH: 3, KW: 3, ...p1, bias: false },
      { C: 3, H: 32, W: 48, OC: 24, KH: 3, KW: 3, ...p1 },
    ];
    cfgs.forEach((c, i) => checkConv(a, c, 100 + i));
  });
  it('decoder strided, 1x1, patchify and grouped layers', () => {
    const a = new Arena(k);
    const cfgs: ConvCfg[] = [
      { C: 24, H: 32, W: 48, OC: 32, KH: 3, KW: 3, SH: 2, SW: 2, ...p1 },
      { C: 1056, H: 16, W: 24, OC: 96, KH: 1, KW: 1 },
      { C: 64, H: 16, W: 24, OC: 3072, KH: 1, KW: 1, act: 1 },
      { C: 3, H: 34, W: 26, OC: 96, KH: 4, KW: 1, SH: 2, SW: 1 },
      { C: 96, H: 16, W: 50, OC: 3072, KH: 1, KW: 4, SH: 1, SW: 2, groups: 96 },
      { C: 3, H: 64, W: 96, OC: 32, KH: 8, KW: 8, SH: 8, SW: 8 },
      { C: 3, H: 64, W: 96, OC: 16, KH: 4, KW: 4, SH: 4, SW: 4 },
      { C: 3, H: 64, W: 96, OC: 8, KH: 2, KW: 2, SH: 2, SW: 2 },
      // the real input size of the patchify layers, smallest one
      { C: 3, H: 512, W: 768, OC: 8, KH: 2, KW: 2, SH: 2, SW: 2 },
    ];
    cfgs.forEach((c, i) => checkConv(a, c, 200 + i));
  });
  it('odd sizes: 3x3 pad 1, channels not multiple of 4', () => {
    const a = new Arena(k);
    let seed = 300;
    for (const H of [1, 3, 5, 17, 24, 33])
      for (const W of [1, 3, 5, 17, 24, 33])
        checkConv(a, { C: 5, H, W, OC: 7, KH: 3, KW: 3, ...p1, act: seed & 1, bias: (seed & 2) === 0 }, seed++);
  });
  it('odd sizes: other kernels, strides, paddings and groups', () => {
    const a = new Arena(k);
    let seed = 400;
    const shapes: Omit<ConvCfg, 'H' | 'W'>[] = [
      { C: 5, OC: 6, KH: 1, KW: 1 },
      { C: 7, OC: 5, KH: 1, KW: 1, PT: 1, PL: 0, PB: 0, PR: 2 },
      { C: 6, OC: 9, KH: 3, KW: 3, ...p1, groups: 3 },
      { C: 6, OC: 6, KH: 3, KW: 3, ...p1, groups: 6, act: 1 },
      { C: 3, OC: 5, KH: 3, KW: 3, SH: 2, SW: 2, ...p1 },
      { C: 3, OC: 9, KH: 3, KW: 3, SH: 2, SW: 2, PT: 0, PL: 1, PB: 1, PR: 0 },
      { C: 5, OC: 3, KH: 4, KW: 1, SH: 2, SW: 1 },
      { C: 4, OC: 12, KH: 1, KW: 4, SH: 1, SW: 2, groups: 4 },
      { C: 3, OC: 10, KH: 2, KW: 2, SH: 2, SW: 2 },
      { C: 3, OC: 5, KH: 4, KW: 4, SH: 4, SW: 4, bias: false },
      { C: 2, OC: 9, KH: 8, KW: 8, SH: 8, SW: 8 },
      { C: 3, OC: 5, KH: 5, KW: 5, PT: 2, PL: 2, PB: 2, PR: 2 },
      { C: 3, OC: 5, KH: 2, KW: 3, PT: 0, PL: 2, PB: 1, PR: 0, act: 1 },
      { C: 2, OC: 3, KH: 3, KW: 5, SH: 1, SW: 3, PT: 1, PL: 2, PB: 1, PR: 2 },
      { C: 4, OC: 4, KH: 3, KW: 3, PT: 2, PL: 3, PB: 2, PR: 3 },
      { C: 2, OC: 3, KH: 1, KW: 9, PT: 0, PL: 4, PB: 0, PR: 4 },
      { C: 3, OC: 19, KH: 3, KW: 3, ...p1, act: 1 },
    ];
    for (const s of shapes)
      for (const [H, W] of [[1, 1], [3, 5], [5, 3], [17, 24], [24, 33], [33, 17], [8, 8], [16, 50]])
        if (H + (s.PT ?? 0) + (s.PB ?? 0) >= s.KH && W + (s.PL ?? 0) + (s.PR ?? 0) >= s.KW) checkConv(a, { ...s, H, W }, seed++);
  });
});

describe('conv_transpose2d', () => {
  it('decoder layers (2x2 stride 2, no bias)', () => {
    const a = new Arena(k);
    const cfgs: CtCfg[] = [
      { C: 97, H: 16, W: 24, OC: 48, KH: 2, KW: 2, SH: 2, SW: 2 },
      { C: 49, H: 32, W: 48, OC: 32, KH: 2, KW: 2, SH: 2, SW: 2 },
      { C: 33, H: 64, W: 96, OC: 16, KH: 2, KW: 2, SH: 2, SW: 2 },
      { C: 17, H: 48, W: 64, OC: 8, KH: 2, KW: 2, SH: 2, SW: 2 },
      { C: 8, H: 64, W: 96, OC: 3, KH: 2, KW: 2, SH: 2, SW: 2 },
    ];
    cfgs.forEach((c, i) => checkCt(a, c, 500 + i));
  });
  it('odd sizes, bias, relu, groups, other kernels', () => {
    const a = new Arena(k);
    let seed = 600;
    const shapes: Omit<CtCfg, 'H' | 'W'>[] = [
      { C: 5, OC: 7, KH: 2, KW: 2, SH: 2, SW: 2, bias: true, act: 1 },
      { C: 6, OC: 9, KH: 2, KW: 2, SH: 2, SW: 2, groups: 3, bias: true },
      { C: 3, OC: 5, KH: 3, KW: 3, SH: 2, SW: 2, bias: true },
      { C: 3, OC: 2, KH: 1, KW: 2, SH: 1, SW: 2 },
      { C: 4, OC: 4, KH: 4, KW: 4, SH: 2, SW: 2, groups: 2, act: 1 },
      { C: 3, OC: 6, KH: 3, KW: 2, SH: 3, SW: 2, bias: true },
    ];
    for (const s of shapes)
      for (const H of [1, 3, 5, 17, 24, 33])
        for (const W of [1, 3, 5, 17, 24, 33]) checkCt(a, { ...s, H, W }, seed++);
  });
});

describe('element-wise', () => {
  const ns = [0, 1, 3, 4, 5, 17, 33, 1000];
  it('add_f32 (also in place), affine_f32, clip_f32, relu_f32', () => {
    const a = new Arena(k);
    for (const n of ns) {
      const r = rng(700 + n);
      const x = randn(n, r), z = randn(n, r);
      for (const act of [0, 1]) {
        a.reset();
        const px = a.put(x), pz = a.put(z), py = a.alloc(n * 4);
        const want = Float32Array.from(x, (v, i) => { const s = Math.fround(v + z[i]); return act && s < 0 ? 0 : s; });
        k.add_f32(px, pz, py, n, act);
        expect(a.f32(py, n)).toEqual(want);
        k.add_f32(px, pz, px, n, act);
        expect(a.f32(px, n)).toEqual(want);
        k.add_f32(a.put(x), pz, pz, n, act);
        expect(a.f32(pz, n)).toEqual(want);
      }
      a.reset();
      const px = a.put(x), py = a.alloc(n * 4);
      k.affine_f32(px, py, n, 0.5, -0.25);
      expect(relErr(a.f32(py, n), Float32Array.from(x, (v) => v * 0.5 - 0.25))).toBeLessThan(1e-6);
      k.clip_f32(px, py, n, -0.3, 0.6);
      expect(a.f32(py, n)).toEqual(Float32Array.from(x, (v) => Math.min(Math.max(v, Math.fround(-0.3)), Math.fround(0.6))));
      k.relu_f32(px, py, n);
      expect(a.f32(py, n)).toEqual(Float32Array.from(x, (v) => Math.max(v, 0)));
      k.relu_f32(px, px, n);
      expect(a.f32(px, n)).toEqual(Float32Array.from(x, (v) => Math.max(v, 0)));
    }
  });
});

describe('kernels.wasm', () => {
  it('is what scripts/build-wasm.sh builds from kernels.c (clang + lld required)', () => {
    const out = execFileSync('bash', [join(ROOT, 'scripts/build-wasm.sh'), '--check'], { encoding: 'utf8' });
    expect(out).toMatch(/up to date/);
  });
  it('is small and has no imports', () => {
    const bytes = readFileSync(join(ROOT, 'src/model/lean/kernels.wasm'));
    expect(bytes.length).toBeLessThan(30_000);
    expect(WebAssembly.Module.imports(new WebAssembly.Module(bytes))).toEqual([]);
  });
});
