// Convolution and element-wise kernels of the lean decoder runtime: WebAssembly SIMD128,
// no libc, no allocation. Built by scripts/build-wasm.sh into kernels.wasm; loaded by
// kernels.ts. All tensors are float32 NCHW with batch 1; pointers are byte offsets into
// the module's memory and every buffer is given by the caller.
//
// conv2d: stride-1-in-x layers are vectorised over 4 adjacent output x (f32x4) and several
// output channels per pass, so that one input load feeds NOC multiply-adds; the blocks that
// touch the left/right zero padding use the same loop with a swizzle that shifts zeros in
// (no scratch copy). 1x1 stride-1 unpadded layers run as one long row over H*W. Layers
// strided in x gather the 4 inputs of a vector lane by lane (only the interior; borders are
// scalar). conv_transpose2d with kernel == stride == 2 in x is vectorised the same way and
// interleaves the two x taps on store. Everything else takes the scalar path, which is
// the reference semantics.
#include <wasm_simd128.h>

typedef v128_t V;
#define EXPORT(n) __attribute__((export_name(#n)))
#define INLINE static inline __attribute__((always_inline))
// Loops over compile-time block sizes unroll fully; the build disables other unrolling
// (-fno-unroll-loops) to keep the module small.
#define UNROLL _Pragma("clang loop unroll(full)")

INLINE int imin(int a, int b) { return a < b ? a : b; }
INLINE int imax(int a, int b) { return a > b ? a : b; }
INLINE V vload(const float* p) { return wasm_v128_load(p); }
INLINE void vstore(float* p, V v) { wasm_v128_store(p, v); }
INLINE V vsplat(const float* p) { return wasm_v128_load32_splat(p); }
INLINE V vmadd(V acc, V a, V b) { return wasm_f32x4_add(acc, wasm_f32x4_mul(a, b)); }
// relu as pmax(v, 0) = v < 0 ? 0 : v, the same in the scalar tails (NaN passes through)
INLINE V vact(V v, int act) { return act ? wasm_f32x4_pmax(v, wasm_f32x4_splat(0.f)) : v; }
INLINE float sact(float v, int act) { return act && v < 0.f ? 0.f : v; }

// ---------------------------------------------------------------------------------------
// conv2d

// One output value, bounds-checked (borders, odd shapes; also the reference semantics).
static float conv_px(const float* xg, int H, int W, const float* wo, int ICg, int KH, int KW, int iy0, int ix0) {
  float s = 0.f;
  int ky0 = imax(0, -iy0), ky1 = imin(KH, H - iy0), kx0 = imax(0, -ix0), kx1 = imin(KW, W - ix0);
  for (int ic = 0; ic < ICg; ic++) {
    const float* xc = xg + (long)ic * H * W;
    const float* wc = wo + ic * KH * KW;
    for (int ky = ky0; ky < ky1; ky++)
      for (int kx = kx0; kx < kx1; kx++) s += xc[(iy0 + ky) * W + ix0 + kx] * wc[ky * KW + kx];
  }
  return s;
}

static void conv_px_out(const float* xg, int H, int W, const float* wo, int wst, const float* bo, float* yo, int yst,
                        int noc, int ICg, int KH, int KW, int iy0, int ix0, int act) {
  for (int o = 0; o < noc; o++) {
    float s = conv_px(xg, H, W, wo + o * wst, ICg, KH, KW, iy0, ix0);
    if (bo) s += bo[o];
    yo[o * yst] = sact(s, act);
  }
}

// Swizzle mask and load offset for a 4-wide input vector starting at ix s of a row of width
// W >= 4: load at c = clamp(s, 0, W-4), then lanes whose ix falls outside [0, W) become 0.
INLINE void edge_mask(int s, int W, int* off, V* m) {
  int c = imin(imax(s, 0), W - 4), sh = s - c;
  V src = wasm_i32x4_add(wasm_i32x4_make(0, 1, 2, 3), wasm_i32x4_splat(sh));
  V ok = wasm_v128_and(wasm_i32x4_ge(src, wasm_i32x4_splat(0)), wasm_i32x4_lt(src, wasm_i32x4_splat(4)));
  V bytes = wasm_i32x4_add(wasm_i32x4_mul(src, wasm_i32x4_splat(0x04040404)), wasm_i32x4_splat(0x03020100));
  *m = wasm_v128_bitselect(bytes, wasm_i32x4_splat(-1), ok);
  *off = c;
}

// NOC output channels x NV vectors of 4 output x, stride 1 in x. KW, NOC, NV, EDGE are
// compile-time constants at every call site (always_inline), so the tap loop unrolls.
INLINE void blk_sw1(const float* xg, int H, int W, int ICg, int KH, const int KW, const float* wo, int wst,
                    int ky0, int ky1, int iy0, int ix0, const int NOC, const int NV, const int EDGE,
                    const float* bo, float* yo, int yst, int act) {
  V acc[8][8];
  int off[8][8];
  V msk[8][8];
  UNROLL
  for (int o = 0; o < NOC; o++) {
    V bv = bo ? vsplat(bo + o) : wasm_f32x4_splat(0.f);
    UNROLL
    for (int j = 0; j < NV; j++) acc[o][j] = bv;
  }
  if (EDGE)
    UNROLL
    for (int j = 0; j < NV; j++)
      UNROLL
      for (int kx = 0; kx < KW; kx++) edge_mask(ix0 + 4 * j + kx, W, &off[j][kx], &msk[j][kx]);
  const int HW = H * W, KK = KH * KW;
  for (int ic = 0; ic < ICg; ic++) {
    const float* xc = xg + ic * HW + iy0 * W;
    const float* wc = wo + ic * KK;
    for (int ky = ky0; ky < ky1; ky++) {
      const float* row = xc + ky * W;
      const float* wr = wc + ky * KW;
      UNROLL
      for (int kx = 0; kx < KW; kx++) {
        V xv[8];
        UNROLL
        for (int j = 0; j < NV; j++)
          xv[j] = EDGE ? wasm_i8x16_swizzle(vload(row + off[j][kx]), msk[j][kx]) : vload(row + ix0 + kx + 4 * j);
        UNROLL
        for (int o = 0; o < NOC; o++) {
          V wv = vsplat(wr + o * wst + kx);
          UNROLL
          for (int j = 0; j < NV; j++) acc[o][j] = vmadd(acc[o][j], xv[j], wv);
        }
      }
    }
  }
  UNROLL
  for (int o = 0; o < NOC; o++)
    UNROLL
    for (int j = 0; j < NV; j++) vstore(yo + o * yst + 4 * j, vact(acc[o][j], act));
}

// One output row of NOC channels (W >= 4, OW >= 4): blocks of NV vectors where no tap
// touches the padding, single vectors elsewhere (swizzled where they do); the last vector
// overlaps the previous one when OW is not a multiple of 4 (it rewrites equal values).
INLINE void row_sw1(const float* xg, int H, int W, int ICg, int KH, const int KW, int PL, const float* wo, int wst,
                    int ky0, int ky1, int iy0, int OW, const int NOC, const int NV, const float* bo, float* yo,
                    int yst, int act) {
  for (int ox = 0; ox < OW;) {
    if (ox + 4 > OW) ox = OW - 4;
    int ix0 = ox - PL;
    if (ix0 >= 0 && ox + 4 * NV <= OW && ix0 + 4 * NV + KW - 2 < W) {
      blk_sw1(xg, H, W, ICg, KH, KW, wo, wst, ky0, ky1, iy0, ix0, NOC, NV, 0, bo, yo + ox, yst, act);
      ox += 4 * NV;
    } else {
      if (ix0 >= 0 && ix0 + KW + 2 < W)
        blk_sw1(xg, H, W, ICg, KH, KW, wo, wst, ky0, ky1, iy0, ix0, NOC, 1, 0, bo, yo + ox, yst, act);
      else
        blk_sw1(xg, H, W, ICg, KH, KW, wo, wst, ky0, ky1, iy0, ix0, NOC, 1, 1, bo, yo + ox, yst, act);
      ox += 4;
    }
  }
}

// Stride 1 in x, W >= 4, OW >= 4: output channels [oc0, oc1) of one group, NOC at a time.
INLINE void conv_sw1(const float* xg, int H, int W, int ICg, const float* wg, const float* bg, float* yg, int oc0,
                     int oc1, int KH, const int KW, int SH, int PT, int PL, int OH, int OW, int act, const int NOC,
                     const int NV) {
  const int wst = ICg * KH * KW, yst = OH * OW;
  for (int oc = oc0; oc + NOC <= oc1; oc += NOC) {
    const float* wo = wg + oc * wst;
    const float* bo = bg ? bg + oc : 0;
    for (int oy = 0; oy < OH; oy++) {
      int iy0 = oy * SH - PT, ky0 = imax(0, -iy0), ky1 = imin(KH, H - iy0);
      row_sw1(xg, H, W, ICg, KH, KW, PL, wo, wst, ky0, ky1, iy0, OW, NOC, NV, bo, yg + oc * yst + oy * OW, yst, act);
    }
  }
}

// any KW, one channel at a time (channel counts not a multiple of NOC, unusual kernels)
static void conv_sw1_1(const float* xg, int H, int W, int ICg, const float* wg, const float* bg, float* yg, int oc0,
                       int oc1, int KH, int KW, int SH, int PT, int PL, int OH, int OW, int act) {
  conv_sw1(xg, H, W, ICg, wg, bg, yg, oc0, oc1, KH, KW, SH, PT, PL, OH, OW, act, 1, 2);
}

// Stride SW > 1 in x: NOC channels x NV vectors, inputs gathered lane by lane; interior only.
INLINE void blk_sws(const float* xg, int H, int W, int ICg, int KH, const int KW, const int SW, const float* wo,
                    int wst, int ky0, int ky1, int iy0, int ix0, const int NOC, const int NV, const float* bo,
                    float* yo, int yst, int act) {
  V acc[8][4];
  UNROLL
  for (int o = 0; o < NOC; o++) {
    V bv = bo ? vsplat(bo + o) : wasm_f32x4_splat(0.f);
    UNROLL
    for (int j = 0; j < NV; j++) acc[o][j] = bv;
  }
  const int HW = H * W, KK = KH * KW;
  for (int ic = 0; ic < ICg; ic++) {
    const float* xc = xg + ic * HW + iy0 * W + ix0;
    const float* wc = wo + ic * KK;
    for (int ky = ky0; ky < ky1; ky++) {
      const float* row = xc + ky * W;
      const float* wr = wc + ky * KW;
      UNROLL
      for (int kx = 0; kx < KW; kx++) {
        V xv[4];
        UNROLL
        for (int j = 0; j < NV; j++) {
          const float* p = row + kx + 4 * SW * j;
          V v = vsplat(p);
          v = wasm_v128_load32_lane(p + SW, v, 1);
          v = wasm_v128_load32_lane(p + 2 * SW, v, 2);
          xv[j] = wasm_v128_load32_lane(p + 3 * SW, v, 3);
        }
        UNROLL
        for (int o = 0; o < NOC; o++) {
          V wv = vsplat(wr + o * wst + kx);
          UNROLL
          for (int j = 0; j < NV; j++) acc[o][j] = vmadd(acc[o][j], xv[j], wv);
        }
      }
    }
  }
  UNROLL
  for (int o = 0; o < NOC; o++)
    UNROLL
    for (int j = 0; j < NV; j++) vstore(yo + o * yst + 4 * j, vact(acc[o][j], act));
}

INLINE void conv_sws(const float* xg, int H, int W, int ICg, const float* wg, const float* bg, float* yg, int OCg,
                     int KH, const int KW, int SH, const int SW, int PT, int PL, int OH, int OW, int act,
                     const int NOC) {
  const int wst = ICg * KH * KW, yst = OH * OW;
  // interior x: 0 <= ox*SW - PL and ox*SW - PL + KW <= W
  int oxa = (PL + SW - 1) / SW, oxb = W + PL - KW >= 0 ? (W + PL - KW) / SW + 1 : 0;
  oxb = imin(oxb, OW);
  if (oxb - oxa < 4) oxa = oxb = 0;
  for (int oc = 0; oc < OCg; oc += NOC) {
    int noc = imin(NOC, OCg - oc);
    const float* wo = wg + oc * wst;
    const float* bo = bg ? bg + oc : 0;
    for (int oy = 0; oy < OH; oy++) {
      int iy0 = oy * SH - PT, ky0 = imax(0, -iy0), ky1 = imin(KH, H - iy0);
      float* yo = yg + oc * yst + oy * OW;
      for (int ox = 0; ox < oxa; ox++)
        conv_px_out(xg, H, W, wo, wst, bo, yo + ox, yst, noc, ICg, KH, KW, iy0, ox * SW - PL, act);
      for (int ox = oxb; ox < OW; ox++)
        conv_px_out(xg, H, W, wo, wst, bo, yo + ox, yst, noc, ICg, KH, KW, iy0, ox * SW - PL, act);
      for (int ox = oxa; ox < oxb;) {
        int o4 = imin(ox, oxb - 4);
        if (noc == NOC)
          blk_sws(xg, H, W, ICg, KH, KW, SW, wo, wst, ky0, ky1, iy0, o4 * SW - PL, NOC, 1, bo, yo + o4, yst, act);
        else
          for (int o = 0; o < noc; o++)
            blk_sws(xg, H, W, ICg, KH, KW, SW, wo + o * wst, wst, ky0, ky1, iy0, o4 * SW - PL, 1, 1,
                    bo ? bo + o : 0, yo + o * yst + o4, yst, act);
        ox = o4 + 4;
      }
    }
  }
}

static void conv_scalar(const float* xg, int H, int W, int ICg, const float* wg, const float* bg, float* yg, int OCg,
                        int KH, int KW, int SH, int SW, int PT, int PL, int OH, int OW, int act) {
  const int wst = ICg * KH * KW, yst = OH * OW;
  for (int oc = 0; oc < OCg; oc++)
    for (int oy = 0; oy < OH; oy++)
      for (int ox = 0; ox < OW; ox++)
        conv_px_out(xg, H, W, wg + oc * wst, wst, bg ? bg + oc : 0, yg + oc * yst + oy * OW + ox, yst, 1, ICg, KH,
                    KW, oy * SH - PT, ox * SW - PL, act);
}

#ifndef NOC3
#define NOC3 8
#define NV3 2
#endif
#ifndef NOC1
#define NOC1 2
#define NV1 4
#endif
#ifndef NOCS
#define NOCS 8
#endif

static void conv_sw1_any(const float* xg, int H, int W, int ICg, const float* wg, const float* bg, float* yg,
                         int OCg, int KH, int KW, int SH, int PT, int PL, int OH, int OW, int act) {
  int oc = 0;
  if (KW == 3) {
    oc = OCg / NOC3 * NOC3;
    conv_sw1(xg, H, W, ICg, wg, bg, yg, 0, oc, KH, 3, SH, PT, PL, OH, OW, act, NOC3, NV3);
  } else if (KW == 1 && KH == 1 && H == 1 && SH == 1 && PT == 0 && PL == 0) {
    // 1x1 as one long row (constants: no row loop, no padding checks in the channel loop)
    oc = OCg / NOC1 * NOC1;
    conv_sw1(xg, 1, W, ICg, wg, bg, yg, 0, oc, 1, 1, 1, 0, 0, 1, OW, act, NOC1, NV1);
  } else if (KW == 1) {
    oc = OCg / NOC1 * NOC1;
    conv_sw1(xg, H, W, ICg, wg, bg, yg, 0, oc, KH, 1, SH, PT, PL, OH, OW, act, NOC1, NV1);
  }
  conv_sw1_1(xg, H, W, ICg, wg, bg, yg, oc, OCg, KH, KW, SH, PT, PL, OH, OW, act);
}

static void conv_sws_any(const float* xg, int H, int W, int ICg, const float* wg, const float* bg, float* yg,
                         int OCg, int KH, int KW, int SH, int SW, int PT, int PL, int OH, int OW, int act) {
  conv_sws(xg, H, W, ICg, wg, bg, yg, OCg, KH, KW, SH, SW, PT, PL, OH, OW, act, NOCS);
}

EXPORT(conv2d)
void conv2d(const float* x, int C, int H, int W, const float* w, const float* b, float* y, int OC, int KH, int KW,
            int SH, int SW, int PT, int PL, int PB, int PR, int groups, int act) {
  if (groups < 1) groups = 1;
  const int ICg = C / groups, OCg = OC / groups;
  const int OH = (H + PT + PB - KH) / SH + 1, OW = (W + PL + PR - KW) / SW + 1;
  if (OH <= 0 || OW <= 0) return;
  for (int g = 0; g < groups; g++) {
    const float* xg = x + g * ICg * H * W;
    const float* wg = w + g * OCg * ICg * KH * KW;
    const float* bg = b ? b + g * OCg : 0;
    float* yg = y + g * OCg * OH * OW;
    if (KH == 1 && KW == 1 && SH == 1 && SW == 1 && (PT | PL | PB | PR) == 0 && H * W >= 4)
      conv_sw1_any(xg, 1, H * W, ICg, wg, bg, yg, OCg, 1, 1, 1, 0, 0, 1, H * W, act);
    else if (SW == 1 && W >= 4 && OW >= 4 && KW <= 8)
      conv_sw1_any(xg, H, W, ICg, wg, bg, yg, OCg, KH, KW, SH, PT, PL, OH, OW, act);
    else if (SW > 1 && OW >= 4)
      conv_sws_any(xg, H, W, ICg, wg, bg, yg, OCg, KH, KW, SH, SW, PT, PL, OH, OW, act);
    else
      conv_scalar(xg, H, W, ICg, wg, bg, yg, OCg, KH, KW, SH, SW, PT, PL, OH, OW, act);
  }
}

// ---------------------------------------------------------------------------------------
// conv_transpose2d (no padding, no output padding, dilation 1)

// kernel width == stride == 2 in x, W >= 4: NOC channels, one kernel row ky, 4 input x.
INLINE void blk_ct2(const float* xg, int HW, int ICg, const float* wo, int wicst, int KK, int ky, const int NOC,
                    const float* bo, float* yo, int yst, int act) {
  V a0[4], a1[4];
  UNROLL
  for (int o = 0; o < NOC; o++) a0[o] = a1[o] = bo ? vsplat(bo + o) : wasm_f32x4_splat(0.f);
  const float* wk = wo + ky * 2;
  for (int ic = 0; ic < ICg; ic++) {
    V xv = vload(xg + ic * HW);
    const float* wc = wk + ic * wicst;
    UNROLL
    for (int o = 0; o < NOC; o++) {
      a0[o] = vmadd(a0[o], xv, vsplat(wc + o * KK));
      a1[o] = vmadd(a1[o], xv, vsplat(wc + o * KK + 1));
    }
  }
  UNROLL
  for (int o = 0; o < NOC; o++) {
    vstore(yo + o * yst, vact(wasm_i32x4_shuffle(a0[o], a1[o], 0, 4, 1, 5), act));
    vstore(yo + o * yst + 4, vact(wasm_i32x4_shuffle(a0[o], a1[o], 2, 6, 3, 7), act));
  }
}

INLINE void ct2(const float* xg, int H, int W, int ICg, const float* wg, const float* bg, float* yg, int OCg, int KH,
                int SH, int OH, int OW, int act, const int NOC) {
  const int KK = KH * 2, wicst = OCg * KK, yst = OH * OW, HW = H * W;
  for (int oc = 0; oc < OCg; oc += NOC) {
    int noc = imin(NOC, OCg - oc);
    for (int iy = 0; iy < H; iy++)
      for (int ky = 0; ky < KH; ky++) {
        float* yrow = yg + oc * yst + (iy * SH + ky) * OW;
        for (int ix = 0; ix < W;) {
          int i4 = imin(ix, W - 4);
          const float* xp = xg + iy * W + i4;
          if (noc == NOC) blk_ct2(xp, HW, ICg, wg + oc * KK, wicst, KK, ky, NOC, bg ? bg + oc : 0, yrow + 2 * i4, yst, act);
          else
            for (int o = 0; o < noc; o++)
              blk_ct2(xp, HW, ICg, wg + (oc + o) * KK, wicst, KK, ky, 1, bg ? bg + oc + o : 0, yrow + o * yst + 2 * i4,
                      yst, act);
          ix = i4 + 4;
        }
      }
  }
}

static void ct_scalar(const float* xg, int H, int W, int ICg, const float* wg, const float* bg, float* yg, int OCg,
                      int KH, int KW, int SH, int SW, int OH, int OW, int act) {
  const int KK = KH * KW, yst = OH * OW;
  for (int oc = 0; oc < OCg; oc++) {
    float bv = bg ? bg[oc] : 0.f;
    float* yo = yg + oc * yst;
    for (int i = 0; i < yst; i++) yo[i] = bv;
    for (int ic = 0; ic < ICg; ic++) {
      const float* wk = wg + (ic * OCg + oc) * KK;
      const float* xc = xg + ic * H * W;
      for (int iy = 0; iy < H; iy++)
        for (int ix = 0; ix < W; ix++) {
          float xv = xc[iy * W + ix];
          for (int ky = 0; ky < KH; ky++)
            for (int kx = 0; kx < KW; kx++) yo[(iy * SH + ky) * OW + ix * SW + kx] += xv * wk[ky * KW + kx];
        }
    }
    if (act)
      for (int i = 0; i < yst; i++) yo[i] = sact(yo[i], act);
  }
}

EXPORT(conv_transpose2d)
void conv_transpose2d(const float* x, int C, int H, int W, const float* w, const float* b, float* y, int OC, int KH,
                      int KW, int SH, int SW, int groups, int act) {
  if (groups < 1) groups = 1;
  const int ICg = C / groups, OCg = OC / groups;
  const int OH = (H - 1) * SH + KH, OW = (W - 1) * SW + KW;
  for (int g = 0; g < groups; g++) {
    const float* xg = x + g * ICg * H * W;
    const float* wg = w + g * ICg * OCg * KH * KW;
    const float* bg = b ? b + g * OCg : 0;
    float* yg = y + g * OCg * OH * OW;
    if (KW == 2 && SW == 2 && KH == SH && W >= 4) ct2(xg, H, W, ICg, wg, bg, yg, OCg, KH, SH, OH, OW, act, 4);
    else ct_scalar(xg, H, W, ICg, wg, bg, yg, OCg, KH, KW, SH, SW, OH, OW, act);
  }
}

// ---------------------------------------------------------------------------------------
// element-wise

EXPORT(add_f32)
void add_f32(const float* a, const float* b, float* y, int n, int act) {
  int i = 0;
  if (act)
    for (; i + 4 <= n; i += 4) vstore(y + i, vact(wasm_f32x4_add(vload(a + i), vload(b + i)), 1));
  else
    for (; i + 4 <= n; i += 4) vstore(y + i, wasm_f32x4_add(vload(a + i), vload(b + i)));
  for (; i < n; i++) y[i] = sact(a[i] + b[i], act);
}

EXPORT(affine_f32)
void affine_f32(const float* x, float* y, int n, float mul, float add) {
  V m = wasm_f32x4_splat(mul), a = wasm_f32x4_splat(add);
  int i = 0;
  for (; i + 4 <= n; i += 4) vstore(y + i, wasm_f32x4_add(wasm_f32x4_mul(vload(x + i), m), a));
  for (; i < n; i++) y[i] = x[i] * mul + add;
}

EXPORT(clip_f32)
void clip_f32(const float* x, float* y, int n, float lo, float hi) {
  V l = wasm_f32x4_splat(lo), h = wasm_f32x4_splat(hi);
  int i = 0;
  for (; i + 4 <= n; i += 4) vstore(y + i, wasm_f32x4_pmin(wasm_f32x4_pmax(vload(x + i), l), h));  // NaN passes through
  for (; i < n; i++) {
    float v = x[i];
    v = v < lo ? lo : v;
    y[i] = hi < v ? hi : v;
  }
}

EXPORT(relu_f32)
void relu_f32(const float* x, float* y, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) vstore(y + i, vact(vload(x + i), 1));
  for (; i < n; i++) y[i] = sact(x[i], 1);
}
