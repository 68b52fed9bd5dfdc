// WGSL compute shaders of the lean decoder's WebGPU executor (gpu.ts): one template per op
// kind, specialised by the op's static configuration (kernel, stride, activation, output
// channels per invocation), with the shapes and tensor offsets in a uniform. Every shader
// sees the same bindings: the activation arena (read-write, float32, tensors at element
// offsets from the run plan), the weights (read-only, float32) and the op's parameters.
// Tensors are NCHW with batch 1, as in kernels.c.

/** Invocations per workgroup (1-D); a dispatch's linear index is gid.y * p[1] + gid.x. */
export const WORKGROUP = 64;

/** u32 parameter slots a shader's uniform holds (p[0]: invocations, p[1]: invocations per dispatch row). */
export const PARAMS = 20;

const HEADER = /* wgsl */ `
@group(0) @binding(0) var<storage, read_write> A: array<f32>;
@group(0) @binding(1) var<storage, read> Wt: array<f32>;
@group(0) @binding(2) var<uniform> P: array<vec4<u32>, ${Math.ceil(PARAMS / 4)}>;
fn pu(i: u32) -> u32 { return P[i / 4u][i % 4u]; }
fn pf(i: u32) -> f32 { return bitcast<f32>(P[i / 4u][i % 4u]); }
`;

const MAIN = (body: string) => `${HEADER}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * pu(1u) + gid.x;
  if (i >= pu(0u)) { return; }
${body}
}
`;

export interface ConvConfig {
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  /** Output channels one invocation computes: 4 (the output channels per group divide by 4) or 1. */
  ocb: 1 | 4;
  act: 0 | 1;
  bias: boolean;
}

const accType = (ocb: number) => (ocb === 4 ? 'vec4<f32>' : 'f32');
/** The weights of output channels oc0..oc0+ocb-1 at `wi`, `stride` apart. */
const wvec = (ocb: number, stride: string) => (ocb === 4 ? `vec4<f32>(Wt[wi], Wt[wi + ${stride}], Wt[wi + 2u * ${stride}], Wt[wi + 3u * ${stride}])` : 'Wt[wi]');
const store = (c: { ocb: number; act: number; bias: boolean }) =>
  Array.from({ length: c.ocb }, (_, j) => {
    const v = c.ocb === 4 ? `acc[${j}]` : 'acc';
    return `  if (oc0 + ${j}u < OC) {
    var v = ${v}${c.bias ? ` + Wt[boff + oc0 + ${j}u]` : ''};
    ${c.act ? 'v = max(v, 0.0);' : ''}
    A[yoff + (oc0 + ${j}u) * OH * OW + oh * OW + ow] = v;
  }`;
  }).join('\n');

/**
 * Conv: w[OC][C/groups][KH][KW], zero padding. Params: 2 x, 3 H, 4 W, 5 w, 6 b, 7 y, 8 OC,
 * 9 OH, 10 OW, 11 PT, 12 PL, 13 CG (input channels per group), 14 OCG (output per group).
 * One invocation: one output pixel, `ocb` output channels.
 */
export function convShader(c: ConvConfig): string {
  return MAIN(`
  let xoff = pu(2u); let H = pu(3u); let W = pu(4u); let woff = pu(5u); let boff = pu(6u); let yoff = pu(7u);
  let OC = pu(8u); let OH = pu(9u); let OW = pu(10u); let PT = i32(pu(11u)); let PL = i32(pu(12u));
  let CG = pu(13u); let OCG = pu(14u);
  let ow = i % OW; let t = i / OW; let oh = t % OH; let oc0 = (t / OH) * ${c.ocb}u;
  let g = oc0 / OCG;
  let wstride = CG * ${c.kh * c.kw}u;
  var acc = ${accType(c.ocb)}(0.0);
  let iy0 = i32(oh * ${c.sh}u) - PT;
  let ix0 = i32(ow * ${c.sw}u) - PL;
  for (var ic = 0u; ic < CG; ic++) {
    let xc = xoff + (g * CG + ic) * H * W;
    let wc = woff + oc0 * wstride + ic * ${c.kh * c.kw}u;
    for (var ky = 0u; ky < ${c.kh}u; ky++) {
      let iy = iy0 + i32(ky);
      if (iy < 0 || iy >= i32(H)) { continue; }
      for (var kx = 0u; kx < ${c.kw}u; kx++) {
        let ix = ix0 + i32(kx);
        if (ix < 0 || ix >= i32(W)) { continue; }
        let xv = A[xc + u32(iy) * W + u32(ix)];
        let wi = wc + ky * ${c.kw}u + kx;
        acc += xv * ${wvec(c.ocb, 'wstride')};
      }
    }
  }
${store(c)}`);
}

/**
 * ConvTranspose without padding: w[C][OC/groups][KH][KW], OH = (H - 1) * SH + KH. Params as
 * convShader (11, 12 unused). Kernel = stride (the decoder's upsamplers): one tap per axis.
 */
export function convTransposeShader(c: ConvConfig): string {
  const oneTap = c.kh === c.sh && c.kw === c.sw;
  const taps = oneTap
    ? `
    {
      let iy = oh / ${c.sh}u; let ky = oh % ${c.sh}u; let ix = ow / ${c.sw}u; let kx = ow % ${c.sw}u;
      let xv = A[xc + iy * W + ix];
      let wi = wc + ky * ${c.kw}u + kx;
      acc += xv * ${wvec(c.ocb, `${c.kh * c.kw}u`)};
    }`
    : `
    for (var ky = 0u; ky < ${c.kh}u; ky++) {
      let ty = i32(oh) - i32(ky);
      if (ty < 0 || ty % ${c.sh} != 0 || ty / ${c.sh} >= i32(H)) { continue; }
      for (var kx = 0u; kx < ${c.kw}u; kx++) {
        let tx = i32(ow) - i32(kx);
        if (tx < 0 || tx % ${c.sw} != 0 || tx / ${c.sw} >= i32(W)) { continue; }
        let xv = A[xc + u32(ty / ${c.sh}) * W + u32(tx / ${c.sw})];
        let wi = wc + ky * ${c.kw}u + kx;
        acc += xv * ${wvec(c.ocb, `${c.kh * c.kw}u`)};
      }
    }`;
  return MAIN(`
  let xoff = pu(2u); let H = pu(3u); let W = pu(4u); let woff = pu(5u); let boff = pu(6u); let yoff = pu(7u);
  let OC = pu(8u); let OH = pu(9u); let OW = pu(10u);
  let CG = pu(13u); let OCG = pu(14u);
  let ow = i % OW; let t = i / OW; let oh = t % OH; let oc0 = (t / OH) * ${c.ocb}u;
  let g = oc0 / OCG;
  let ocl = oc0 % OCG;
  var acc = ${accType(c.ocb)}(0.0);
  for (var ic = 0u; ic < CG; ic++) {
    let ch = g * CG + ic;
    let xc = xoff + ch * H * W;
    let wc = woff + (ch * OCG + ocl) * ${c.kh * c.kw}u;${taps}
  }
${store(c)}`);
}

/** Element-wise ops. Params: 2 a/x, 3 b, 4 y, 5 f0, 6 f1 (Affine mul/add, Clip lo/hi). */
export type EltKind = 'add' | 'add-relu' | 'affine' | 'relu' | 'clip';

export function eltShader(kind: EltKind): string {
  const expr: Record<EltKind, string> = {
    add: 'A[pu(2u) + i] + A[pu(3u) + i]',
    'add-relu': 'max(A[pu(2u) + i] + A[pu(3u) + i], 0.0)',
    affine: 'A[pu(2u) + i] * pf(5u) + pf(6u)',
    relu: 'max(A[pu(2u) + i], 0.0)',
    clip: 'min(max(A[pu(2u) + i], pf(5u)), pf(6u))',
  };
  return MAIN(`  A[pu(4u) + i] = ${expr[kind]};`);
}

/**
 * Strided row copy (Concat: one dispatch per input; Slice): dst[do + o·ds + r] = src[so + o·ss + r]
 * for r < row. Params: 2 src, 3 ss, 4 dst, 5 ds, 6 row.
 */
export const COPY_SHADER = MAIN(`
  let row = pu(6u);
  let o = i / row; let r = i % row;
  A[pu(4u) + o * pu(5u) + r] = A[pu(2u) + o * pu(3u) + r];`);

/** ONNX DepthToSpace, mode CRD. Params: 2 x, 3 h, 4 w, 5 y, 6 block, 7 OH, 8 OW. */
export const DEPTH_TO_SPACE_SHADER = MAIN(`
  let h = pu(3u); let w = pu(4u); let b = pu(6u); let OH = pu(7u); let OW = pu(8u);
  let ox = i % OW; let t = i / OW; let oy = t % OH; let ch = t / OH;
  let src = pu(2u) + ((ch * b * b + (oy % b) * b + (ox % b)) * h + oy / b) * w + ox / b;
  A[pu(5u) + i] = A[src];`);
