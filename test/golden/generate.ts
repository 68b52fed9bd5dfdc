// Regenerate the golden vectors: npx tsx test/golden/generate.ts
// Only when the format or coding changes on purpose (then every .mrt ever written changes too).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { coarseOnlyToken, createPrior, encodeChunks, parseRcm, serializeRcm, streamSymbols, tokenLayout, tokenProgress } from '../../src/codec/index.ts';
import { autoChunkLayers, chunkLayers, chunkRanges, doublingChunkLayers, readHeader, writeMrt, type MrtChunkInput, type MrtHeaderInput } from '../../src/format/index.ts';
import { fakeRcm, syntheticTokens } from '../codec/fixtures.ts';

const dir = dirname(fileURLToPath(import.meta.url));
mkdirSync(dir, { recursive: true });

// (2.10) with a coarse-trit RCM over 4 layers: the 2.10 vectors have 6 and 3 coarse layers
const rcmJson = serializeRcm({ ...fakeRcm(2024, { D: 6, H: 8, L: 9, T: 6 }), coarse: fakeRcm(2025, { D: 5, H: 7, L: 3, T: 4 }) });
writeFileSync(join(dir, 'rcm-small.json'), rcmJson + '\n');
const rcm = parseRcm(rcmJson);

interface Spec {
  name: string;
  width: number;
  height: number;
  T: number;
  L: number;
  prior: 'static' | 'rcm';
  /** token counts per chunk (default: one layer each, all layers) */
  chunkTokens?: number[];
  placeholder?: number;
  final?: number;
  /** write only the first `cutChunks` chunks (a truncated-but-valid prefix) */
  cutChunks?: number;
  /** format 2.2: the auto chunking (chunk_rule), the chained coder and an 8-byte model hash */
  v22?: boolean;
  /** format 2.4: raw chunk framing (with everything of v22) */
  v24?: boolean;
  /** format 2.5: the doubling chunking (chunk_rule 2; with everything of v24) */
  v25?: boolean;
  /** format 2.6: a compact Index (no grid), no model label and the shared late table, as the encoder writes (with everything of v25) */
  v26?: boolean;
  /** format 2.7: Header and layout without their default values and a 4-byte model hash (with everything of v26) */
  v27?: boolean;
  /** format 2.8: the coarse-first order with this many coarse layers and the late context tables (with everything of v27) */
  v28?: number;
  /** format 2.9: the doubling64 chunking (chunk_rule 3; with everything of v28) */
  v29?: boolean;
  /** format 2.10: the coarse pass coded by the coarse RCM (prior RCM_COARSE; with everything of v28) */
  v210?: boolean;
}

const specs: Spec[] = [
  { name: 'static-64x64', width: 64, height: 64, T: 6, L: 9, prior: 'static' },
  { name: 'rcm-100x70', width: 100, height: 70, T: 6, L: 9, prior: 'rcm', placeholder: 12, final: 16 },
  { name: 'rcm-100x70-prefix3', width: 100, height: 70, T: 6, L: 9, prior: 'rcm', placeholder: 12, final: 16, cutChunks: 3 },
  { name: 'rcm-256x160', width: 256, height: 160, T: 6, L: 9, prior: 'rcm' },
  { name: 'static-L5-ragged', width: 90, height: 33, T: 3, L: 5, prior: 'static', chunkTokens: [1, 7, 4, 5] },
  { name: 'rcm-v22-T20', width: 100, height: 70, T: 20, L: 9, prior: 'rcm', placeholder: 12, v22: true },
  { name: 'rcm-v22-T20-prefix17', width: 100, height: 70, T: 20, L: 9, prior: 'rcm', placeholder: 12, v22: true, cutChunks: 17 },
  { name: 'rcm-v24-T20', width: 100, height: 70, T: 20, L: 9, prior: 'rcm', placeholder: 12, v22: true, v24: true, final: 16 },
  { name: 'rcm-v25-T20', width: 100, height: 70, T: 20, L: 9, prior: 'rcm', placeholder: 12, v22: true, v24: true, v25: true },
  { name: 'rcm-v26-T20', width: 100, height: 70, T: 20, L: 9, prior: 'rcm', placeholder: 12, v22: true, v24: true, v25: true, v26: true },
  { name: 'rcm-v27-T20', width: 100, height: 70, T: 20, L: 9, prior: 'rcm', placeholder: 12, v22: true, v24: true, v25: true, v26: true, v27: true },
  { name: 'rcm-v28-T20', width: 100, height: 70, T: 20, L: 9, prior: 'rcm', placeholder: 12, v22: true, v24: true, v25: true, v26: true, v27: true, v28: 6 },
  { name: 'rcm-v28-T20-prefix3', width: 100, height: 70, T: 20, L: 9, prior: 'rcm', placeholder: 12, v22: true, v24: true, v25: true, v26: true, v27: true, v28: 6, cutChunks: 3 },
  { name: 'rcm-v28-T20-prefix5', width: 100, height: 70, T: 20, L: 9, prior: 'rcm', placeholder: 12, v22: true, v24: true, v25: true, v26: true, v27: true, v28: 6, cutChunks: 5 },
  { name: 'rcm-v29-T260', width: 100, height: 70, T: 260, L: 9, prior: 'rcm', placeholder: 12, v22: true, v24: true, v25: true, v26: true, v27: true, v28: 6, v29: true },
  { name: 'rcm-v29-T260-prefix2', width: 100, height: 70, T: 260, L: 9, prior: 'rcm', placeholder: 12, v22: true, v24: true, v25: true, v26: true, v27: true, v28: 6, v29: true, cutChunks: 2 },
  { name: 'rcm-v210-T260', width: 100, height: 70, T: 260, L: 9, prior: 'rcm', placeholder: 12, v22: true, v24: true, v25: true, v26: true, v27: true, v28: 6, v29: true, v210: true },
  { name: 'rcm-v210-T260-prefix2', width: 100, height: 70, T: 260, L: 9, prior: 'rcm', placeholder: 12, v22: true, v24: true, v25: true, v26: true, v27: true, v28: 6, v29: true, v210: true, cutChunks: 2 },
  { name: 'rcm-v210-T20-K3', width: 100, height: 70, T: 20, L: 9, prior: 'rcm', placeholder: 12, v22: true, v24: true, v25: true, v26: true, v27: true, v28: 3, v210: true },
  { name: 'rcm-v24-T20-prefix9', width: 100, height: 70, T: 20, L: 9, prior: 'rcm', placeholder: 12, v22: true, v24: true, final: 16, cutChunks: 9 },
];
// Vectors written before a format change stay as they are (readers keep reading them):
// only the ones missing on disk are written, unless --all.
const all = process.argv.includes('--all');

for (const s of specs) {
  const K = s.v28 ?? 0;
  const layout = tokenLayout({ gridW: Math.ceil(s.width / 32), gridH: Math.ceil(s.height / 32), tokensPerWindow: s.T, levels: s.L, coarseLayers: K });
  if (!all && existsSync(join(dir, `${s.name}.json`))) continue;
  // chunk sizes count stream symbols (2.8: K more layers of them)
  const sizes = s.chunkTokens ?? (s.v29 ? chunkLayers(s.T + K, 'doubling64').map((n) => n * layout.windows) : s.v25 ? doublingChunkLayers(s.T + K).map((n) => n * layout.windows) : s.v22 ? autoChunkLayers(s.T).map((n) => n * layout.windows) : Array(s.T).fill(layout.windows));
  const count = sizes.reduce((a, b) => a + b, 0);
  // (2.8) a prefix vector holds the tokens of its whole stream
  const tokens = syntheticTokens(layout, (K ? s.name.replace(/-prefix\d+$/, '') : s.name).length * 7 + s.T, count - K * layout.windows);
  const prior = createPrior(layout, s.prior === 'rcm' ? rcm : null, { sharedLate: s.v26, lateContexts: !!s.v28, coarseRcm: s.v210 });
  const ranges = chunkRanges(sizes);
  const coder = s.v22 ? 'chained' : 'restart';
  const payloads = encodeChunks(prior, K ? streamSymbols(layout, tokens) : tokens, ranges, coder);
  const chunks: MrtChunkInput[] = ranges.map((r, k) => ({ ...r, payload: payloads[k]! }));
  const header: MrtHeaderInput = {
    modelId: s.prior === 'rcm' && !s.v26 ? 'golden-rcm-small' : '',
    modelHash: s.prior === 'rcm' ? Uint8Array.from({ length: s.v27 ? 4 : s.v22 ? 8 : 16 }, (_, i) => (i * 37 + 5) & 255) : undefined,
    coder,
    chunkFraming: s.v24 ? 'raw' : 'message',
    width: s.width,
    height: s.height,
    layout: { window: 32, baseFactor: 16, tokensPerWindow: s.T, levels: s.L, ...(K ? { order: 'coarse-first' as const, coarseLayers: K } : {}) },
    prior: s.prior,
    encoderOptions: `golden ${s.name}`,
    compact: s.v26,
    omitDefaults: s.v27,
    sharedLate: s.v26,
    lateContexts: !!s.v28,
    coarseRcm: s.v210,
  };
  if (s.placeholder) header.placeholder = { mime: 'image/webp', width: 2 * layout.gridW, height: 2 * layout.gridH, bytes: Uint8Array.from({ length: s.placeholder }, (_, i) => i) };
  const final = s.final ? { mime: 'image/jpeg', bytes: Uint8Array.from({ length: s.final }, (_, i) => 255 - i) } : undefined;
  let bytes = writeMrt(header, chunks, final);
  const info = readHeader(bytes);
  let known = count;
  let nChunks = chunks.length;
  if (s.cutChunks !== undefined) {
    bytes = bytes.slice(0, info.chunkEnds[s.cutChunks - 1]);
    known = chunks[s.cutChunks - 1]!.tokenEnd;
    nChunks = s.cutChunks;
  }
  writeFileSync(join(dir, `${s.name}.mrt`), bytes);
  const expected = {
    file: `${s.name}.mrt`,
    rcm: s.prior === 'rcm' ? 'rcm-small.json' : null,
    width: s.width,
    height: s.height,
    layout: { gridW: layout.gridW, gridH: layout.gridH, tokensPerWindow: s.T, levels: s.L, ...(K ? { order: 'coarse-first', coarseLayers: K } : {}) },
    bytes: bytes.length,
    chunks: nChunks,
    chunksTotal: chunks.length,
    complete: s.cutChunks === undefined,
    final: final && s.cutChunks === undefined ? { mime: final.mime, bytes: final.bytes.length } : null,
    known,
    // the tokens the `known` symbols tell; (2.8) one known only by its coarse trit c as 3c + 1
    tokens: told(tokens, known),
  };
  writeFileSync(join(dir, `${s.name}.json`), JSON.stringify(expected) + '\n');
  function told(t: Uint8Array, symbols: number): number[] {
    const p = tokenProgress(layout, symbols);
    return Array.from(t.subarray(0, p.coarse), (k, i) => (i < p.exact ? k : coarseOnlyToken(Math.floor(k / 3))));
  }
  console.log(`${s.name}.mrt: ${bytes.length} B, ${known} tokens`);
}
