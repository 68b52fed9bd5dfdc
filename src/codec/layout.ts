// Stream order (docs/design.md): stream index i = t*(gh*gw) + y*gw + x, which is also the
// C-order index of the [T, gh, gw] tensors z and mask. This module owns that mapping.

export interface LayoutLike {
  gridW: number;
  gridH: number;
  tokensPerWindow: number;
  levels: number;
  window?: number;
  baseFactor?: number;
}

export interface TokenLayout {
  readonly gridW: number;
  readonly gridH: number;
  readonly tokensPerWindow: number;
  readonly levels: number;
  readonly window: number;
  readonly baseFactor: number;
  /** windows per layer = gridW * gridH */
  readonly windows: number;
  /** total tokens = windows * tokensPerWindow */
  readonly total: number;
}

export function tokenLayout(l: LayoutLike): TokenLayout {
  const { gridW, gridH, tokensPerWindow, levels } = l;
  for (const [k, v] of Object.entries({ gridW, gridH, tokensPerWindow, levels })) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`layout.${k} must be a positive integer, got ${v}`);
  }
  if (levels < 2 || levels > 256) throw new RangeError(`layout.levels must be in [2, 256], got ${levels}`);
  const windows = gridW * gridH;
  return Object.freeze({
    gridW,
    gridH,
    tokensPerWindow,
    levels,
    window: l.window ?? 32,
    baseFactor: l.baseFactor ?? 16,
    windows,
    total: windows * tokensPerWindow,
  });
}

/** The layout of a width x height image (gw = ceil(W/S), gh = ceil(H/S)). */
export function layoutForImage(
  width: number,
  height: number,
  model: { tokensPerWindow: number; levels: number; window?: number; baseFactor?: number },
): TokenLayout {
  const window = model.window ?? 32;
  return tokenLayout({ ...model, window, gridW: Math.ceil(width / window), gridH: Math.ceil(height / window) });
}

export function streamIndex(l: TokenLayout, t: number, y: number, x: number): number {
  return t * l.windows + y * l.gridW + x;
}

export function tokenPosition(l: TokenLayout, i: number): { t: number; y: number; x: number } {
  const t = Math.floor(i / l.windows);
  const r = i - t * l.windows;
  const y = Math.floor(r / l.gridW);
  return { t, y, x: r - y * l.gridW };
}

/** Token value for the decoder: v = (k - (L-1)/2) / ((L-1)/2) in [-1, 1]. */
export function tokenValue(k: number, levels: number): number {
  const h = (levels - 1) / 2;
  return (k - h) / h;
}
