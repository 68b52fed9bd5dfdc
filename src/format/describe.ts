// `mrt info`: a plain description of a header (JSON-able) and a text formatter.
import { hex } from './model-hash.ts';
import { learnedEnd } from './header.ts';
import type { MrtHeaderInfo } from './types.ts';

export interface MrtDescription {
  version: string;
  /** id: the label stored in the file (2.6 encoders store none: null) or, failing that, what `modelIdFor` names the hash */
  model: { id: string | null; hash: string };
  image: { width: number; height: number };
  /** the learned layer: its size (2.11: a downscaled copy of a larger image) and its bytes (the chunks) */
  learned: { width: number; height: number; bytes: number };
  /** where the bytes go: the first paint and Index, the learned chunks, the final layer */
  split: { header: number; learned: number; final: number };
  /** order 'layer-major' or (2.8) 'coarse-first' with coarseLayers >= 1; totalTokens counts stream symbols (2.8: the coarse trits too) */
  layout: { window: number; baseFactor: number; grid: [number, number]; tokensPerWindow: number; levels: number; order: string; coarseLayers: number; totalTokens: number };
  prior: string;
  /** (2.6) the layers past the RCM share one static table */
  sharedLate: boolean;
  /** (2.8) that table is one per neighbourhood context */
  lateContexts: boolean;
  /** (2.10) the coarse pass is coded by the model's coarse-trit RCM */
  coarseRcm: boolean;
  /** how chunks are entropy-coded: "restart" (2.0) or "chained" (2.2) */
  coder: string;
  /** how chunks are framed: "message" (2.0) or "raw" (2.4: payload + crc32, no length prefix) */
  chunkFraming: string;
  /** preamble + Header message: the bytes a client needs to paint the placeholder */
  firstPaintBytes: number;
  /** the Index message (with its length prefix): model, layout, chunk table, ... */
  indexBytes: number;
  /** firstPaintBytes + indexBytes: where chunk 0 starts */
  headerBytes: number;
  totalBytes: number;
  /** bytes: in the stream; fileBytes: the image file a reader rebuilds (compact AVIF, 2.3) */
  placeholder: { mime: string; width: number; height: number; bytes: number; fileBytes?: number } | null;
  final: { mime: string; bytes: number; end: number } | null;
  contentHash: string | null;
  encoderOptions: string | null;
  chunks: { index: number; tokens: [number, number]; bytes: number; end: number }[];
}

/** `modelIdFor`: names a stored model hash the file carries no label for (e.g. from a local manifest). */
export function describe(info: MrtHeaderInfo, modelIdFor?: (hash: Uint8Array) => string | undefined): MrtDescription {
  const h = info.header;
  const l = h.layout;
  const learnedBytes = learnedEnd(info) - info.headerEnd;
  return {
    version: `${h.version.major}.${h.version.minor}`,
    model: { id: h.modelId || (h.modelHash.length ? modelIdFor?.(h.modelHash) : undefined) || null, hash: hex(h.modelHash) },
    image: { width: h.imageWidth, height: h.imageHeight },
    learned: { width: h.width, height: h.height, bytes: learnedBytes },
    split: { header: info.headerEnd, learned: learnedBytes, final: info.totalLength - info.headerEnd - learnedBytes },
    layout: {
      window: l.window,
      baseFactor: l.baseFactor,
      grid: [l.gridW, l.gridH],
      tokensPerWindow: l.tokensPerWindow,
      levels: l.levels,
      order: l.order,
      coarseLayers: l.coarseLayers ?? 0,
      totalTokens: h.totalTokens,
    },
    prior: h.prior,
    sharedLate: h.sharedLate,
    lateContexts: h.lateContexts,
    coarseRcm: h.coarseRcm,
    coder: h.coder,
    chunkFraming: h.chunkFraming,
    firstPaintBytes: info.firstPaintEnd,
    indexBytes: info.headerEnd - info.firstPaintEnd,
    headerBytes: info.headerEnd,
    totalBytes: info.totalLength,
    placeholder: h.placeholder
      ? { mime: h.placeholder.mime, width: h.placeholder.width, height: h.placeholder.height, bytes: h.placeholder.storedBytes ?? h.placeholder.bytes.length, ...(h.placeholder.storedBytes !== undefined ? { fileBytes: h.placeholder.bytes.length } : {}) }
      : null,
    final: h.final && info.finalEnd !== undefined ? { mime: h.final.mime, bytes: h.final.byteLength, end: info.finalEnd } : null,
    contentHash: h.contentHash ? hex(h.contentHash) : null,
    encoderOptions: h.encoderOptions ?? null,
    chunks: h.chunks.map((c, k) => ({ index: c.index, tokens: [c.tokenStart, c.tokenEnd], bytes: c.byteLength, end: info.chunkEnds[k]! })),
  };
}

/** Human-readable `mrt info` text. `actualBytes` (the file's length) marks a truncated prefix. */
export function formatInfo(info: MrtHeaderInfo, actualBytes?: number, modelIdFor?: (hash: Uint8Array) => string | undefined): string {
  const d = describe(info, modelIdFor);
  const lines: string[] = [];
  const downscaled = d.learned.width !== d.image.width || d.learned.height !== d.image.height;
  lines.push(`MRT ${d.version}  ${d.image.width}x${d.image.height}${downscaled ? ` (learned layer ${d.learned.width}x${d.learned.height})` : ''}  model ${d.model.id ?? '(unnamed)'} ${d.model.hash}`);
  const pct = (n: number) => `${((100 * n) / d.totalBytes).toFixed(1)} %`;
  lines.push(`split    header ${d.split.header} B (${pct(d.split.header)}), learned ${d.split.learned} B (${pct(d.split.learned)}), final ${d.split.final} B (${pct(d.split.final)})`);
  lines.push(
    `layout   window ${d.layout.window}, grid ${d.layout.grid[0]}x${d.layout.grid[1]}, T=${d.layout.tokensPerWindow}, L=${d.layout.levels}, ` +
      `${d.layout.order}${d.layout.coarseLayers ? ` (${d.layout.coarseLayers} coarse layers)` : ''}, ${d.layout.totalTokens} ${d.layout.coarseLayers ? 'symbols' : 'tokens'}, base /${d.layout.baseFactor}`,
  );
  const late = d.lateContexts ? 'the layers past it: shared static tables by neighbourhood' : d.sharedLate ? 'the layers past it: one shared static table' : '';
  const coarse = d.layout.coarseLayers ? `coarse pass: ${d.coarseRcm ? 'the coarse RCM' : 'static tables by neighbourhood'}` : '';
  const priorNote = late ? ` (${[late, coarse].filter(Boolean).join('; ')})` : coarse ? `; ${coarse}` : '';
  lines.push(`prior    ${d.prior}${priorNote}, coder ${d.coder}, chunk framing ${d.chunkFraming}`);
  const phBytes = d.placeholder ? d.placeholder.bytes : 0;
  lines.push(`first paint ${d.firstPaintBytes} B (preamble + header: placeholder ${phBytes} B, rest ${d.firstPaintBytes - phBytes} B)`);
  lines.push(`index    ${d.indexBytes} B (model, layout, prior, chunk table, ...); chunk 0 starts at ${d.headerBytes}`);
  if (d.placeholder) {
    const file = d.placeholder.fileBytes !== undefined ? ` (its AV1 bitstream; ${d.placeholder.fileBytes} B as a file)` : '';
    lines.push(`placeholder ${d.placeholder.mime} ${d.placeholder.width}x${d.placeholder.height}, ${d.placeholder.bytes} B${file}`);
  }
  if (d.final) lines.push(`final    ${d.final.mime}, ${d.final.bytes} B, ends at ${d.final.end}`);
  if (d.contentHash) lines.push(`content  ${d.contentHash}`);
  if (d.encoderOptions) lines.push(`options  ${d.encoderOptions}`);
  let total = `total    ${d.totalBytes} B, ${d.chunks.length} chunks`;
  if (actualBytes !== undefined && actualBytes < d.totalBytes) {
    const whole = info.chunkEnds.filter((e) => e <= actualBytes).length;
    total += `  (this file: ${actualBytes} B, truncated prefix with ${whole} whole chunks)`;
  }
  lines.push(total);
  lines.push('chunk     tokens              bytes      end');
  for (const c of d.chunks) {
    lines.push(
      `${String(c.index).padStart(5)}  ${`[${c.tokens[0]}, ${c.tokens[1]})`.padEnd(20)}${String(c.bytes).padStart(6)}  ${String(c.end).padStart(8)}`,
    );
  }
  return lines.join('\n');
}
