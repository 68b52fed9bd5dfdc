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
  readHeader,
  writeMrt,
  crc32,
  type MrtEvent,
} from '../../src/format/index.ts';
import { mrt } from '../../src/format/gen/mrt.js';
import { decodeChunkSizes, encodeChunkSizes } from '../../src/format/table.ts';
import { writeVarint, varintSize } from '../../src/format/varint.ts';
import { rng } from '../codec/fixtures.ts';
import { syntheticStream } from './helpers.ts';

const protoPath = fileURLToPath(new URL('../../proto/mrt.proto', import.meta.url));

function chunksOf(events: MrtEvent[]) {
  return events.filter((e) => e.type === 'chunk') as Extract<MrtEvent, { type: 'chunk' }>[];
}
function errorOf(events: MrtEvent[]) {
  const e = events.find((e) => e.type === 'error') as Extract<MrtEvent, { type: 'error' }> | undefined;
  return e?.error;
}

/** rebuild a stream from a raw header message + the original messages after it */
function withHeaderMessage(bytes: Uint8Array, headerMsg: Uint8Array, preamble = bytes.subarray(0, 5)): Uint8Array {
  const info = readHeader(bytes);
  const rest = bytes.subarray(info.headerEnd);
  const out = new Uint8Array(5 + varintSize(headerMsg.length) + headerMsg.length + rest.length);
  out.set(preamble, 0);
  let p = writeVarint(out, 5, headerMsg.length);
  out.set(headerMsg, p);
  out.set(rest, p + headerMsg.length);
  return out;
}


suite('container round trip', () => {
  const s = syntheticStream({ width: 768, height: 512, placeholderBytes: 200, finalBytes: 3000, contentHash: true });

  it('readHeader returns every field and the byte geometry', () => {
    const info = readHeader(s.bytes);
    const h = info.header;
    expect(h.width).toBe(768);
    expect(h.height).toBe(512);
    expect(h.layout).toEqual({ window: 32, baseFactor: 16, gridW: 24, gridH: 16, tokensPerWindow: 64, levels: 9, order: 'layer-major' });
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
    // chunk ends are message boundaries: the parser agrees
    const ev = parseMrt(s.bytes);
    expect(chunksOf(ev).map((c) => c.end)).toEqual(info.chunkEnds);
    expect(ev.at(-1)).toEqual({ type: 'end', chunks: 64, chunksTotal: 64, final: true, complete: true });
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

  it('header without placeholder is small (768x512, 64 chunks)', () => {
    const t = syntheticStream({ width: 768, height: 512 });
    const info = readHeader(t.bytes);
    // preamble + length + header message; the Rice-coded chunk table is ~5.5 bits per chunk here
    expect(info.headerEnd).toBeLessThan(110);
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

  it('writer rejects non-contiguous or empty chunks', () => {
    const t = syntheticStream({ width: 64, height: 64, T: 4 });
    expect(() => writeMrt(t.header, [{ tokenStart: 1, tokenEnd: 4, payload: new Uint8Array(1) }])).toThrow(MrtFormatError);
    expect(() => writeMrt(t.header, [{ tokenStart: 0, tokenEnd: 0, payload: new Uint8Array(1) }])).toThrow(MrtFormatError);
    expect(() => writeMrt(t.header, [{ tokenStart: 0, tokenEnd: 99, payload: new Uint8Array(1) }])).toThrow(MrtFormatError);
  });

  it('stream without chunks', () => {
    const t = syntheticStream({ width: 64, height: 64, T: 4, layers: 0 });
    expect(t.chunks.length).toBe(0);
    expect(parseMrt(t.bytes).map((e) => e.type)).toEqual(['header', 'end']);
  });
});

suite('schema of record', () => {
  const root = protobuf.loadSync(protoPath);
  const Header = root.lookupType('mrt.Header');
  const Chunk = root.lookupType('mrt.Chunk');
  const Final = root.lookupType('mrt.Final');
  const s = syntheticStream({ width: 300, height: 200, T: 16, placeholderBytes: 50, finalBytes: 100, contentHash: true });

  it('reflection decoding of proto/mrt.proto agrees with the generated code and the writer', () => {
    const info = readHeader(s.bytes);
    const body = s.bytes.subarray(5 + varintSize(info.headerEnd - 5 - 2), info.headerEnd);
    const refl = Header.toObject(Header.decode(body), { defaults: true }) as any;
    const gen = mrt.Header.decode(body);
    expect(refl.width).toBe(300);
    expect(refl.height).toBe(200);
    expect(refl.layout.gridW).toBe(10);
    expect(refl.layout.tokens).toBe(16);
    expect(refl.chunkCount).toBe(info.header.chunks.length);
    expect(new Uint8Array(refl.chunkSizes)).toEqual(new Uint8Array(gen.chunkSizes!));
    expect(refl.placeholder.data.length).toBe(50);
    expect(refl.final.byteLength).toBe(info.header.final!.byteLength);
    // every Chunk message decodes with reflection to the same payload, and the hand-written
    // Chunk encoding equals protobufjs' (nonzero crc)
    let pos = info.headerEnd;
    const hcrc = crc32(body);
    for (const c of info.header.chunks) {
      const msg = s.bytes.subarray(pos + varintSize(c.byteLength), pos + varintSize(c.byteLength) + c.byteLength);
      const m = Chunk.decode(msg) as any;
      expect(new Uint8Array(m.payload)).toEqual(s.chunks[c.index]!.payload);
      expect(new Uint8Array(Chunk.encode(Chunk.fromObject({ payload: m.payload, crc32: m.crc32 })).finish())).toEqual(new Uint8Array(msg));
      expect(m.crc32).not.toBe(hcrc); // sanity
      pos += varintSize(c.byteLength) + c.byteLength;
    }
    const fmsg = s.bytes.subarray(pos + varintSize(info.header.final!.byteLength));
    expect(new Uint8Array((Final.decode(fmsg) as any).data)).toEqual(s.final!.bytes);
  });

  it('a header written with reflection (plus unknown fields) is read', () => {
    const info = readHeader(s.bytes);
    const body = s.bytes.subarray(info.headerEnd - (info.headerEnd - 5 - varintSize(info.headerEnd - 5 - 2)), info.headerEnd);
    const obj = Header.toObject(Header.decode(body));
    const re = Header.encode(Header.fromObject(obj)).finish();
    // append unknown fields from a "newer minor version": varint field 100, bytes field 101
    const w = protobuf.Writer.create();
    w.uint32((100 << 3) | 0).uint32(12345);
    w.uint32((101 << 3) | 2).bytes(new Uint8Array([1, 2, 3]));
    const extra = w.finish();
    const newer = new Uint8Array(re.length + extra.length);
    newer.set(re);
    newer.set(extra, re.length);
    // the chunk checksums continue from crc32(header), so re-encode the chunks too
    const stream = writeWithHeader(newer, s, 7);
    const ev = parseMrt(stream);
    expect(errorOf(ev)).toBeUndefined();
    expect(chunksOf(ev).length).toBe(s.chunks.length);
    expect(readHeader(stream).header.version).toEqual({ major: 1, minor: 7 });
  });
});

/** A stream with the given raw header message and the chunks/final of `s` (checksums recomputed). */
function writeWithHeader(headerMsg: Uint8Array, s: ReturnType<typeof syntheticStream>, minor = 0): Uint8Array {
  const hcrc = crc32(headerMsg);
  const parts: Uint8Array[] = [headerMsg];
  s.chunks.forEach((c, k) => parts.push(encodeChunkMsg(hcrc, k, c.payload)));
  if (s.final) parts.push(encodeFinalMsg(hcrc, s.final.bytes));
  let n = 5;
  for (const p of parts) n += varintSize(p.length) + p.length;
  const out = new Uint8Array(n);
  out.set([0x4d, 0x52, 0x54, 1, minor]);
  let pos = 5;
  for (const p of parts) {
    pos = writeVarint(out, pos, p.length);
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}
import { encodeChunkMessage as encodeChunkMsg, encodeFinalMessage as encodeFinalMsg } from '../../src/format/index.ts';

suite('truncation', () => {
  const s = syntheticStream({ width: 768, height: 512, placeholderBytes: 200, finalBytes: 500 });
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
      for (const c of ch) if (!same(c.payload, s.chunks[c.index]!.payload)) problems.push(`${cut}: chunk ${c.index} differs`);
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

  it('readHeader asks for more until the header is complete', () => {
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

  it('prefixLength: largest chunk boundary within the budget, never below the header', () => {
    expect(prefixLength(info, { bytes: 0 })).toBe(info.headerEnd);
    expect(prefixLength(info, { bytes: info.headerEnd - 1 })).toBe(info.headerEnd);
    expect(prefixLength(info, { bytes: info.chunkEnds[0]! - 1 })).toBe(info.headerEnd);
    expect(prefixLength(info, { bytes: info.chunkEnds[0]! })).toBe(info.chunkEnds[0]);
    expect(prefixLength(info, { bytes: info.chunkEnds[10]! + 3 })).toBe(info.chunkEnds[10]);
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
      expect(parseMrt(s.bytes.subarray(0, cut)).at(-1)!.type).toBe('end');
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
    v[3] = 2;
    const e = errorOf(parseMrt(v))!;
    expect(e.code).toBe('version');
    expect(e.message).toMatch(/newer/);
    expect(() => readHeader(v)).toThrow(/newer/);
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

  it('header corruption makes chunk 0 fail its checksum', () => {
    const b = s.bytes.slice();
    // the placeholder-free header: flip a bit of the model id
    const idx = b.indexOf('t'.charCodeAt(0), 5);
    b[idx] ^= 1;
    const ev = parseMrt(b);
    expect(chunksOf(ev).length).toBe(0);
    expect(errorOf(ev)!.code).toBe('crc');
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

  const base = mrt.Header.decode(s.bytes.subarray(info.headerEnd - (info.headerEnd - 5 - 1), info.headerEnd));
  function withHeader(patch: (h: any) => void): Uint8Array {
    const h: any = mrt.Header.decode(mrt.Header.encode(base).finish());
    patch(h);
    return withHeaderMessage(s.bytes, mrt.Header.encode(h).finish());
  }
  const limitCases: [string, (h: any) => void, string][] = [
    ['width above MAX_DIMENSION', (h) => { h.width = LIMITS.MAX_DIMENSION + 1; h.layout.gridW = Math.ceil(h.width / 32); }, 'limit'],
    ['too many pixels', (h) => { h.width = 16384; h.height = 16384; h.layout.gridW = 512; h.layout.gridH = 512; }, 'limit'],
    ['tokens above MAX_TOKENS', (h) => { h.width = 8192; h.height = 8192; h.layout.gridW = 256; h.layout.gridH = 256; h.layout.tokens = 4096; }, 'limit'],
    ['chunk count above MAX_CHUNKS', (h) => { h.chunkCount = LIMITS.MAX_CHUNKS + 1; }, 'limit'],
    ['huge chunk sizes', (h) => { h.chunkSizes = encodeChunkSizes(Array(16).fill(LIMITS.MAX_CHUNK_BYTES)); h.chunkCount = 16; }, 'limit'],
    ['chunk size above MAX_CHUNK_BYTES', (h) => { h.chunkSizes = encodeChunkSizes([LIMITS.MAX_CHUNK_BYTES + 1]); h.chunkCount = 1; }, 'limit'],
    ['final above MAX_FINAL_BYTES', (h) => { h.final.byteLength = LIMITS.MAX_FINAL_BYTES + 1; }, 'limit'],
    ['levels above 256', (h) => { h.layout.levels = 1000; }, 'limit'],
    ['grid mismatch', (h) => { h.layout.gridW += 1; }, 'corrupt'],
    ['no layout', (h) => { delete h.layout; }, 'corrupt'],
    ['unknown order', (h) => { h.layout.order = 3; }, 'unsupported'],
    ['unknown prior', (h) => { h.prior = 7; }, 'unsupported'],
    ['token ranges beyond the stream', (h) => { h.chunkTokenStep = 1 << 20; }, 'corrupt'],
    ['model id too long', (h) => { h.modelId = 'x'.repeat(5000); }, 'limit'],
  ];
  for (const [name, patch, code] of limitCases) {
    it(`header: ${name} -> ${code}`, () => {
      const b = withHeader(patch);
      const e = errorOf(parseMrt(b))!;
      expect(e).toBeInstanceOf(MrtFormatError);
      expect(e.code).toBe(code);
      expect(() => readHeader(b)).toThrow(MrtFormatError);
    });
  }

  it('huge message lengths are rejected before allocation', () => {
    const b = s.bytes.slice(0, 10);
    b.set([0xff, 0xff, 0xff, 0xff, 0x0f], 5);
    expect(errorOf(parseMrt(b))!.code).toBe('limit');
    const c = s.bytes.slice(0, 11);
    c.set([0xff, 0xff, 0xff, 0xff, 0xff, 0x01], 5);
    expect(errorOf(parseMrt(c))!.code).toBe('corrupt');
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
    expect(d.chunks.length).toBe(64);
    expect(d.placeholder!.bytes).toBe(180);
    expect(JSON.parse(JSON.stringify(d))).toEqual(d);
    const text = formatInfo(info, info.chunkEnds[3]! + 5);
    expect(text).toMatch(/768x512/);
    expect(text).toMatch(/truncated prefix with 4 whole chunks/);
  });
});
