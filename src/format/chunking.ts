// Chunking rules (Index.chunk_rule): 1 = 'auto' (format 2.2), 2 = 'doubling' (2.5),
// 3 = 'doubling64' (2.9). One implementation for the encoder that chooses a rule and the
// readers that derive chunk ranges from it.

/** The rules by their chunk_rule number. */
export const CHUNK_RULES = { 1: 'auto', 2: 'doubling', 3: 'doubling64' } as const;
export type ChunkRule = (typeof CHUNK_RULES)[keyof typeof CHUNK_RULES];

/** Whether `x` names a chunking rule ('auto', 'doubling', 'doubling64'). */
export function isChunkRule(x: unknown): x is ChunkRule {
  return (Object.values(CHUNK_RULES) as unknown[]).includes(x);
}

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

/**
 * Layers per chunk for `layers` layers: the first `first` layers, then doubling: chunk k ≥ 1
 * covers layers [first·2^(k-1), first·2^k). With first = 1 ('doubling', 2.5: layer 0, then
 * [2^(k-1), 2^k); 10 chunks for 512 layers). Since readers decode the tokens of a partly
 * received chunk (raw framing, 2.4) and byte budgets are cut exactly, chunks no longer set
 * where a prefix can end: they are where the checksum is, and each costs a crc and a
 * chunk-table entry. Past the first chunk, at least half of the layers a prefix holds are checked.
 */
export function doublingChunkLayers(layers: number, first = 1): number[] {
  const out: number[] = [];
  for (let n = 0; n < layers; ) {
    const k = Math.min(layers - n, Math.max(first, n));
    out.push(k);
    n += k;
  }
  return out;
}

/**
 * 'doubling64' (2.9) starts with 64 layers: in the coarse-first order the first layers are
 * coarse trits of a few bytes each, and 4-byte checksums on chunks of one layer were a tenth of
 * a 512 B prefix's tokens. Kodak, mrt-v0.7 (bench/rd.ts against 'doubling'), dB at 512 B / 1 K /
 * 2 K / 4 K / 8 K with a first chunk of 16 layers: +0.065 / +0.030 / +0.023 / +0.008 / +0.002;
 * of 32: +0.072 / +0.038 / +0.027 / +0.010 / +0.003; of 64: +0.077 / +0.046 / +0.033 / +0.013 /
 * +0.003. Up to 128 layers (2 KB) a prefix is then unchecked until its first chunk is whole: its
 * tokens are provisional, and withdrawn if that chunk's checksum fails.
 */
export const DOUBLING64_FIRST = 64;

/** Layers per chunk: a fixed count, or a rule ('auto', 'doubling', 'doubling64'). */
export function chunkLayers(layers: number, per: number | ChunkRule): number[] {
  if (per === 'auto') return autoChunkLayers(layers);
  if (per === 'doubling') return doublingChunkLayers(layers);
  if (per === 'doubling64') return doublingChunkLayers(layers, DOUBLING64_FIRST);
  const out: number[] = [];
  for (let n = 0; n < layers; n += per) out.push(Math.min(per, layers - n));
  return out;
}

/**
 * Layer counts of the first `count` chunks under chunk_rule `rule` for a T-layer model (the
 * last one clipped at T), or null when the rule has fewer than `count` chunks.
 */
export function ruleChunkLayers(rule: ChunkRule, count: number, T: number): number[] | null {
  const all = chunkLayers(T, rule);
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
