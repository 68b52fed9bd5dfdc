// Stream order (docs/design.md): stream index i = t*(gh*gw) + y*gw + x, which is also the
// C-order index of the [T, gh, gw] tensors z and mask. This module owns that mapping,
// and (format 2.8) the coarse-first order, whose stream holds K*windows more symbols.
import { COARSE_FIRST_LEVELS } from '../format/types.ts';

export interface LayoutLike {
  gridW: number;
  gridH: number;
  tokensPerWindow: number;
  levels: number;
  window?: number;
  baseFactor?: number;
  /** (2.8, 'coarse-first' order) layers sent as a coarse pass first; 0: layer-major */
  coarseLayers?: number;
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
  /** (2.8) K: layers [0, K) are sent as coarse trits, then their refinement trits, then layers K.. (0: layer-major) */
  readonly coarseLayers: number;
  /** stream length in symbols: total + K * windows */
  readonly streamLength: number;
}

export function tokenLayout(l: LayoutLike): TokenLayout {
  const { gridW, gridH, tokensPerWindow, levels } = l;
  for (const [k, v] of Object.entries({ gridW, gridH, tokensPerWindow, levels })) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`layout.${k} must be a positive integer, got ${v}`);
  }
  if (levels < 2 || levels > 256) throw new RangeError(`layout.levels must be in [2, 256], got ${levels}`);
  const coarseLayers = l.coarseLayers ?? 0;
  if (!Number.isInteger(coarseLayers) || coarseLayers < 0 || coarseLayers > tokensPerWindow) throw new RangeError(`layout.coarseLayers must be an integer in [0, ${tokensPerWindow}], got ${coarseLayers}`);
  if (coarseLayers > 0 && levels !== COARSE_FIRST_LEVELS) throw new RangeError(`a coarse pass needs ${COARSE_FIRST_LEVELS} levels, got ${levels}`);
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
    coarseLayers,
    streamLength: windows * (tokensPerWindow + coarseLayers),
  });
}

/** The layout of a width x height image (gw = ceil(W/S), gh = ceil(H/S)). */
export function layoutForImage(
  width: number,
  height: number,
  model: { tokensPerWindow: number; levels: number; window?: number; baseFactor?: number; coarseLayers?: number },
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

// Coarse-first order (format 2.8; docs/design.md "Coarse pass"). With K = coarseLayers and
// n = windows, stream symbols [0, Kn) are the coarse trits c = floor(k / 3) of tokens
// [0, Kn) (a token's level k in [0, 9) is 3c + r), symbols [Kn, 2Kn) their refinement trits
// r, and symbol j >= 2Kn is the token j - Kn itself. At 0.5-2 KB a prefix then holds a coarse
// value for 3-4x as many tokens as exact values would fit in its bytes, while the whole
// stream costs the same bits (p(k) = p(c) p(r | c)).

/** Coarse bins per token (and refinement levels per bin): COARSE_FIRST_LEVELS = 9 = 3 x 3. */
export const COARSE_BINS = 3;

/** What a token known only by its coarse trit c reads in a token buffer: 3c + 1, its bin's middle level. */
export function coarseOnlyToken(c: number): number {
  return c * COARSE_BINS + 1;
}

/**
 * The decoder's value of a token known only by its coarse trit c, in level units from the
 * centre: (c - 1) * COARSE_LEVEL_OFFSET. Display only (not in the entropy path). 2.5 levels:
 * the best of 1.9 / 2.2 / 2.5 / 2.8 for mrt-v0.7 on 6 Kodak images (the outer bins'
 * centroid is ~2.2, but the decoder damps inputs it never saw in training).
 */
export const COARSE_LEVEL_OFFSET = 2.5;

/** What the first `known` stream symbols tell: tokens [0, exact) exactly, [exact, coarse) by their coarse trit. */
export interface TokenProgress {
  exact: number;
  coarse: number;
}

export function tokenProgress(l: TokenLayout, known: number): TokenProgress {
  const kn = l.coarseLayers * l.windows;
  const s = Math.max(0, Math.min(known, l.streamLength));
  if (s <= kn) return { exact: 0, coarse: s };
  if (s <= 2 * kn) return { exact: s - kn, coarse: kn };
  return { exact: s - kn, coarse: s - kn };
}

/**
 * The stream symbols of the first layers' tokens (C order of [T, gh, gw], whole layers, at
 * least the coarse ones) in the layout's stream order.
 */
export function streamSymbols(l: TokenLayout, tokens: ArrayLike<number>): Uint8Array {
  const kn = l.coarseLayers * l.windows;
  const n = tokens.length;
  if (n > l.total || n < kn || n % l.windows) throw new RangeError(`streamSymbols: ${n} tokens are not whole layers covering the ${l.coarseLayers} coarse ones`);
  const out = new Uint8Array(n + kn);
  for (let i = 0; i < kn; i++) {
    const k = tokens[i]!;
    out[i] = Math.floor(k / COARSE_BINS);
    out[kn + i] = k % COARSE_BINS;
  }
  for (let i = kn; i < n; i++) out[kn + i] = tokens[i]!;
  return out;
}
