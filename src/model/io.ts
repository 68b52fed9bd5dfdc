// Model input/output tensors, shared by the Node encoder/decoder and the browser worker.
// Layouts follow docs/design.md: CHW float32 in [0, 1], images padded to the window grid.

export interface ModelLayout {
  /** Window side in pixels (32). */
  window: number;
  /** The placeholder (model input `base`) is the padded image divided by this (16). */
  baseFactor: number;
  /** Tokens per window (T). */
  tokens: number;
  /** FSQ levels per token (L). */
  levels: number;
}

/** models/manifest.json (docs/design.md), read by the Node encoder and the browser worker. */
export interface Manifest {
  id: string;
  files: Record<string, { sha256: string; bytes: number }>;
  layout: ModelLayout;
  modelHash: string;
  /**
   * Optional (models with more than 64 layers): the browser's decoder graph. It takes
   * decoder.onnx's inputs plus `tail`, the linear synthesis of the tokens from `layers` on,
   * which the browser sums from the `tail` basis file (src/model/tail.ts); the same image as
   * decoder.onnx within 2e-3. Both files are listed in `files`, not part of modelHash.
   */
  splitDecoder?: { file: string; tail: string; layers: number };
  /**
   * Optional: the browser's lean decoder (src/model/lean), converted from `source` (the split
   * decoder, else decoder.onnx) by scripts/build-lean-model.ts: `file` the graph with
   * `weights`-stored kernels, `tail` the split decoder's tail basis as int8 with `tailLevels`
   * steps each side of zero. Derived, not in modelHash.
   */
  lean?: { file: string; tail?: string; source: string; weights: 'i8' | 'f16' | 'f32'; tailLevels: number };
  /**
   * Optional: the decoder's mask input for a token known only by its coarse trit (container 2.8
   * coarse-first order; src/codec/regenerate.ts tokensToZ). Default 1, as for an exact token;
   * a decoder trained with a smaller value tells the two apart. Display only, not in modelHash.
   */
  coarseMask?: number;
}

export interface Geometry {
  width: number;
  height: number;
  gridW: number;
  gridH: number;
  /** Padded size: a whole number of windows. */
  paddedW: number;
  paddedH: number;
  baseW: number;
  baseH: number;
}

export function geometry(width: number, height: number, layout: Pick<ModelLayout, 'window' | 'baseFactor'>): Geometry {
  const gridW = Math.ceil(width / layout.window);
  const gridH = Math.ceil(height / layout.window);
  const paddedW = gridW * layout.window;
  const paddedH = gridH * layout.window;
  return { width, height, gridW, gridH, paddedW, paddedH, baseW: paddedW / layout.baseFactor, baseH: paddedH / layout.baseFactor };
}

/** Interleaved 8-bit pixels (RGB or RGBA) → CHW float32 RGB in [0, 1], padded by edge replication. */
export function pixelsToChw(px: ArrayLike<number>, w: number, h: number, channels: 3 | 4, outW = w, outH = h): Float32Array {
  const out = new Float32Array(3 * outW * outH);
  const plane = outW * outH;
  for (let y = 0; y < outH; y++) {
    const sy = y < h ? y : h - 1;
    for (let x = 0; x < outW; x++) {
      const sx = x < w ? x : w - 1;
      const s = (sy * w + sx) * channels;
      const d = y * outW + x;
      out[d] = px[s] / 255;
      out[plane + d] = px[s + 1] / 255;
      out[2 * plane + d] = px[s + 2] / 255;
    }
  }
  return out;
}

/** CHW float32 in [0, 1] (size srcW × srcH) → interleaved 8-bit pixels cropped to w × h. */
export function chwToPixels(chw: Float32Array, srcW: number, srcH: number, w: number, h: number, channels: 3 | 4): Uint8ClampedArray {
  const out = new Uint8ClampedArray(w * h * channels);
  const plane = srcW * srcH;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const s = y * srcW + x;
      const d = (y * w + x) * channels;
      // Uint8ClampedArray rounds half to even and clamps.
      out[d] = chw[s] * 255;
      out[d + 1] = chw[plane + s] * 255;
      out[d + 2] = chw[2 * plane + s] * 255;
      if (channels === 4) out[d + 3] = 255;
    }
  }
  return out;
}

/** Quantises a continuous latent in [-1, 1] to its level. */
export function quantise(z: number, levels: number): number {
  const k = Math.round(((z + 1) / 2) * (levels - 1));
  return k < 0 ? 0 : k >= levels ? levels - 1 : k;
}

/** The manifest's `coarseMask` (default 1); throws on a value outside (0, 1]. */
export function coarseMaskOf(manifest: Manifest): number {
  const v = manifest.coarseMask ?? 1;
  if (typeof v !== 'number' || !(v > 0 && v <= 1)) throw new RangeError(`manifest coarseMask must be a number in (0, 1], got ${JSON.stringify(manifest.coarseMask)}`);
  return v;
}
