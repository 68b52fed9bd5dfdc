// The encoder library through the real models: determinism, prefixes, options, errors.
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeMrt, tokenLayout, tokenProgress } from '../../src/codec/index.ts';
import { readHeader, prefixLength } from '../../src/format/index.ts';
import { decode, DecodeError, defaultCoarseLayers, encode, loadModels, type Models } from '../../src/encoder/index.ts';
import { chunkLayers } from '../../src/format/index.ts';
import { psnr } from '../../bench/lib/metrics.ts';
import { seamStats } from '../../bench/lib/seams.ts';
import { DEBLOCK_DEFAULT } from '../../src/model/deblock.ts';
import { EARLY_LOOP } from '../../src/encoder/tail-rdo.ts';

const KODAK = new URL('../../../shared/data/kodak/', import.meta.url).pathname;
let models: Models;
let png: Uint8Array;
let original: Buffer;

beforeAll(async () => {
  models = await loadModels();
  // A 256x192 crop of a real photo keeps the test quick while exercising several windows.
  const img = sharp(join(KODAK, 'kodim23.png')).extract({ left: 200, top: 100, width: 256, height: 192 });
  png = new Uint8Array(await img.clone().png().toBuffer());
  original = await img.clone().raw().toBuffer();
});

/** A prefix's tokens agree with the whole stream's: exact ones equal, coarse-only ones (2.8) in the same bin. */
function expectSameTokens(part: ReturnType<typeof decodeMrt>, full: ReturnType<typeof decodeMrt>): void {
  const p = tokenProgress(tokenLayout(full.header!.layout), part.known);
  expect(Buffer.compare(Buffer.from(part.tokens.subarray(0, p.exact)), Buffer.from(full.tokens.subarray(0, p.exact)))).toBe(0);
  for (let i = p.exact; i < p.coarse; i++) if (Math.floor(part.tokens[i]! / 3) !== Math.floor(full.tokens[i]! / 3)) expect.unreachable(`coarse token ${i}`);
}

describe('encode/decode library', () => {
  it('is deterministic: same input and options give the same bytes', async () => {
    const a = await encode(png, { models, final: 'none' });
    const b = await encode(png, { models, final: 'none' });
    expect(Buffer.compare(Buffer.from(a), Buffer.from(b))).toBe(0);
  });

  it('writes tokens the Node stream decoder reads back exactly, chunk by chunk', async () => {
    const mrt = await encode(png, { models, final: 'none' });
    const info = readHeader(mrt);
    const { header } = info;
    expect([header.width, header.height]).toEqual([256, 192]);
    expect(header.prior).toBe(models.rcm ? 'rcm' : 'static');
    // format 2.7: a compact Index (no grid), no model label, a 4-byte content hash, a 4-byte model hash,
    // and a Header without the default window and placeholder size (what readers derive: 32, the padded image / 16)
    const gen = (await import('../../src/format/gen/mrt.js')).mrt;
    const index = gen.Index.decode(mrt.subarray(info.firstPaintEnd + 1, info.headerEnd));
    // (2.10: the coarse pass coded by the model's coarse RCM, Index prior 4, when it has one)
    const minor = models.rcm?.coarse ? 10 : 9;
    expect([header.version.minor, index.layout?.gridW ?? 0, index.layout?.gridH ?? 0]).toEqual([minor, 0, 0]);
    expect([header.coarseRcm, index.prior]).toEqual(models.rcm?.coarse ? [true, 4] : [false, 3]);
    // 2.8: the coarse-first order, by default over the layers the model's coarse RCM covers
    const K = defaultCoarseLayers(models);
    expect(K).toBe(models.rcm?.coarse ? Math.min(models.rcm.coarse.T, models.manifest.layout.tokens) : 128);
    expect([header.layout.order, header.layout.coarseLayers, index.layout?.order, index.layout?.coarseLayers]).toEqual(['coarse-first', K, 1, K]);
    const headLen = mrt[5]! < 128 ? 1 : 2; // the Header message's varint length, after the 5-byte preamble
    const head = gen.Header.decode(mrt.subarray(5 + headLen, info.firstPaintEnd));
    expect([head.window, head.placeholder?.width, head.placeholder?.height]).toEqual([0, 0, 0]);
    expect([header.layout.window, header.placeholder?.width, header.placeholder?.height]).toEqual([32, 16, 12]);
    expect([header.layout.gridW, header.layout.gridH]).toEqual([8, 6]);
    expect([header.modelId, header.contentHash?.length, header.modelHash.length]).toEqual(['', 4, 4]);
    // 2.7: the layout's default levels (9) and base factor (16) are not written either
    expect([index.layout?.levels ?? 0, index.layout?.baseFactor ?? 0]).toEqual([0, 0]);
    expect([header.layout.levels, header.layout.baseFactor]).toEqual([9, 16]);
    // default chunking ('doubling64', chunk_rule 3, 2.9): 64 layers, then 64, 128, 256, ... layers
    const T = models.manifest.layout.tokens;
    const perLayer = Math.ceil(256 / 32) * Math.ceil(192 / 32);
    // (the rule's layers are the stream's: K layers of coarse trits, then the T layers)
    const groups = chunkLayers(T + K, 'doubling64');
    expect(groups.slice(0, 3)).toEqual([64, 64, 128]);
    expect((await import('../../src/format/gen/mrt.js')).mrt.Index.decode(mrt.subarray(info.firstPaintEnd + 1, info.headerEnd)).chunkRule).toBe(3);
    expect(Array.from(mrt.subarray(3, 5))).toEqual([2, minor]);
    expect(groups.reduce((a, b) => a + b, 0)).toBe(T + K);
    expect(header.chunks.length).toBe(groups.length);
    expect(header.chunks.map((c) => c.tokenEnd - c.tokenStart)).toEqual(groups.map((n) => n * perLayer));
    // one chunk per layer, or the 'auto' rule, on request
    expect(readHeader(await encode(png, { models, final: 'none', layersPerChunk: 1 })).header.chunks.length).toBe(T + K);
    expect(readHeader(await encode(png, { models, final: 'none', layersPerChunk: 'auto' })).header.chunks.length).toBe(chunkLayers(T + K, 'auto').length);
    const full = decodeMrt(mrt, { rcm: models.rcm });
    expect(full.complete).toBe(true);
    expect(full.known).toBe(header.totalTokens);
    expect(header.totalTokens).toBe((T + K) * perLayer);
    // Every chunk-boundary prefix decodes to the same leading tokens.
    for (const k of [1, 2, 3, header.chunks.length]) {
      const cut = info.chunkEnds[k - 1]!;
      const part = decodeMrt(mrt.subarray(0, cut), { rcm: models.rcm });
      expect(part.error).toBeUndefined();
      expect(part.chunks).toBe(k);
      expectSameTokens(part, full);
    }
    // the layer-major order: the network's tokens are the same (the closed loop from layer
    // EARLY_LOOP.from prices coarse trits higher in a coarse pass, COARSE_BITS_ALPHA), the file within 3 %
    const plain = await encode(png, { models, final: 'none', coarseLayers: 0 });
    const p = decodeMrt(plain, { rcm: models.rcm });
    expect(readHeader(plain).header.layout.order).toBe('layer-major');
    const net = EARLY_LOOP.from * perLayer;
    expect(Buffer.compare(Buffer.from(p.tokens.subarray(0, net)), Buffer.from(full.tokens.subarray(0, net)))).toBe(0);
    expect(Math.abs(mrt.length / plain.length - 1)).toBeLessThan(0.03);
  });

  it('decodes every truncation of a real encoded image to the whole chunks before the cut', async () => {
    const mrt = await encode(png, { models, final: 'none' });
    const info = readHeader(mrt);
    const full = decodeMrt(mrt, { rcm: models.rcm });
    for (let n = 0; n <= mrt.length; n++) {
      const part = decodeMrt(mrt.subarray(0, n), { rcm: models.rcm });
      const whole = info.chunkEnds.filter((e) => e <= n).length;
      if (n < info.headerEnd) {
        expect(part.known, `cut at ${n}`).toBe(0);
        expect(part.error?.code, `cut at ${n}`).toMatch(/need-more|truncated/);
        continue;
      }
      expect(part.chunks, `cut at ${n}`).toBe(whole);
      const onBoundary = n === info.headerEnd || info.chunkEnds.includes(n);
      if (onBoundary) expect(part.error, `cut at ${n}`).toBeUndefined();
      else expect(part.error?.code, `cut at ${n}`).toBe('truncated');
      expectSameTokens(part, full);
    }
  });

  it('paints better images from longer prefixes', async () => {
    const mrt = await encode(png, { models, final: 'none' });
    const info = readHeader(mrt);
    const at = async (bytes: number, regenerate = false) => psnr(original, (await decode(mrt, { models, bytes, regenerate })).image.data);
    const baseOnly = await at(info.headerEnd);
    const quarter = await at(prefixLength(info, { chunks: Math.round(info.chunkEnds.length / 4) }));
    const all = await at(mrt.length);
    expect(quarter).toBeGreaterThan(baseOnly);
    expect(all).toBeGreaterThan(baseOnly + 0.5);
  });

  it('smooths the window seams of a prefix by default, only near window boundaries; deblock: false keeps them', async () => {
    const mrt = await encode(png, { models, final: 'none' });
    const bytes = 1200;
    const raw = (await decode(mrt, { models, bytes, deblock: false })).image;
    const smooth = (await decode(mrt, { models, bytes })).image;
    expect(seamStats(smooth.data, 256, 192).ratio).toBeLessThan(seamStats(raw.data, 256, 192).ratio - 0.2);
    const r = DEBLOCK_DEFAULT.radius;
    const near = (v: number) => v % 32 < r || v % 32 >= 32 - r;
    let changed = 0;
    for (let i = 0; i < raw.data.length; i++) {
      if (raw.data[i] === smooth.data[i]) continue;
      changed++;
      const x = Math.floor(i / 3) % 256, y = Math.floor(i / 3 / 256);
      if (!near(x) && !near(y)) expect.unreachable(`pixel ${x},${y} changed`);
    }
    expect(changed).toBeGreaterThan(0);
  });

  it('honours layers, the placeholder budget and the final layer', async () => {
    const few = await encode(png, { models, final: 'none', layers: 4, placeholderBytes: 100 });
    const h = readHeader(few).header;
    // 4 layers, all of them in the coarse pass: 8 layers of stream symbols, one chunk of the doubling64 rule
    expect(h.layout.coarseLayers).toBe(4);
    expect(h.chunks.map((c) => (c.tokenEnd - c.tokenStart) / (h.layout.gridW * h.layout.gridH))).toEqual([8]);
    const plainFew = readHeader(await encode(png, { models, final: 'none', layers: 4, coarseLayers: 0, layersPerChunk: 'doubling' })).header;
    expect(plainFew.chunks.map((c) => (c.tokenEnd - c.tokenStart) / (h.layout.gridW * h.layout.gridH))).toEqual([1, 1, 2]);
    expect(h.placeholder!.storedBytes ?? h.placeholder!.bytes.length).toBeLessThanOrEqual(100);
    // the default keeps the closer of AVIF and WebP; either can be asked for
    const webp = readHeader(await encode(png, { models, final: 'none', layers: 1, placeholderFormat: 'webp' })).header.placeholder!;
    expect(webp.mime).toBe('image/webp');
    expect(webp.storedBytes).toBeUndefined();
    const avif = readHeader(await encode(png, { models, final: 'none', layers: 1, placeholderFormat: 'avif' })).header.placeholder!;
    expect(avif.mime).toBe('image/avif');
    expect(avif.storedBytes).toBeLessThan(avif.bytes.length);
    expect(['image/avif', 'image/webp']).toContain(readHeader(await encode(png, { models, final: 'none', layers: 1 })).header.placeholder!.mime);
    const withFinal = await encode(png, { models, final: 'webp', finalQuality: 90 });
    const r = await decode(withFinal, { models });
    expect(r.source).toBe('final');
    expect(psnr(original, r.image.data)).toBeGreaterThan(30);
  });

  it('refuses bad options and streams that do not fit the loaded model', async () => {
    await expect(encode(png, { models, final: 'none', layers: 1000 })).rejects.toThrow(/layers must be/);
    await expect(encode(png, { models, final: 'gif' as never })).rejects.toThrow(/final must be/);
    await expect(encode(png, { models, final: 'none', placeholderFormat: 'png' as never })).rejects.toThrow(/placeholderFormat must be/);
    const mrt = await encode(png, { models, final: 'none' });
    await expect(decode(mrt, { models, bytes: 10 })).rejects.toBeInstanceOf(DecodeError);
    // Header received, Index not yet: the placeholder, as a browser paints it.
    const info = readHeader(mrt);
    const early = await decode(mrt, { models, bytes: info.firstPaintEnd });
    expect(early.source).toBe('placeholder');
    expect([early.image.width, early.image.height]).toEqual([256, 192]);
    expect(psnr(original, early.image.data)).toBeGreaterThan(15);
    const other = { ...models, manifest: { ...models.manifest, id: 'other', modelHash: 'ff'.repeat(32) } };
    await expect(decode(mrt, { models: other })).rejects.toThrow(/model/);
  });
});
