// Deterministic synthetic data for tests, golden vectors and benches.
import { serializeRcm, parseRcm, type RcmWeights } from '../../src/codec/index.ts';
import type { TokenLayout } from '../../src/codec/index.ts';

/** xorshift32 PRNG in [0, 1) */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

/**
 * Synthetic tokens with structure like the real ones: coarse layers spread over all levels,
 * fine layers concentrated near the middle, spatial correlation within a layer.
 */
export function syntheticTokens(layout: TokenLayout, seed: number, count = layout.total): Uint8Array {
  const r = rng(seed);
  const { gridW: gw, gridH: gh, tokensPerWindow: T, levels: L } = layout;
  const out = new Uint8Array(count);
  const mid = (L - 1) / 2;
  const field = new Float64Array(gw * gh);
  for (let t = 0; t < T; t++) {
    const spread = mid * (1.2 / (1 + t / 6));
    for (let y = 0; y < gh; y++) {
      for (let x = 0; x < gw; x++) {
        const left = x > 0 ? field[y * gw + x - 1]! : 0;
        const up = y > 0 ? field[(y - 1) * gw + x]! : 0;
        const v = 0.45 * left + 0.35 * up + (r() - 0.5) * 1.6;
        field[y * gw + x] = v;
        const i = t * gw * gh + y * gw + x;
        if (i >= count) return out;
        const k = Math.round(mid + v * spread);
        out[i] = Math.max(0, Math.min(L - 1, k));
      }
    }
  }
  return out;
}

/** A small random RCM (weights exactly representable in float32). */
export function fakeRcm(seed: number, dims: { D: number; H: number; L: number; T: number }): RcmWeights {
  const r = rng(seed);
  const { D, H, L, T } = dims;
  const g = (n: number, s: number) => Float64Array.from({ length: n }, () => (r() * 2 - 1) * s);
  const w = {
    D, H, L, T,
    decay: Float64Array.from({ length: D }, () => 0.5 + 0.45 * r()),
    E_self: g(T * L * D, 0.5),
    P: g(T * D, 0.5),
    N_left: g((L + 1) * D, 0.5),
    N_up: g((L + 1) * D, 0.5),
    N_ul: g((L + 1) * D, 0.3),
    N_ur: g((L + 1) * D, 0.3),
    W1: g(H * D, 1 / Math.sqrt(D)),
    b1: g(H, 0.1),
    W2: g(L * H, 2 / Math.sqrt(H)),
    b2: g(L, 0.5),
  };
  return parseRcm(serializeRcm(w));
}

export function fakeRcmJson(seed: number, dims: { D: number; H: number; L: number; T: number }): string {
  return serializeRcm(fakeRcm(seed, dims));
}
