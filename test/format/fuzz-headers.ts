// Fuzzing the header readers the edge and the browser use before any payload (readFirstPaint,
// readHeader), on mutated streams and on headers at the size limit: only MrtFormatError, and
// whatever they accept is within the limits (the size rule, the placeholder within the padded
// image, the total length), so nothing sized from it can be larger than a legal stream's.
import { fullSizeProblem, imageSizeProblem, LIMITS, MrtFormatError, readFirstPaint, readHeader } from '../../src/format/index.ts';
import { rng } from '../codec/fixtures.ts';
import { makeBases, mutateCase, type Base } from './fuzz-core.ts';
import { claimStream } from './hostile.ts';

/** Streams at the edge of the limits, mutated as the synthetic bases are (their messages: preamble, Header, Index). */
function limitBases(): Base[] {
  const claims: [string, Uint8Array][] = [
    ['1024x1024 T=512 K=512', claimStream(1024, 1024, { tokens: 512, coarseLayers: 512 })],
    ['16384x64 T=1024', claimStream(16384, 64, { tokens: 1024 })],
    ['1x1024 window 1024', claimStream(1, 1024, { tokens: 4, window: 1024 })],
    ['8192x8192 as 1024x1024 learned', claimStream(1024, 1024, { tokens: 512, image: [8192, 8192], final: { mime: 'image/avif', byteLength: 1000 } })],
    ['768x512 placeholder 48x32', claimStream(768, 512, { tokens: 512, placeholder: { width: 48, height: 32, data: new Uint8Array(200).fill(9) } })],
  ];
  return claims.map(([name, bytes]) => {
    const info = readHeader(bytes);
    return { name, bytes, tokens: new Uint8Array(0), rcm: null, messages: [[0, 5], [5, info.firstPaintEnd], [info.firstPaintEnd, info.headerEnd]] };
  });
}

export interface HeaderFuzzResult {
  cases: number;
  /** exceptions other than MrtFormatError */
  crashes: string[];
  /** accepted headers past a limit */
  oversized: string[];
  hangs: number;
  accepted: number;
  errors: Record<string, number>;
  maxCaseMs: number;
}

/** Why an accepted header is past a limit, or null. */
function pastLimits(prefix: Uint8Array): string | null {
  const first = readFirstPaint(prefix);
  const p = first.placeholder;
  const size = imageSizeProblem(first.width, first.height, { window: first.window });
  if (size) return `first paint accepted: ${size}`;
  const image = fullSizeProblem(first.imageWidth, first.imageHeight);
  if (image) return `first paint accepted: ${image}`;
  if (p && (p.width > first.paddedWidth || p.height > first.paddedHeight)) return `placeholder ${p.width}x${p.height} larger than ${first.paddedWidth}x${first.paddedHeight}`;
  let info;
  try {
    info = readHeader(prefix);
  } catch (e) {
    if (e instanceof MrtFormatError) return null;
    throw e;
  }
  const l = info.header.layout;
  const tokens = imageSizeProblem(info.header.width, info.header.height, { window: l.window, streamLayers: l.tokensPerWindow + l.coarseLayers });
  if (tokens) return `header accepted: ${tokens}`;
  if (info.header.totalTokens > LIMITS.MAX_TOKENS) return `${info.header.totalTokens} tokens accepted`;
  if (info.totalLength > LIMITS.MAX_TOTAL_BYTES) return `total length ${info.totalLength} accepted`;
  return null;
}

/** `cases` mutated streams through readFirstPaint and readHeader, whole and cut at a random length. */
export function fuzzHeaders(cases: number, seed: number, hangMs = 200): HeaderFuzzResult {
  const bases = [...makeBases(), ...limitBases()];
  const r = rng(seed);
  const res: HeaderFuzzResult = { cases, crashes: [], oversized: [], hangs: 0, accepted: 0, errors: {}, maxCaseMs: 0 };
  for (let c = 0; c < cases; c++) {
    const base = bases[c % bases.length]!;
    const other = bases[Math.floor(r() * bases.length)]!;
    let b = mutateCase(base, other, r);
    if (r() < 0.3) b = b.subarray(0, Math.floor(r() * (b.length + 1)));
    const t0 = performance.now();
    try {
      const why = pastLimits(b);
      res.accepted++;
      if (why && res.oversized.length < 20) res.oversized.push(`case ${c} (${base.name}): ${why}`);
    } catch (e) {
      if (e instanceof MrtFormatError) res.errors[e.code] = (res.errors[e.code] ?? 0) + 1;
      else if (res.crashes.length < 20) res.crashes.push(`case ${c} (${base.name}): ${String((e as Error)?.stack ?? e)}`);
    }
    const ms = performance.now() - t0;
    if (ms > res.maxCaseMs) res.maxCaseMs = ms;
    if (ms > hangMs) res.hangs++;
  }
  return res;
}
