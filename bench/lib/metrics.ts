// Image quality metrics for benchmarks: RGB PSNR and MS-SSIM (on luma, Wang et al. 2003).

/** RGB PSNR in dB between two interleaved 8-bit images of the same size (3 or 4 channels, alpha ignored). */
export function psnr(a: ArrayLike<number>, b: ArrayLike<number>, channels = 3): number {
  if (a.length !== b.length) throw new Error(`psnr: sizes differ (${a.length} vs ${b.length})`);
  let se = 0;
  let n = 0;
  for (let i = 0; i < a.length; i += channels) {
    for (let c = 0; c < 3; c++) {
      const d = a[i + c] - b[i + c];
      se += d * d;
    }
    n += 3;
  }
  const mse = se / n;
  return mse === 0 ? 99 : 10 * Math.log10((255 * 255) / mse);
}

function luma(px: ArrayLike<number>, w: number, h: number, channels: number): Float64Array {
  const y = new Float64Array(w * h);
  for (let i = 0, p = 0; i < y.length; i++, p += channels) y[i] = 0.299 * px[p] + 0.587 * px[p + 1] + 0.114 * px[p + 2];
  return y;
}

const GAUSS = (() => {
  const k = new Float64Array(11);
  let s = 0;
  for (let i = 0; i < 11; i++) s += k[i] = Math.exp(-((i - 5) ** 2) / (2 * 1.5 * 1.5));
  for (let i = 0; i < 11; i++) k[i] /= s;
  return k;
})();

/** Separable 11-tap Gaussian filter, 'valid' region only. */
function blur(x: Float64Array, w: number, h: number): { data: Float64Array; w: number; h: number } {
  const ow = w - 10;
  const oh = h - 10;
  const tmp = new Float64Array(ow * h);
  for (let y = 0; y < h; y++) for (let i = 0; i < ow; i++) {
    let s = 0;
    for (let k = 0; k < 11; k++) s += GAUSS[k] * x[y * w + i + k];
    tmp[y * ow + i] = s;
  }
  const out = new Float64Array(ow * oh);
  for (let j = 0; j < oh; j++) for (let i = 0; i < ow; i++) {
    let s = 0;
    for (let k = 0; k < 11; k++) s += GAUSS[k] * tmp[(j + k) * ow + i];
    out[j * ow + i] = s;
  }
  return { data: out, w: ow, h: oh };
}

function ssimParts(a: Float64Array, b: Float64Array, w: number, h: number): { ssim: number; cs: number } {
  const C1 = (0.01 * 255) ** 2;
  const C2 = (0.03 * 255) ** 2;
  const mul = (p: Float64Array, q: Float64Array) => p.map((v, i) => v * q[i]);
  const ma = blur(a, w, h).data;
  const mb = blur(b, w, h).data;
  const saa = blur(mul(a, a), w, h).data;
  const sbb = blur(mul(b, b), w, h).data;
  const sab = blur(mul(a, b), w, h).data;
  let ssim = 0;
  let cs = 0;
  for (let i = 0; i < ma.length; i++) {
    const va = saa[i] - ma[i] * ma[i];
    const vb = sbb[i] - mb[i] * mb[i];
    const cov = sab[i] - ma[i] * mb[i];
    const c = (2 * cov + C2) / (va + vb + C2);
    cs += c;
    ssim += ((2 * ma[i] * mb[i] + C1) / (ma[i] * ma[i] + mb[i] * mb[i] + C1)) * c;
  }
  return { ssim: ssim / ma.length, cs: cs / ma.length };
}

function down2(x: Float64Array, w: number, h: number): { data: Float64Array; w: number; h: number } {
  const ow = w >> 1;
  const oh = h >> 1;
  const out = new Float64Array(ow * oh);
  for (let j = 0; j < oh; j++) for (let i = 0; i < ow; i++) {
    const p = 2 * j * w + 2 * i;
    out[j * ow + i] = (x[p] + x[p + 1] + x[p + w] + x[p + w + 1]) / 4;
  }
  return { data: out, w: ow, h: oh };
}

const MS_WEIGHTS = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333];

/** MS-SSIM on luma (5 scales, standard weights); images must be at least 176 px a side. */
export function msssim(a: ArrayLike<number>, b: ArrayLike<number>, w: number, h: number, channels = 3): number {
  let x = luma(a, w, h, channels);
  let y = luma(b, w, h, channels);
  let cw = w;
  let ch = h;
  let result = 1;
  for (let s = 0; s < 5; s++) {
    const { ssim, cs } = ssimParts(x, y, cw, ch);
    const v = s === 4 ? ssim : cs;
    result *= Math.pow(Math.max(v, 0), MS_WEIGHTS[s]);
    if (s < 4) {
      const dx = down2(x, cw, ch);
      const dy = down2(y, cw, ch);
      x = dx.data;
      y = dy.data;
      cw = dx.w;
      ch = dx.h;
    }
  }
  return result;
}
