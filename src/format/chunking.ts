// The 'auto' chunking (Index.chunk_rule = 1, format 2.2): one implementation for the
// encoder that chooses it and the readers that derive chunk ranges from it.

/**
 * Layers per chunk for `layers` layers: one layer per chunk for the first 16, then
 * ⌊n/8⌋ layers after n layers, so a chunk is ~1/8 of what came before it: prefixes stay
 * fine-grained in relative terms while the number of chunks (each costs framing, a CRC
 * and a chunk-table entry) stays small: 29 chunks for 64 layers, 41 for 256.
 */
export function autoChunkLayers(layers: number): number[] {
  const out: number[] = [];
  for (let n = 0; n < layers; ) {
    const k = Math.min(layers - n, Math.max(1, Math.floor(n / 8)));
    out.push(k);
    n += k;
  }
  return out;
}

/** Layers per chunk: a fixed count, or 'auto' (autoChunkLayers). */
export function chunkLayers(layers: number, per: number | 'auto'): number[] {
  if (per === 'auto') return autoChunkLayers(layers);
  const out: number[] = [];
  for (let n = 0; n < layers; n += per) out.push(Math.min(per, layers - n));
  return out;
}

/**
 * Layer counts of the first `count` chunks under chunk_rule 1 for a T-layer model (the
 * last one clipped at T), or null when the rule has fewer than `count` chunks.
 */
export function ruleChunkLayers(count: number, T: number): number[] | null {
  const all = autoChunkLayers(T);
  return count <= all.length ? all.slice(0, count) : null;
}

/** Contiguous token ranges from token 0 for chunks of the given token counts. */
export function chunkRanges(tokenCounts: readonly number[]): { tokenStart: number; tokenEnd: number }[] {
  const out: { tokenStart: number; tokenEnd: number }[] = [];
  let start = 0;
  for (const n of tokenCounts) {
    out.push({ tokenStart: start, tokenEnd: start + n });
    start += n;
  }
  return out;
}
