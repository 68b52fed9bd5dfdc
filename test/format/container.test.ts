import { describe as suite, expect, it } from 'vitest';
import protobuf from 'protobufjs';
import { fileURLToPath } from 'node:url';
import {
  describe,
  formatInfo,
  LIMITS,
  MrtFormatError,
  MrtParser,
  parseMrt,
  prefixLength,
  isCut,
  readFirstPaint,
  readHeader,
  writeMrt,
  crc32,
  headCrc,
  autoChunkLayers,
  doublingChunkLayers,
  chunkLayers,
  modelHashMatches,
  modelLabel,
  bytesAndCrcMessageSize,
  chunkByteLength,
  splitRawChunk,
  type MrtEvent,
} from '../../src/format/index.ts';
import { createPrior, decodeChunk, decodeMrt, StreamDecoder, tokenLayout } from '../../src/codec/index.ts';
import { RANS_L } from '../../src/codec/rans.ts';
import { mrt } from '../../src/format/gen/mrt.js';
import { decodeChunkSizes, encodeChunkSizes } from '../../src/format/table.ts';
import { readVarint, writeVarint, varintSize } from '../../src/format/varint.ts';
import { fakeRcm, rng } from '../codec/fixtures.ts';
import { syntheticStream } from './helpers.ts';
import { framedStream } from './hostile.ts';

const protoPath = fileURLToPath(new URL('../../proto/mrt.proto', import.meta.url));

function chunksOf(events: MrtEvent[]) {
  return events.filter((e) => e.type === 'chunk') as Extract<MrtEvent, { type: 'chunk' }>[];
}
function errorOf(events: MrtEvent[]) {
  const e = events.find((e) => e.type === 'error') as Extract<MrtEvent, { type: 'error' }> | undefined;
  return e?.error;
}

/** the raw Header and Index message bodies of a stream */
function headMessages(bytes: Uint8Array): { header: Uint8Array; index: Uint8Array } {
  const info = readHeader(bytes);
  const hStart = 5 + varintSize(info.firstPaintEnd - 5 - 1);
  const iLen = info.headerEnd - info.firstPaintEnd;
  const iStart = info.firstPaintEnd + varintSize(iLen - 1);
  return { header: bytes.subarray(hStart, info.firstPaintEnd), index: bytes.subarray(iStart, info.headerEnd) };
}

/** rebuild a stream from raw Header and Index messages + the original messages after them */
function withHeadMessages(bytes: Uint8Array, headerMsg: Uint8Array, indexMsg: Uint8Array, preamble = bytes.subarray(0, 5)): Uint8Array {
  return framedStream(preamble, headerMsg, indexMsg, bytes.subarray(readHeader(bytes).headerEnd));
}


suite('container round trip', () => {
  const s = syntheticStream({ width: 768, height: 512, placeholderBytes: 200, finalBytes: 3000, contentHash: true });

  it('readHeader returns every field and the byte geometry', () => {
    const info = readHeader(s.bytes);
    const h = info.header;
    expect(h.width).toBe(768);
    expect(h.height).toBe(512);
    expect(h.layout).toEqual({ window: 32, baseFactor: 16, coarseLayers: 0, gridW: 24, gridH: 16, tokensPerWindow: 64, levels: 9, order: 'layer-major' });
    expect(h.prior).toBe('static');
    expect(h.modelId).toBe('test-v0');
    expect([...h.modelHash]).toEqual([...s.header.modelHash!]);
    expect(h.placeholder!.bytes).toEqual(s.header.placeholder!.bytes);
    expect(h.contentHash).toEqual(s.header.contentHash);
    expect(h.final!.mime).toBe('image/avif');
    expect(h.chunks.length).toBe(64);
    expect(h.chunks.map((c) => [c.tokenStart, c.tokenEnd])).toEqual(s.chunks.map((c) => [c.tokenStart, c.tokenEnd]));
    expect(info.totalLength).toBe(s.bytes.length);
    expect(info.finalEnd).toBe(s.bytes.length);
    // the first paint: preamble + Header message (size, window, placeholder), then the Index
    expect(info.firstPaintEnd).toBeGreaterThan(5 + 200);
    expect(info.firstPaintEnd).toBeLessThan(info.headerEnd);
    const first = readFirstPaint(s.bytes.subarray(0, info.firstPaintEnd));
    expect(first).toEqual({
      version: { major: 2, minor: 0 },
      width: 768,
      height: 512,
      imageWidth: 768,
      imageHeight: 512,
      window: 32,
      paddedWidth: 768,
      paddedHeight: 512,
      placeholder: h.placeholder,
      firstPaintEnd: info.firstPaintEnd,
    });
    // chunk ends are message boundaries: the parser agrees
    const ev = parseMrt(s.bytes);
    expect(chunksOf(ev).map((c) => c.end)).toEqual(info.chunkEnds);
    expect(ev.at(-1)).toEqual({ type: 'end', chunks: 64, chunksTotal: 64, final: true, complete: true });
    expect(ev.slice(0, 2).map((e) => e.type)).toEqual(['placeholder', 'header']);
  });

  it('the placeholder event comes as soon as the Header message is complete, before the Index', () => {
    const info = readHeader(s.bytes);
    const p = new MrtParser();
    expect(p.push(s.bytes.subarray(0, info.firstPaintEnd - 1))).toEqual([]);
    const ev = p.push(s.bytes.subarray(info.firstPaintEnd - 1, info.firstPaintEnd));
    expect(ev.length).toBe(1);
    const e = ev[0]!;
    if (e.type !== 'placeholder') throw new Error(e.type);
    expect(e.width).toBe(768);
    expect(e.height).toBe(512);
    expect(e.placeholder).toEqual({ mime: 'image/webp', width: 48, height: 32, bytes: s.header.placeholder!.bytes });
    expect(e.first.firstPaintEnd).toBe(info.firstPaintEnd);
    expect(p.firstPaint).toEqual(e.first);
    expect(p.header).toBeUndefined();
    expect(p.push(s.bytes.subarray(info.firstPaintEnd, info.headerEnd - 1))).toEqual([]);
    const hv = p.push(s.bytes.subarray(info.headerEnd - 1, info.headerEnd));
    expect(hv.map((x) => x.type)).toEqual(['header']);
    expect((hv[0] as Extract<MrtEvent, { type: 'header' }>).info).toEqual(info);
    // readFirstPaint needs exactly the first paint
    expect(() => readFirstPaint(s.bytes.subarray(0, info.firstPaintEnd - 1))).toThrow(/header needs/);
    expect(readFirstPaint(s.bytes.subarray(0, info.firstPaintEnd)).placeholder!.bytes).toEqual(s.header.placeholder!.bytes);
  });

  it('placeholder MIME: image/webp is the default (not written), others round trip', () => {
    const t = syntheticStream({ width: 100, height: 60, T: 4, placeholderBytes: 20 });
    const other = writeMrt({ ...t.header, placeholder: { ...t.header.placeholder!, mime: 'image/avif' } }, t.chunks);
    expect(other.length - t.bytes.length).toBe(12); // field tag + length + "image/avif"
    expect(readHeader(other).header.placeholder!.mime).toBe('image/avif');
    expect(readHeader(t.bytes).header.placeholder!.mime).toBe('image/webp');
    const none = syntheticStream({ width: 100, height: 60, T: 4 });
    expect(readFirstPaint(none.bytes).placeholder).toBeUndefined();
    expect(parseMrt(none.bytes)[0]).toMatchObject({ type: 'placeholder', width: 100, height: 60 });
    // the padded size the placeholder covers (crop before the Index arrives)
    expect(readFirstPaint(none.bytes)).toMatchObject({ paddedWidth: 128, paddedHeight: 64, window: 32 });
  });

  it('parser delivers the same events for any split of the input', () => {
    const whole = parseMrt(s.bytes);
    const r = rng(5);
    for (let rep = 0; rep < 5; rep++) {
      const p = new MrtParser();
      const ev: MrtEvent[] = [];
      for (let i = 0; i < s.bytes.length; ) {
        const n = rep === 0 ? 1 : 1 + Math.floor(r() * 300);
        ev.push(...p.push(s.bytes.slice(i, i + n)));
        i += n;
      }
      ev.push(...p.end());
      expect(ev).toEqual(whole);
    }
    const payloads = chunksOf(whole).map((c) => c.payload);
    expect(payloads).toEqual(s.chunks.map((c) => c.payload));
    const fin = whole.find((e) => e.type === 'final') as any;
    expect(fin.bytes).toEqual(s.final!.bytes);
  });

  it('header without placeholder is small (768x512, 64 chunks); the first paint is tiny', () => {
    const t = syntheticStream({ width: 768, height: 512 });
    const info = readHeader(t.bytes);
    // preamble + two messages; the Rice-coded chunk table is ~5.5 bits per chunk here
    expect(info.headerEnd).toBeLessThan(110);
    // preamble, length, width, height, window: everything else is in the Index
    expect(info.firstPaintEnd).toBe(5 + 1 + 3 + 3 + 2);
    // with a placeholder of N bytes: + tag, length (2 B from 128), width, height, data framing
    const p = syntheticStream({ width: 768, height: 512, placeholderBytes: 231 });
    expect(readHeader(p.bytes).firstPaintEnd).toBe(256);
    const idOnly = syntheticStream({ width: 768, height: 512, layersPerChunk: 2 });
    expect(readHeader(idOnly.bytes).headerEnd).toBeLessThan(95); // 32 chunks
  });

  it('explicit (non-uniform) chunk token ranges and partial coverage', () => {
    const t = syntheticStream({ width: 320, height: 320, T: 8, layers: 5 });
    const sizes = [3, 20, 1, 40, t.layout.windows * 5 - 64];
    const chunks = [];
    let st = 0;
    for (const n of sizes) {
      chunks.push({ tokenStart: st, tokenEnd: st + n, payload: new Uint8Array(n % 7) });
      st += n;
    }
    const bytes = writeMrt(t.header, chunks);
    const h = readHeader(bytes).header;
    expect(h.chunks.map((c) => c.tokenEnd - c.tokenStart)).toEqual(sizes);
    expect(h.totalTokens).toBe(t.layout.total);
    const ev = parseMrt(bytes);
    expect(chunksOf(ev).map((c) => c.payload)).toEqual(chunks.map((c) => c.payload));
  });

  it('whole-layer chunks that are not uniform are written as chunk_layers (format 2.1, one byte per chunk)', () => {
    const IndexR = protobuf.loadSync(protoPath).lookupType('mrt.Index');
    const groups = [1, 1, 1, 2, 2, 3, 4, 6];
    const t = syntheticStream({ width: 768, height: 512, T: 20, chunkLayers: groups });
    expect(Array.from(t.bytes.subarray(3, 5))).toEqual([2, 1]);
    const info = readHeader(t.bytes);
    expect(info.header.version).toEqual({ major: 2, minor: 1 });
    expect(info.header.chunks.map((c) => c.tokenEnd - c.tokenStart)).toEqual(groups.map((n) => n * 384));
    const idx = IndexR.decode(headMessages(t.bytes).index) as any;
    expect(Array.from(idx.chunkLayers)).toEqual(groups);
    expect(idx.chunkTokens.length).toBe(0);
    // the same ranges as token counts (format 2.0 form) cost more Index bytes
    const asTokens = IndexR.encode(IndexR.fromObject({ ...IndexR.toObject(idx), chunkLayers: [], chunkTokens: groups.map((n) => n * 384) })).finish();
    expect(asTokens.length - headMessages(t.bytes).index.length).toBeGreaterThanOrEqual(groups.length);
    const ev = parseMrt(t.bytes);
    expect(errorOf(ev)).toBeUndefined();
    expect(chunksOf(ev).map((c) => c.payload)).toEqual(t.chunks.map((c) => c.payload));
    // uniform chunking stays 2.0, byte for byte what a 2.0 writer produced
    expect(Array.from(syntheticStream({ width: 768, height: 512, T: 20 }).bytes.subarray(3, 5))).toEqual([2, 0]);
  });

  it('chunk_layers: bad tables are corrupt (both forms, count mismatch, empty chunk, past the layers)', () => {
    const IndexR = protobuf.loadSync(protoPath).lookupType('mrt.Index');
    const t = syntheticStream({ width: 96, height: 64, T: 8, chunkLayers: [1, 2, 5] });
    const { header: hb, index: ib } = headMessages(t.bytes);
    const obj = IndexR.toObject(IndexR.decode(ib)) as any;
    const bad = (patch: object) => {
      const idx = IndexR.encode(IndexR.fromObject({ ...obj, ...patch })).finish();
      return () => readHeader(writeWithHead(hb, idx, t, 1));
    };
    expect(bad({})).not.toThrow();
    expect(bad({ chunkTokens: [6, 12, 30] })).toThrow(/both token and layer counts/);
    expect(bad({ chunkLayers: [1, 2] })).toThrow(/2 layer counts for 3 chunks/);
    expect(bad({ chunkLayers: [1, 0, 7] })).toThrow(/empty/);
    expect(bad({ chunkLayers: [1, 2, 6] })).toThrow(/exceeds/);
    expect(bad({ chunkLayers: [1, 2, 4294967295] })).toThrow(/exceeds/);
  });

  it('format 2.2: the auto chunking is written as chunk_rule (no per-chunk table), read back as the same ranges', () => {
    const IndexR = protobuf.loadSync(protoPath).lookupType('mrt.Index');
    const T = 40;
    const rule = autoChunkLayers(T);
    expect(rule.slice(0, 18)).toEqual([...Array(16).fill(1), 2, 2]);
    const t = syntheticStream({ width: 96, height: 64, T, chunkLayers: 'auto' });
    expect(Array.from(t.bytes.subarray(3, 5))).toEqual([2, 2]);
    const info = readHeader(t.bytes);
    expect(info.header.chunks.map((c) => c.tokenEnd - c.tokenStart)).toEqual(rule.map((n) => n * 6));
    const idx = IndexR.decode(headMessages(t.bytes).index) as any;
    expect(idx.chunkRule).toBe(1);
    expect(idx.chunkLayers.length + idx.chunkTokens.length + idx.chunkTokenStep).toBe(0);
    // the same ranges as chunk_layers (2.1) cost a byte per chunk more
    const asLayers = IndexR.encode(IndexR.fromObject({ ...IndexR.toObject(idx), chunkRule: 0, chunkLayers: rule })).finish();
    expect(asLayers.length - headMessages(t.bytes).index.length).toBeGreaterThanOrEqual(rule.length);
    // a partial stream whose last chunk is clipped off the rule falls back to chunk_layers
    const part = syntheticStream({ width: 96, height: 64, T, layers: 19, chunkLayers: 'auto' });
    expect(readHeader(part.bytes).header.version.minor).toBe(1);
    // the first chunks of the rule (a stream that stops on a rule boundary) keep the rule
    const short = syntheticStream({ width: 96, height: 64, T, layers: 20, chunkLayers: 'auto' });
    expect((IndexR.decode(headMessages(short.bytes).index) as any).chunkRule).toBe(1);
    expect(readHeader(short.bytes).header.chunks.at(-1)!.tokenEnd).toBe(20 * 6);
  });

  it('format 2.5: the doubling chunking is chunk_rule 2 (layer 0, then [2^(k-1), 2^k)), read back as the same ranges', () => {
    const IndexR = protobuf.loadSync(protoPath).lookupType('mrt.Index');
    expect(doublingChunkLayers(512)).toEqual([1, 1, 2, 4, 8, 16, 32, 64, 128, 256]);
    expect(doublingChunkLayers(20)).toEqual([1, 1, 2, 4, 8, 4]);
    const T = 20;
    const t = syntheticStream({ width: 96, height: 64, T, chunkLayers: doublingChunkLayers(T), framing: 'raw', coder: 'chained' });
    expect(Array.from(t.bytes.subarray(3, 5))).toEqual([2, 5]);
    const info = readHeader(t.bytes);
    expect(info.header.chunks.map((c) => c.tokenEnd - c.tokenStart)).toEqual([1, 1, 2, 4, 8, 4].map((n) => n * 6));
    const idx = IndexR.decode(headMessages(t.bytes).index) as any;
    expect(idx.chunkRule).toBe(2);
    expect(idx.chunkLayers.length + idx.chunkTokens.length + idx.chunkTokenStep).toBe(0);
    // the first chunks of the rule keep it; a stream clipped off it falls back to chunk_layers
    expect((IndexR.decode(headMessages(syntheticStream({ width: 96, height: 64, T, layers: 8, chunkLayers: [1, 1, 2, 4], framing: 'raw' }).bytes).index) as any).chunkRule).toBe(2);
    expect((IndexR.decode(headMessages(syntheticStream({ width: 96, height: 64, T, layers: 6, chunkLayers: [1, 1, 2, 2], framing: 'raw' }).bytes).index) as any).chunkRule).toBe(0);
    const d = decodeMrt(t.bytes);
    expect(d.error).toBeUndefined();
    expect(d.tokens).toEqual(t.tokens);
  });

  it('format 2.9: the doubling64 chunking is chunk_rule 3 (64 layers, then [64·2^(k-1), 64·2^k)), read back as the same ranges; 2.8 files keep rule 2', () => {
    const IndexR = protobuf.loadSync(protoPath).lookupType('mrt.Index');
    expect(chunkLayers(640, 'doubling64')).toEqual([64, 64, 128, 256, 128]);
    expect(chunkLayers(20, 'doubling64')).toEqual([20]);
    const T = 300;
    const t = syntheticStream({ width: 96, height: 64, T, chunkLayers: chunkLayers(T, 'doubling64'), framing: 'raw', coder: 'chained' });
    expect(Array.from(t.bytes.subarray(3, 5))).toEqual([2, 9]);
    const info = readHeader(t.bytes);
    expect(info.header.chunks.map((c) => c.tokenEnd - c.tokenStart)).toEqual([64, 64, 128, 44].map((n) => n * 6));
    const idx = IndexR.decode(headMessages(t.bytes).index) as any;
    expect(idx.chunkRule).toBe(3);
    expect(idx.chunkLayers.length + idx.chunkTokens.length + idx.chunkTokenStep).toBe(0);
    const d = decodeMrt(t.bytes);
    expect(d.error).toBeUndefined();
    expect(d.tokens).toEqual(t.tokens);
    // the same stream in 2.5 doubling chunks stays a file older readers read
    expect(Array.from(syntheticStream({ width: 96, height: 64, T, chunkLayers: doublingChunkLayers(T), framing: 'raw', coder: 'chained' }).bytes.subarray(3, 5))).toEqual([2, 5]);
  });

  it('format 2.2 chunk_rule: bad tables are refused (rule with explicit ranges, unknown rule, more chunks than the rule has)', () => {
    const IndexR = protobuf.loadSync(protoPath).lookupType('mrt.Index');
    const t = syntheticStream({ width: 96, height: 64, T: 20, chunkLayers: 'auto' });
    const { header: hb, index: ib } = headMessages(t.bytes);
    const obj = IndexR.toObject(IndexR.decode(ib)) as any;
    const bad = (patch: object) => {
      const idx = IndexR.encode(IndexR.fromObject({ ...obj, ...patch })).finish();
      return () => readHeader(writeWithHead(hb, idx, t, 2));
    };
    expect(bad({})).not.toThrow();
    expect(bad({ chunkLayers: [1, 1] })).toThrow(/rule and explicit/);
    expect(bad({ chunkTokenStep: 6 })).toThrow(/rule and explicit/);
    expect(bad({ chunkRule: 4 })).toThrow(/unknown chunk rule/);
    expect(bad({ chunkCount: obj.chunkCount + 1 })).toThrow(MrtFormatError);
    expect(bad({ coder: 7 })).toThrow(/unknown chunk coder/);
  });

  it('format 2.2 chained coder: ~4 bytes less per chunk; every prefix decodes the true tokens; a restart (2.1) reader refuses it', () => {
    const rcm = fakeRcm(5, { D: 4, H: 6, L: 9, T: 12 });
    const o = { width: 160, height: 96, T: 12, rcm, chunkLayers: 'auto' as const, placeholderBytes: 20 };
    const restart = syntheticStream(o);
    const chained = syntheticStream({ ...o, coder: 'chained' });
    const n = readHeader(chained.bytes).header.chunks.length;
    expect(readHeader(chained.bytes).header.coder).toBe('chained');
    expect(readHeader(restart.bytes).header.coder).toBe('restart');
    // 4 bytes of state per chunk but chunk 0 (less up to 1 byte of carried state per chunk)
    expect(restart.bytes.length - chained.bytes.length).toBeGreaterThanOrEqual(3 * (n - 1));
    const info = readHeader(chained.bytes);
    for (let k = 0; k <= n; k++) {
      const cut = k === 0 ? info.headerEnd : info.chunkEnds[k - 1]!;
      const r = decodeMrt(chained.bytes.subarray(0, cut), { rcm });
      expect(r.error).toBeUndefined();
      expect(r.chunks).toBe(k);
      expect(Array.from(r.tokens.subarray(0, r.known))).toEqual(Array.from(chained.tokens.subarray(0, r.known)));
    }
    // a reader that restarts the coder per chunk fails at chunk 0: it never misreads
    const layout = tokenLayout({ gridW: 5, gridH: 3, tokensPerWindow: 12, levels: 9 });
    const c0 = info.header.chunks[0]!;
    const payload0 = chunksOf(parseMrt(chained.bytes))[0]!.payload;
    expect(() => decodeChunk(createPrior(layout, rcm), payload0, new Uint8Array(layout.total), c0.tokenStart, c0.tokenEnd)).toThrow(/initial state/);
    // the stream's last chunk must still end in the initial state: entering it in another
    // state (what a mis-decoded earlier chunk would hand over) is caught
    const last = chunksOf(parseMrt(chained.bytes)).at(-1)!;
    const cl = info.header.chunks[n - 1]!;
    const d = new StreamDecoder({ rcm });
    d.push(chained.bytes.subarray(0, info.chunkEnds[n - 2]));
    expect(d.known).toBe(cl.tokenStart);
    expect(() => decodeChunk(d.prior!, last.payload, d.tokens, cl.tokenStart, cl.tokenEnd, RANS_L + 12345, true)).toThrow(MrtFormatError);
  });

  // a 700x450 stream as 2.2-2.5 encoders wrote it (grid 22x15, a 20-byte placeholder), which the compact forms below shrink
  const wide = { width: 700, height: 450, T: 12, chunkLayers: 'auto' as const, coder: 'chained' as const, framing: 'raw' as const, hashBytes: 8, placeholderBytes: 20 };

  it('format 2.6 compact index: the grid is left out (4 bytes), readers derive it from the Header; the same chunks and tokens', () => {
    const full = syntheticStream(wide);
    const compact = syntheticStream({ ...wide, compact: true });
    const [fi, ci] = [readHeader(full.bytes), readHeader(compact.bytes)];
    expect([fi.header.version.minor, ci.header.version.minor]).toEqual([4, 6]);
    // grid 22x15: two 2-byte fields (tag + one-byte varint)
    expect(fi.headerEnd - ci.headerEnd).toBe(4);
    expect(full.bytes.length - compact.bytes.length).toBe(4);
    const layout = mrt.Index.decode(headMessages(compact.bytes).index).layout!;
    expect([layout.gridW ?? 0, layout.gridH ?? 0]).toEqual([0, 0]);
    expect(ci.header.layout).toEqual(fi.header.layout);
    expect([ci.header.layout.gridW, ci.header.layout.gridH]).toEqual([22, 15]);
    const d = decodeMrt(compact.bytes);
    expect(d.complete).toBe(true);
    expect(d.tokens.subarray(0, compact.tokens.length)).toEqual(compact.tokens);
    // a grid that is written must still match the Header; half a grid is not a derived one
    const { header, index } = headMessages(compact.bytes);
    const m = mrt.Index.decode(index);
    for (const [gw, gh] of [[22, 14], [22, 0], [0, 15]]) {
      m.layout!.gridW = gw!;
      m.layout!.gridH = gh!;
      expect(() => readHeader(withHeadMessages(compact.bytes, header, mrt.Index.encode(m).finish()))).toThrow(/window grid/);
    }
    // messages name a model by its label, or by its hash when the file stores none (2.6 encoders)
    expect(modelLabel({ modelId: 'mrt-v9', modelHash: new Uint8Array([1]) })).toBe('mrt-v9');
    expect(modelLabel({ modelId: '', modelHash: new Uint8Array([0xd1, 0x32, 0x05]) })).toBe('with hash d13205');
    expect(modelLabel({ modelId: '', modelHash: new Uint8Array(0) })).toBe('?');
    // the writer refuses an explicit grid that the Header does not imply (a compact Index could not carry it)
    expect(() => writeMrt({ ...compact.header, layout: { ...compact.header.layout, gridW: 21 } }, compact.chunks)).toThrow(/window grid 21x15/);
  });

  it('format 2.7 defaults: the window (32) and placeholder size (padded / 16) are left out of the Header (6 bytes), levels (9) and base factor (16) out of the layout (4 bytes); readers restore them', () => {
    const o = { ...wide, compact: true };
    const v26 = syntheticStream(o);
    const v27 = syntheticStream({ ...o, omitDefaults: true });
    const [a, b] = [readHeader(v26.bytes), readHeader(v27.bytes)];
    expect([a.header.version.minor, b.header.version.minor]).toEqual([6, 7]);
    // window 32 (tag + 1-byte varint) and the placeholder's 44x30 (two such fields)
    expect(a.firstPaintEnd - b.firstPaintEnd).toBe(6);
    expect(v26.bytes.length - v27.bytes.length).toBe(10);
    const head = mrt.Header.decode(headMessages(v27.bytes).header);
    expect([head.window, head.placeholder!.width, head.placeholder!.height]).toEqual([0, 0, 0]);
    expect(b.header.layout).toEqual(a.header.layout);
    expect(b.header.placeholder).toEqual(a.header.placeholder);
    expect([b.header.placeholder!.width, b.header.placeholder!.height]).toEqual([44, 30]);
    expect(readFirstPaint(v27.bytes)).toMatchObject({ window: 32, paddedWidth: 704, paddedHeight: 480 });
    const d = decodeMrt(v27.bytes);
    expect(d.complete).toBe(true);
    expect(d.tokens.subarray(0, v27.tokens.length)).toEqual(v27.tokens);
    // the layout's default levels and base factor are left out too (4 bytes of the Index)
    expect(a.headerEnd - a.firstPaintEnd - (b.headerEnd - b.firstPaintEnd)).toBe(4);
    const lay = mrt.Index.decode(headMessages(v27.bytes).index).layout!;
    expect([lay.levels ?? 0, lay.baseFactor ?? 0]).toEqual([0, 0]);
    // under a 2.6 preamble the same Header is refused (a 2.6 reader finds no window), never misread
    const as26 = v27.bytes.slice();
    as26[4] = 6;
    expect(() => readFirstPaint(as26)).toThrow(/window size 0/);
    // a placeholder size that is not the default one is still written
    const other = writeMrt({ ...v27.header, placeholder: { ...v27.header.placeholder!, width: 40 } }, v27.chunks);
    const oh = mrt.Header.decode(headMessages(other).header);
    expect([oh.window, oh.placeholder!.width, oh.placeholder!.height]).toEqual([0, 40, 30]);
    expect(readFirstPaint(other).placeholder).toMatchObject({ width: 40, height: 30 });
    // no size, but a padded size that is not a multiple of 16 (window 8): refused
    const bad = mrt.Header.encode({ width: 100, height: 70, window: 8, placeholder: { data: new Uint8Array(4) } }).finish();
    expect(() => readFirstPaint(withHeadMessages(v27.bytes, bad, headMessages(v27.bytes).index))).toThrow(/104x72 is not a multiple of 16/);
  });

  it('format 2.6 prior RCM_SHARED_LATE: read as the RCM with a shared late table, and decoded with it', () => {
    const rcm = fakeRcm(5, { D: 4, H: 6, L: 9, T: 4 });
    const o = { width: 160, height: 96, T: 12, rcm, chunkLayers: 'auto' as const, coder: 'chained' as const, framing: 'raw' as const, hashBytes: 8 };
    const plain = syntheticStream(o);
    const shared = syntheticStream({ ...o, sharedLate: true });
    const [pi, si] = [readHeader(plain.bytes), readHeader(shared.bytes)];
    expect([pi.header.version.minor, pi.header.prior, pi.header.sharedLate]).toEqual([4, 'rcm', false]);
    expect([si.header.version.minor, si.header.prior, si.header.sharedLate]).toEqual([6, 'rcm', true]);
    expect(mrt.Index.decode(headMessages(shared.bytes).index).prior).toBe(2);
    expect(describe(si).sharedLate).toBe(true);
    expect(formatInfo(si)).toContain('one shared static table');
    const d = decodeMrt(shared.bytes, { rcm });
    expect([d.error, d.complete]).toEqual([undefined, true]);
    expect(d.tokens).toEqual(shared.tokens);
    // the same tokens, another code: a reader that ignored the prior kind would misread them
    expect(shared.bytes.length).not.toBe(plain.bytes.length);
    expect(() => writeMrt({ ...shared.header, prior: 'static' }, shared.chunks)).toThrow(/sharedLate/);
  });

  it('format 2.10 prior RCM_COARSE: read as the late context tables with a coarse RCM; only with the coarse-first order; unknown kinds refused', () => {
    const rcm = { ...fakeRcm(5, { D: 4, H: 6, L: 9, T: 4 }), coarse: fakeRcm(6, { D: 3, H: 4, L: 3, T: 2 }) };
    const o = { width: 160, height: 96, T: 12, rcm, coarseLayers: 3, sharedLate: true, lateContexts: true, chunkLayers: 'auto' as const, coder: 'chained' as const, framing: 'raw' as const, hashBytes: 8 };
    const st = syntheticStream({ ...o, coarseRcm: true });
    const info = readHeader(st.bytes);
    expect([info.header.version.minor, info.header.prior, info.header.sharedLate, info.header.lateContexts, info.header.coarseRcm]).toEqual([10, 'rcm', true, true, true]);
    const { header, index } = headMessages(st.bytes);
    const m = mrt.Index.decode(index);
    expect(m.prior).toBe(4);
    expect(formatInfo(info)).toContain('coarse pass: the coarse RCM');
    expect(formatInfo(readHeader(syntheticStream(o).bytes))).toContain('coarse pass: static tables by neighbourhood');
    // prior 4 in a layer-major layout is corrupt; a kind past 4 is one this reader does not know
    const lm = mrt.Index.decode(index);
    lm.layout!.order = 0;
    lm.layout!.coarseLayers = 0;
    expect(() => readHeader(withHeadMessages(st.bytes, header, mrt.Index.encode(lm).finish()))).toThrow(/RCM_COARSE without the coarse-first order/);
    m.prior = 5 as mrt.PriorKind;
    expect(() => readHeader(withHeadMessages(st.bytes, header, mrt.Index.encode(m).finish()))).toThrow(/unknown prior kind 5/);
    expect(() => writeMrt({ ...st.header, lateContexts: false }, st.chunks)).toThrow(/coarseRcm/);
  });

  it('format 2.4 raw chunk framing: payload + crc32 with no length prefix or tags; the same chunks and tokens; corrupt and truncated raw chunks are caught', () => {
    const rcm = fakeRcm(5, { D: 4, H: 6, L: 9, T: 12 });
    const o = { width: 160, height: 96, T: 12, rcm, chunkLayers: 'auto' as const, coder: 'chained' as const, hashBytes: 8, placeholderBytes: 20, finalBytes: 30 };
    const msg = syntheticStream(o);
    const raw = syntheticStream({ ...o, framing: 'raw' });
    const [mi, ri] = [readHeader(msg.bytes), readHeader(raw.bytes)];
    expect([mi.header.version.minor, mi.header.chunkFraming]).toEqual([2, 'message']);
    expect([ri.header.version.minor, ri.header.chunkFraming]).toEqual([4, 'raw']);
    // what framing 0 spends per chunk beyond payload + crc32: varint length, two field tags, payload varint
    const payloads = raw.chunks.map((c) => c.payload.length);
    const saved = payloads.reduce((a, p) => a + varintSize(bytesAndCrcMessageSize(p)) + 1 + varintSize(p) + 1, 0);
    expect(msg.bytes.length - raw.bytes.length).toBe(saved + (mi.headerEnd - ri.headerEnd));
    expect(saved).toBeGreaterThanOrEqual(4 * payloads.length);
    expect(ri.header.chunks.map((c) => c.byteLength)).toEqual(payloads.map((p) => chunkByteLength(p, 'raw')));
    // each raw chunk ends with its checksum, little-endian, where the chunk table says
    const parsedRaw = chunksOf(parseMrt(raw.bytes));
    const parsedMsg = chunksOf(parseMrt(msg.bytes));
    expect(parsedRaw.map((c) => Array.from(c.payload))).toEqual(parsedMsg.map((c) => Array.from(c.payload)));
    expect(parsedRaw.map((c) => c.end)).toEqual(ri.chunkEnds);
    for (const [k, c] of parsedRaw.entries()) {
      const tail = raw.bytes.subarray(ri.chunkEnds[k]! - 4, ri.chunkEnds[k]);
      expect(splitRawChunk(raw.bytes.subarray(c.offset, c.end)).crc).toBe(new DataView(tail.buffer, tail.byteOffset, 4).getUint32(0, true));
    }
    const ev = parseMrt(raw.bytes);
    expect(ev.filter((e) => e.type === 'final').length).toBe(1);
    expect(ev.at(-1)).toMatchObject({ type: 'end', complete: true });
    // every chunk boundary decodes the true tokens
    for (let k = 0; k <= ri.header.chunks.length; k++) {
      const cut = k === 0 ? ri.headerEnd : ri.chunkEnds[k - 1]!;
      const r = decodeMrt(raw.bytes.subarray(0, cut), { rcm });
      expect(r.error).toBeUndefined();
      expect(r.chunks).toBe(k);
      expect(Array.from(r.tokens.subarray(0, r.known))).toEqual(Array.from(raw.tokens.subarray(0, r.known)));
    }
    // a flipped payload byte or checksum byte: crc error at that chunk, earlier chunks delivered
    for (const at of [ri.chunkEnds[2]! + 1, ri.chunkEnds[3]! - 1]) {
      const b = raw.bytes.slice();
      b[at]! ^= 0x40;
      const e = parseMrt(b);
      expect(chunksOf(e).length).toBe(3);
      expect(errorOf(e)).toMatchObject({ code: 'crc', offset: ri.chunkEnds[2] });
    }
    // a stream cut inside a raw chunk is truncated at the cut, after the whole chunks before it
    const cut = ri.chunkEnds[1]! + 2;
    const te = parseMrt(raw.bytes.subarray(0, cut));
    expect(chunksOf(te).length).toBe(2);
    expect(errorOf(te)).toMatchObject({ code: 'truncated', offset: cut });
  });

  it('format 2.2 model hash: an 8-byte prefix names the model (2.7: 4 bytes); shorter or different never matches', () => {
    const model = Uint8Array.from({ length: 32 }, (_, i) => i * 17);
    expect(modelHashMatches(model.subarray(0, 8), model)).toBe(true);
    expect(modelHashMatches(model.subarray(0, 16), model)).toBe(true);
    expect(modelHashMatches(model.subarray(0, 4), model)).toBe(true);
    expect(modelHashMatches(model.subarray(0, 3), model)).toBe(false);
    // a 4-byte hash needs a 2.7 reader (2.2-2.6 readers want 8 bytes): the writer says 2.7
    expect(readHeader(syntheticStream({ width: 64, height: 64, T: 4, hashBytes: 4 }).bytes).header.version.minor).toBe(7);
    const other = model.slice(0, 8);
    other[7] ^= 1;
    expect(modelHashMatches(other, model)).toBe(false);
    const t = syntheticStream({ width: 64, height: 64, T: 4, hashBytes: 8 });
    expect(readHeader(t.bytes).header.version.minor).toBe(2);
    expect(decodeMrt(t.bytes, { modelHash: model }).error).toBeUndefined();
    const rcm = fakeRcm(3, { D: 4, H: 6, L: 9, T: 4 });
    const r = syntheticStream({ width: 64, height: 64, T: 4, hashBytes: 8, rcm });
    expect(decodeMrt(r.bytes, { rcm, modelHash: model }).error).toBeUndefined();
    expect(decodeMrt(r.bytes, { rcm, modelHash: Uint8Array.from(model, (b) => b ^ 1) }).error?.code).toBe('model');
  });

  it('format 2.3: an AVIF placeholder in the canonical layout is stored as its AV1 bitstream and read back byte for byte', async () => {
    const sharp = (await import('sharp')).default;
    const px = Uint8Array.from({ length: 48 * 32 * 3 }, (_, i) => (i * 7) % 251);
    const avif = new Uint8Array(await sharp(px, { raw: { width: 48, height: 32, channels: 3 } }).avif({ quality: 30, effort: 4, chromaSubsampling: '4:2:0' }).toBuffer());
    const t = syntheticStream({ width: 768, height: 512, T: 4 });
    const header = { ...t.header, placeholder: { mime: 'image/avif', width: 48, height: 32, bytes: avif } };
    const bytes = writeMrt(header, t.chunks);
    expect(Array.from(bytes.subarray(3, 5))).toEqual([2, 3]);
    const first = readFirstPaint(bytes);
    expect(first.placeholder!.mime).toBe('image/avif');
    expect(Buffer.from(first.placeholder!.bytes).equals(Buffer.from(avif))).toBe(true);
    expect(first.placeholder!.storedBytes).toBe(avif.length - 250);
    // the boxes are not sent: ~250 bytes less than storing the file with its MIME type
    const HeaderR = protobuf.loadSync(protoPath).lookupType('mrt.Header');
    const asFile = HeaderR.encode(HeaderR.fromObject({ width: 768, height: 512, window: 32, placeholder: { mime: 'image/avif', width: 48, height: 32, data: avif } })).finish();
    expect(asFile.length - headMessages(bytes).header.length).toBeGreaterThanOrEqual(250);
    // the Node decoder's image library reads the rebuilt file
    const meta = await sharp(first.placeholder!.bytes).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['heif', 48, 32]);
    // an AVIF in another layout is stored as it is (2.0 form, MIME type written)
    const other = avif.slice();
    other[40] ^= 1; // inside meta: no longer the canonical layout
    const kept = writeMrt({ ...t.header, placeholder: { mime: 'image/avif', width: 48, height: 32, bytes: other } }, t.chunks);
    expect(kept[4]).toBeLessThan(3);
    expect(Buffer.from(readFirstPaint(kept).placeholder!.bytes).equals(Buffer.from(other))).toBe(true);
    // bad codec fields
    const obj = HeaderR.toObject(HeaderR.decode(headMessages(bytes).header)) as any;
    const bad = (patch: object) => () => readFirstPaint(withHeadMessages(bytes, HeaderR.encode(HeaderR.fromObject({ ...obj, placeholder: { ...obj.placeholder, ...patch } })).finish(), headMessages(bytes).index));
    expect(bad({})).not.toThrow();
    expect(bad({ codec: 2 })).toThrow(/unknown placeholder codec/);
    expect(bad({ mime: 'image/webp' })).toThrow(/compact AVIF placeholder has a MIME type/);
  });

  it('format 2.7: compact AVIF placeholders in 4:4:4 and 10-bit (codecs 2-4) are stored as their AV1 bitstream and read back byte for byte', async () => {
    const sharp = (await import('sharp')).default;
    const px = Uint8Array.from({ length: 48 * 32 * 3 }, (_, i) => (i * 7) % 251);
    const t = syntheticStream({ width: 768, height: 512, T: 4 });
    const cases = [['4:2:0', 8, 1, 3], ['4:4:4', 8, 2, 7], ['4:2:0', 10, 3, 7], ['4:4:4', 10, 4, 7]] as const;
    for (const [chroma, bitdepth, codec, minor] of cases) {
      const avif = new Uint8Array(await sharp(px, { raw: { width: 48, height: 32, channels: 3 } }).avif({ quality: 30, effort: 4, chromaSubsampling: chroma, bitdepth }).toBuffer());
      const bytes = writeMrt({ ...t.header, placeholder: { mime: 'image/avif', width: 48, height: 32, bytes: avif } }, t.chunks);
      expect(bytes[4], `${chroma} ${bitdepth}-bit`).toBe(minor);
      expect(mrt.Header.decode(headMessages(bytes).header).placeholder!.codec).toBe(codec);
      const first = readFirstPaint(bytes);
      expect(Buffer.from(first.placeholder!.bytes).equals(Buffer.from(avif))).toBe(true);
      expect(first.placeholder!.storedBytes).toBe(avif.length - 250);
      const meta = await sharp(first.placeholder!.bytes).metadata();
      expect([meta.width, meta.height, meta.bitsPerSample]).toEqual([48, 32, bitdepth]);
      if (codec > 1) {
        // a 2.6 reader does not know these codecs: refused, never misread
        const as26 = bytes.slice();
        as26[4] = 6;
        expect(() => readFirstPaint(as26)).toThrow(/unknown placeholder codec/);
      }
    }
    const bytes = writeMrt({ ...t.header, placeholder: { mime: 'image/avif', width: 48, height: 32, bytes: new Uint8Array(await sharp(px, { raw: { width: 48, height: 32, channels: 3 } }).avif({ quality: 30, effort: 4, chromaSubsampling: '4:4:4' }).toBuffer()) } }, t.chunks);
    const m = mrt.Header.decode(headMessages(bytes).header);
    m.placeholder!.codec = 5;
    expect(() => readFirstPaint(withHeadMessages(bytes, mrt.Header.encode(m).finish(), headMessages(bytes).index))).toThrow(/unknown placeholder codec 5/);
  });

  it('writer rejects non-contiguous or empty chunks', () => {
    const t = syntheticStream({ width: 64, height: 64, T: 4 });
    expect(() => writeMrt(t.header, [{ tokenStart: 1, tokenEnd: 4, payload: new Uint8Array(1) }])).toThrow(MrtFormatError);
    expect(() => writeMrt(t.header, [{ tokenStart: 0, tokenEnd: 0, payload: new Uint8Array(1) }])).toThrow(MrtFormatError);
    expect(() => writeMrt(t.header, [{ tokenStart: 0, tokenEnd: 99, payload: new Uint8Array(1) }])).toThrow(MrtFormatError);
  });

  it('stream without chunks', () => {
    const t = syntheticStream({ width: 64, height: 64, T: 4, layers: 0 });
    expect(t.chunks.length).toBe(0);
    expect(parseMrt(t.bytes).map((e) => e.type)).toEqual(['placeholder', 'header', 'end']);
  });
});

suite('schema of record', () => {
  const root = protobuf.loadSync(protoPath);
  const Header = root.lookupType('mrt.Header');
  const Index = root.lookupType('mrt.Index');
  const Chunk = root.lookupType('mrt.Chunk');
  const Final = root.lookupType('mrt.Final');
  const s = syntheticStream({ width: 300, height: 200, T: 16, placeholderBytes: 50, finalBytes: 100, contentHash: true });

  it('reflection decoding of proto/mrt.proto agrees with the generated code and the writer', () => {
    const info = readHeader(s.bytes);
    const { header: hb, index: ib } = headMessages(s.bytes);
    const h = Header.toObject(Header.decode(hb), { defaults: true }) as any;
    expect(h.width).toBe(300);
    expect(h.height).toBe(200);
    expect(h.window).toBe(32);
    expect(h.placeholder.data.length).toBe(50);
    expect(h.placeholder.mime).toBe(''); // the default, image/webp
    expect(h.placeholder.width).toBe(20);
    const refl = Index.toObject(Index.decode(ib), { defaults: true }) as any;
    const gen = mrt.Index.decode(ib);
    expect(refl.layout.gridW).toBe(10);
    expect(refl.layout.tokens).toBe(16);
    expect(refl.chunkCount).toBe(info.header.chunks.length);
    expect(new Uint8Array(refl.chunkSizes)).toEqual(new Uint8Array(gen.chunkSizes!));
    expect(refl.final.byteLength).toBe(info.header.final!.byteLength);
    expect(refl.modelId).toBe('test-v0');
    // chunk CRCs continue from crc32 of both messages with their length prefixes
    const hcrc = crc32(s.bytes.subarray(5, info.headerEnd));
    expect(headCrc(hb, ib)).toBe(hcrc);
    // every Chunk message decodes with reflection to the same payload, and the hand-written
    // Chunk encoding equals protobufjs' (nonzero crc)
    let pos = info.headerEnd;
    for (const c of info.header.chunks) {
      const msg = s.bytes.subarray(pos + varintSize(c.byteLength), pos + varintSize(c.byteLength) + c.byteLength);
      const m = Chunk.decode(msg) as any;
      expect(new Uint8Array(m.payload)).toEqual(s.chunks[c.index]!.payload);
      expect(new Uint8Array(Chunk.encode(Chunk.fromObject({ payload: m.payload, crc32: m.crc32 })).finish())).toEqual(new Uint8Array(msg));
      expect(m.crc32).toBe(encodeChunkCrc(hcrc, c.index, s.chunks[c.index]!.payload));
      pos += varintSize(c.byteLength) + c.byteLength;
    }
    const fmsg = s.bytes.subarray(pos + varintSize(info.header.final!.byteLength));
    expect(new Uint8Array((Final.decode(fmsg) as any).data)).toEqual(s.final!.bytes);
  });

  it('a header and index written with reflection (plus unknown fields) are read', () => {
    const { header: hb, index: ib } = headMessages(s.bytes);
    // append unknown fields from a "newer minor version": varint field 100, bytes field 101
    const w = protobuf.Writer.create();
    w.uint32((100 << 3) | 0).uint32(12345);
    w.uint32((101 << 3) | 2).bytes(new Uint8Array([1, 2, 3]));
    const extra = w.finish();
    const reencode = (T: protobuf.Type, b: Uint8Array) => {
      const re = T.encode(T.fromObject(T.toObject(T.decode(b)))).finish();
      const out = new Uint8Array(re.length + extra.length);
      out.set(re);
      out.set(extra, re.length);
      return out;
    };
    // the chunk checksums continue from crc32(header, index), so re-encode the chunks too
    const stream = writeWithHead(reencode(Header, hb), reencode(Index, ib), s, 7);
    const ev = parseMrt(stream);
    expect(errorOf(ev)).toBeUndefined();
    expect(chunksOf(ev).length).toBe(s.chunks.length);
    expect(readHeader(stream).header.version).toEqual({ major: 2, minor: 7 });
    expect(readHeader(stream).header.placeholder).toEqual(readHeader(s.bytes).header.placeholder);
  });
});

/** A stream with the given raw Header and Index messages and the chunks/final of `s` (checksums recomputed). */
function writeWithHead(headerMsg: Uint8Array, indexMsg: Uint8Array, s: ReturnType<typeof syntheticStream>, minor = 0): Uint8Array {
  const hcrc = headCrc(headerMsg, indexMsg);
  const parts: Uint8Array[] = [headerMsg, indexMsg];
  s.chunks.forEach((c, k) => parts.push(encodeChunkMsg(hcrc, k, c.payload)));
  if (s.final) parts.push(encodeFinalMsg(hcrc, s.final.bytes));
  let n = 5;
  for (const p of parts) n += varintSize(p.length) + p.length;
  const out = new Uint8Array(n);
  out.set([0x4d, 0x52, 0x54, 2, minor]);
  let pos = 5;
  for (const p of parts) {
    pos = writeVarint(out, pos, p.length);
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}
import { encodeChunkMessage as encodeChunkMsg, encodeFinalMessage as encodeFinalMsg, chunkCrc as encodeChunkCrc } from '../../src/format/index.ts';

for (const framing of ['message', 'raw'] as const) suite(`truncation (${framing} chunk framing)`, () => {
  const s = syntheticStream({ width: 768, height: 512, placeholderBytes: 200, finalBytes: 500, framing });
  const info = readHeader(s.bytes);

  it('every prefix: whole chunks delivered, then end (on a boundary) or truncated', () => {
    const n = s.bytes.length;
    const boundaries = new Set([info.headerEnd, ...info.chunkEnds]);
    const problems: string[] = [];
    const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((v, i) => v === b[i]);
    for (let cut = 0; cut <= n; cut++) {
      const ev = parseMrt(s.bytes.subarray(0, cut));
      const whole = cut < info.headerEnd ? 0 : info.chunkEnds.filter((e) => e <= cut).length;
      const ch = chunksOf(ev);
      if (ch.length !== whole) problems.push(`${cut}: ${ch.length} chunks, expected ${whole}`);
      if (ev.some((e) => e.type === 'placeholder') !== cut >= info.firstPaintEnd) problems.push(`${cut}: placeholder event wrong`);
      if (ev.some((e) => e.type === 'header') !== cut >= info.headerEnd) problems.push(`${cut}: header event wrong`);
      for (const c of ch) if (!same(c.payload, s.chunks[c.index]!.payload)) problems.push(`${cut}: chunk ${c.index} differs`);
      // raw framing: a chunk cut short hands over the payload bytes it has (crc excluded)
      const partial = ev.filter((e) => e.type === 'partial');
      const inChunk = cut > info.headerEnd && whole < info.chunkEnds.length && !boundaries.has(cut);
      if (framing === 'raw' && inChunk) {
        const start = whole === 0 ? info.headerEnd : info.chunkEnds[whole - 1]!;
        const full = s.chunks[whole]!.payload;
        const p = partial[0];
        if (partial.length !== 1 || p!.type !== 'partial' || p.index !== whole || !same(p.payload, full.subarray(0, Math.min(cut - start, full.length)))) problems.push(`${cut}: bad partial event`);
      } else if (partial.length) problems.push(`${cut}: unexpected partial event`);
      const last = ev.at(-1)!;
      if (boundaries.has(cut) || cut === n) {
        if (last.type !== 'end' || last.chunks !== whole || last.complete !== (cut === n)) problems.push(`${cut}: bad end ${JSON.stringify(last)}`);
      } else if (last.type !== 'error' || last.error.code !== 'truncated' || last.error.offset !== cut) {
        problems.push(`${cut}: expected truncated, got ${last.type === 'error' ? last.error.message : last.type}`);
      }
      if (problems.length > 10) break;
    }
    expect(problems).toEqual([]);
  });

  it('a stream that ends between the Header and the Index is truncated (after its placeholder event)', () => {
    const ev = parseMrt(s.bytes.subarray(0, info.firstPaintEnd));
    expect(ev.map((e) => e.type)).toEqual(['placeholder', 'error']);
    expect(errorOf(ev)!.code).toBe('truncated');
    expect(errorOf(ev)!.message).toMatch(/index/);
  });

  it('readHeader asks for more until the header and index are complete; readFirstPaint until the header is', () => {
    for (let cut = 0; cut < info.firstPaintEnd; cut++) {
      try {
        readFirstPaint(s.bytes.subarray(0, cut));
        expect.unreachable();
      } catch (e) {
        expect((e as MrtFormatError).code).toBe('need-more');
      }
    }
    for (let cut = 0; cut < info.headerEnd; cut++) {
      try {
        readHeader(s.bytes.subarray(0, cut));
        expect.unreachable();
      } catch (e) {
        expect((e as MrtFormatError).code).toBe('need-more');
      }
    }
    expect(readHeader(s.bytes.subarray(0, info.headerEnd)).chunkEnds).toEqual(info.chunkEnds);
  });

  it(framing === 'raw' ? 'prefixLength: exactly the byte budget, never below the header or inside the final layer' : 'prefixLength: largest chunk boundary within the budget, never below the header', () => {
    expect(prefixLength(info, { bytes: 0 })).toBe(info.headerEnd);
    expect(prefixLength(info, { bytes: info.headerEnd - 1 })).toBe(info.headerEnd);
    expect(prefixLength(info, { bytes: info.chunkEnds[0]! - 1 })).toBe(framing === 'raw' ? info.chunkEnds[0]! - 1 : info.headerEnd);
    expect(prefixLength(info, { bytes: info.chunkEnds[0]! })).toBe(info.chunkEnds[0]);
    expect(prefixLength(info, { bytes: info.chunkEnds[10]! + 3 })).toBe(framing === 'raw' ? info.chunkEnds[10]! + 3 : info.chunkEnds[10]);
    expect(prefixLength(info, { bytes: info.totalLength - 1 })).toBe(info.chunkEnds.at(-1));
    expect(prefixLength(info, { bytes: 1e12 })).toBe(info.totalLength);
    expect(prefixLength(info, { chunks: 0 })).toBe(info.headerEnd);
    expect(prefixLength(info, { chunks: 3 })).toBe(info.chunkEnds[2]);
    expect(prefixLength(info, { chunks: 64 })).toBe(info.chunkEnds[63]);
    expect(prefixLength(info, { chunks: 65 })).toBe(info.totalLength);
    expect(prefixLength(info, { chunks: 5, bytes: info.chunkEnds[2]! })).toBe(info.chunkEnds[2]);
    for (let b = 0; b < info.totalLength + 10; b += 13) {
      const cut = prefixLength(info, { bytes: b });
      expect(cut === info.headerEnd || cut <= b).toBe(true);
      expect(isCut(info, cut)).toBe(true);
      // a cut inside a raw chunk is where a reader stops reading, not the end of the stream
      if (framing === 'raw' && cut > info.headerEnd && !info.chunkEnds.includes(cut) && cut < info.totalLength) expect(parseMrt(s.bytes.subarray(0, cut)).some((e) => e.type === 'partial')).toBe(true);
      else expect(parseMrt(s.bytes.subarray(0, cut)).at(-1)!.type).toBe('end');
    }
  });
});

suite('bad input', () => {
  const s = syntheticStream({ width: 256, height: 128, T: 16, finalBytes: 64 });
  const info = readHeader(s.bytes);

  it('bad magic and newer major version are clear errors; newer minor is accepted', () => {
    const b = s.bytes.slice();
    b[0] = 0x4e;
    expect(errorOf(parseMrt(b))!.code).toBe('magic');
    const v = s.bytes.slice();
    v[3] = 3;
    const e = errorOf(parseMrt(v))!;
    expect(e.code).toBe('version');
    expect(e.message).toMatch(/newer/);
    expect(() => readHeader(v)).toThrow(/newer/);
    // the pre-release 1.x layout (one header message) is a clear version error too
    const old = s.bytes.slice();
    old[3] = 1;
    expect(errorOf(parseMrt(old))!.code).toBe('version');
    expect(() => readHeader(old)).toThrow(/pre-release/);
    expect(() => readFirstPaint(old.subarray(0, 5))).toThrow(/pre-release/);
    const m = s.bytes.slice();
    m[4] = 9;
    expect(errorOf(parseMrt(m))).toBeUndefined();
  });

  it('corrupt chunk: earlier chunks delivered, crc error at the chunk offset', () => {
    const b = s.bytes.slice();
    const at = info.chunkEnds[4]! + 3; // inside chunk 5
    b[at]! ^= 0x10;
    const ev = parseMrt(b);
    expect(chunksOf(ev).length).toBe(5);
    const e = errorOf(ev)!;
    expect(['crc', 'table', 'corrupt']).toContain(e.code);
    expect(e.offset).toBe(info.chunkEnds[4]);
  });

  it('index corruption makes chunk 0 fail its checksum', () => {
    const b = s.bytes.slice();
    // flip a bit of the model id (in the Index)
    const idx = b.indexOf('t'.charCodeAt(0), info.firstPaintEnd);
    expect(idx).toBeLessThan(info.headerEnd);
    b[idx] ^= 1;
    const ev = parseMrt(b);
    expect(chunksOf(ev).length).toBe(0);
    expect(errorOf(ev)!.code).toBe('crc');
  });

  it('header (first paint) corruption makes chunk 0 fail its checksum', () => {
    const t = syntheticStream({ width: 256, height: 128, T: 16, placeholderBytes: 40 });
    const ti = readHeader(t.bytes);
    const b = t.bytes.slice();
    b[ti.firstPaintEnd - 3]! ^= 0x20; // a placeholder byte
    const ev = parseMrt(b);
    expect(ev[0]!.type).toBe('placeholder');
    expect(chunksOf(ev).length).toBe(0);
    expect(errorOf(ev)!.code).toBe('crc');
    expect(errorOf(ev)!.offset).toBe(ti.headerEnd);
  });

  it('swapped chunks fail', () => {
    const t = syntheticStream({ width: 64, height: 32, T: 4, seed: 3 });
    const ti = readHeader(t.bytes);
    const a = t.bytes.subarray(ti.headerEnd, ti.chunkEnds[0]);
    const c = t.bytes.subarray(ti.chunkEnds[0], ti.chunkEnds[1]);
    const sw = new Uint8Array(t.bytes.length);
    sw.set(t.bytes.subarray(0, ti.headerEnd));
    sw.set(c, ti.headerEnd);
    sw.set(a, ti.headerEnd + c.length);
    sw.set(t.bytes.subarray(ti.chunkEnds[1]), ti.chunkEnds[1]);
    const ev = parseMrt(sw);
    expect(chunksOf(ev).length).toBe(0);
    expect(['crc', 'table']).toContain(errorOf(ev)!.code);
  });

  it('trailing bytes after the last message', () => {
    const b = new Uint8Array(s.bytes.length + 1);
    b.set(s.bytes);
    const ev = parseMrt(b);
    expect(chunksOf(ev).length).toBe(info.header.chunks.length);
    expect(ev.some((e) => e.type === 'final')).toBe(true);
    expect(errorOf(ev)!.code).toBe('trailing');
    expect(errorOf(ev)!.offset).toBe(s.bytes.length);
  });

  const msgs = headMessages(s.bytes);
  /** patch the decoded Header (`h`) and Index (`x`) messages */
  function withHeader(patch: (h: any, x: any) => void): Uint8Array {
    const h: any = mrt.Header.decode(msgs.header);
    const x: any = mrt.Index.decode(msgs.index);
    patch(h, x);
    return withHeadMessages(s.bytes, mrt.Header.encode(h).finish(), mrt.Index.encode(x).finish());
  }
  const limitCases: [string, (h: any, x: any) => void, string][] = [
    ['width above MAX_DIMENSION', (h, x) => { h.width = LIMITS.MAX_DIMENSION + 1; x.layout.gridW = Math.ceil(h.width / 32); }, 'limit'],
    ['too many pixels', (h, x) => { h.width = 16384; h.height = 16384; x.layout.gridW = 512; x.layout.gridH = 512; }, 'limit'],
    ['tokens above MAX_TOKENS', (h, x) => { h.width = 4096; h.height = 4096; x.layout.gridW = 128; x.layout.gridH = 128; x.layout.tokens = 4096; }, 'limit'],
    ['no window', (h) => { h.window = 0; }, 'limit'],
    ['window above MAX_WINDOW', (h) => { h.window = LIMITS.MAX_WINDOW + 1; }, 'limit'],
    ['zero width', (h) => { h.width = 0; }, 'corrupt'],
    ['window disagrees with the grid', (h) => { h.window = 16; }, 'corrupt'],
    ['placeholder above MAX_DIMENSION', (h) => { h.placeholder = { width: LIMITS.MAX_DIMENSION + 1, height: 1, data: new Uint8Array(3) }; }, 'limit'],
    ['placeholder mime too long', (h) => { h.placeholder = { mime: 'x'.repeat(5000) }; }, 'limit'],
    ['chunk count above MAX_CHUNKS', (_h, x) => { x.chunkCount = LIMITS.MAX_CHUNKS + 1; }, 'limit'],
    ['huge chunk sizes', (_h, x) => { x.chunkSizes = encodeChunkSizes(Array(16).fill(LIMITS.MAX_CHUNK_BYTES)); x.chunkCount = 16; }, 'limit'],
    ['chunk size above MAX_CHUNK_BYTES', (_h, x) => { x.chunkSizes = encodeChunkSizes([LIMITS.MAX_CHUNK_BYTES + 1]); x.chunkCount = 1; }, 'limit'],
    ['final above MAX_FINAL_BYTES', (_h, x) => { x.final.byteLength = LIMITS.MAX_FINAL_BYTES + 1; }, 'limit'],
    ['levels above 256', (_h, x) => { x.layout.levels = 1000; }, 'limit'],
    ['grid mismatch', (_h, x) => { x.layout.gridW += 1; }, 'corrupt'],
    ['no layout', (_h, x) => { delete x.layout; }, 'corrupt'],
    ['unknown order', (_h, x) => { x.layout.order = 3; }, 'unsupported'],
    ['unknown prior', (_h, x) => { x.prior = 7; }, 'unsupported'],
    ['token ranges beyond the stream', (_h, x) => { x.chunkTokenStep = 1 << 20; }, 'corrupt'],
    ['model id too long', (_h, x) => { x.modelId = 'x'.repeat(5000); }, 'limit'],
  ];
  for (const [name, patch, code] of limitCases) {
    it(`header/index: ${name} -> ${code}`, () => {
      const b = withHeader(patch);
      const e = errorOf(parseMrt(b))!;
      expect(e).toBeInstanceOf(MrtFormatError);
      expect(e.code).toBe(code);
      expect(() => readHeader(b)).toThrow(MrtFormatError);
      // the offset points into the message that is wrong
      const bi = readFirstPaintOrUndefined(b);
      if (bi) expect(e.offset).toBeGreaterThanOrEqual(bi.firstPaintEnd);
      else expect(e.offset).toBeLessThan(readFirstPaintEndOf(b));
    });
  }

  function readFirstPaintOrUndefined(b: Uint8Array) {
    try {
      return readFirstPaint(b);
    } catch {
      return undefined;
    }
  }
  function readFirstPaintEndOf(b: Uint8Array): number {
    const [len, start] = readVarint(b, 5) as [number, number];
    return start + len;
  }

  it('huge message lengths are rejected before allocation', () => {
    const b = s.bytes.slice(0, 10);
    b.set([0xff, 0xff, 0xff, 0xff, 0x0f], 5);
    expect(errorOf(parseMrt(b))!.code).toBe('limit');
    const c = s.bytes.slice(0, 11);
    c.set([0xff, 0xff, 0xff, 0xff, 0xff, 0x01], 5);
    expect(errorOf(parseMrt(c))!.code).toBe('corrupt');
    // the Index's length
    const x = s.bytes.slice(0, info.firstPaintEnd + 5);
    x.set([0xff, 0xff, 0xff, 0xff, 0x0f], info.firstPaintEnd);
    expect(errorOf(parseMrt(x))!.code).toBe('limit');
    expect(errorOf(parseMrt(x))!.offset).toBe(info.firstPaintEnd);
    expect(() => readHeader(x)).toThrow(/limit/);
    // chunk length that disagrees with the table
    const d = s.bytes.slice();
    d.set([0xff, 0xff, 0xff, 0x7f], info.headerEnd);
    const ev = parseMrt(d);
    expect(errorOf(ev)!.code).toBe('table');
    expect(errorOf(ev)!.offset).toBe(info.headerEnd);
  });
});

suite('chunk table coding', () => {
  it('round trips random size sequences', () => {
    const r = rng(9);
    for (let rep = 0; rep < 300; rep++) {
      const n = Math.floor(r() * 100);
      const scale = [10, 300, 70000, LIMITS.MAX_CHUNK_BYTES][rep % 4]!;
      const sizes = Array.from({ length: n }, () => Math.floor(r() * scale));
      const enc = encodeChunkSizes(sizes);
      expect(decodeChunkSizes(enc, n, 0)).toEqual(sizes);
    }
  });
  it('is compact for smoothly varying sizes', () => {
    const sizes = Array.from({ length: 64 }, (_, k) => Math.round(200 - 2.5 * k + 4 * Math.sin(k)));
    expect(encodeChunkSizes(sizes).length).toBeLessThan(48);
  });
  it('rejects short or hostile tables', () => {
    expect(() => decodeChunkSizes(new Uint8Array([3]), 2, 0)).toThrow(MrtFormatError);
    expect(() => decodeChunkSizes(new Uint8Array([99, 0]), 1, 0)).toThrow(MrtFormatError);
    expect(() => decodeChunkSizes(new Uint8Array(2000).fill(255).fill(0, 0, 1), 1, 0)).toThrow(MrtFormatError);
  });
});

suite('mrt info', () => {
  it('describe + formatInfo', () => {
    const s = syntheticStream({ width: 768, height: 512, placeholderBytes: 180, finalBytes: 100, contentHash: true });
    const info = readHeader(s.bytes);
    const d = describe(info);
    expect(d.image).toEqual({ width: 768, height: 512 });
    expect(d.firstPaintBytes).toBe(info.firstPaintEnd);
    expect(d.firstPaintBytes + d.indexBytes).toBe(d.headerBytes);
    expect(d.chunks.length).toBe(64);
    expect(d.placeholder!.bytes).toBe(180);
    expect(JSON.parse(JSON.stringify(d))).toEqual(d);
    const text = formatInfo(info, info.chunkEnds[3]! + 5);
    expect(text).toMatch(/768x512/);
    expect(text).toMatch(new RegExp(`first paint ${info.firstPaintEnd} B`));
    expect(text).toMatch(/index +\d+ B/);
    expect(text).toMatch(/truncated prefix with 4 whole chunks/);
  });
});

suite('coarse-first order (2.8)', () => {
  it('round trips its layout; the writer and reader refuse an inconsistent one', () => {
    const s = syntheticStream({ width: 100, height: 70, T: 4, layersPerChunk: 1, coarseLayers: 2 });
    const h = readHeader(s.bytes).header;
    expect(h.version).toEqual({ major: 2, minor: 8 });
    expect(h.layout).toMatchObject({ order: 'coarse-first', coarseLayers: 2, tokensPerWindow: 4 });
    expect(h.totalTokens).toBe(s.layout.windows * 6);
    expect(h.chunks.at(-1)!.tokenEnd).toBe(s.layout.windows * 6);
    const base = { modelId: 'x', width: 64, height: 64, prior: 'static' as const, coder: 'restart' as const, chunkFraming: 'message' as const };
    expect(() => writeMrt({ ...base, layout: { window: 32, baseFactor: 16, tokensPerWindow: 4, levels: 9, order: 'coarse-first' } }, [])).toThrow(/coarseLayers/);
    expect(() => writeMrt({ ...base, layout: { window: 32, baseFactor: 16, tokensPerWindow: 4, levels: 9, coarseLayers: 2 } }, [])).toThrow(/coarse-first/);
    expect(() => writeMrt({ ...base, layout: { window: 32, baseFactor: 16, tokensPerWindow: 4, levels: 5, order: 'coarse-first', coarseLayers: 2 } }, [])).toThrow(/9 levels/);
    expect(() => writeMrt({ ...base, layout: { window: 32, baseFactor: 16, tokensPerWindow: 4, levels: 9, order: 'coarse-first', coarseLayers: 5 } }, [])).toThrow(/coarse/);
  });
});
