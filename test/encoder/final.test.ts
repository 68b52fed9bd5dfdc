// The final layer by default: an AVIF of the whole image, the learned chunks cut so that the file
// stays within 10 % of the plain AVIF; and (2.11) a photo past the learned layer's limit coded as
// a downscaled learned layer with the final at full size.
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { describe as describeInfo, LIMITS, readHeader } from '../../src/format/index.ts';
import { decode, encode, loadModels, type Models } from '../../src/encoder/index.ts';

const KODAK = new URL('../../../shared/data/kodak/', import.meta.url).pathname;
let models: Models;
let png: Uint8Array;
let rgb: { data: Buffer; info: { width: number; height: number } };

beforeAll(async () => {
  models = await loadModels();
  png = new Uint8Array(await sharp(join(KODAK, 'kodim23.png')).extract({ left: 128, top: 64, width: 512, height: 384 }).png().toBuffer());
  rgb = await sharp(png).raw().toBuffer({ resolveWithObject: true });
});

/** sharp's AVIF of the same pixels at the encoder's settings: the plain file a site would serve. */
async function plainAvif(data: Buffer, width: number, height: number, quality = 50): Promise<number> {
  return (await sharp(data, { raw: { width, height, channels: 3 } }).avif({ quality, effort: 4 }).toBuffer()).length;
}

describe('final layer by default', () => {
  it('appends an AVIF at quality 50 and cuts the learned chunks to keep the file within 10 % of the plain AVIF', async () => {
    const mrt = await encode(png, { models });
    const info = readHeader(mrt);
    const d = describeInfo(info);
    expect(info.header.final?.mime).toBe('image/avif');
    const plain = await plainAvif(rgb.data, 512, 384);
    expect(mrt.length).toBeLessThanOrEqual(plain * 1.1);
    expect(mrt.length).toBeGreaterThan(plain);
    // the final is the plain AVIF, framed: the rest is the header and the learned chunks
    expect(d.split.final - plain).toBeLessThanOrEqual(12);
    expect(d.split.learned).toBeGreaterThan(0);
    expect(d.split.header + d.split.learned + d.split.final).toBe(mrt.length);
    // a looser cap keeps more learned bytes; none keeps every layer
    const looser = describeInfo(readHeader(await encode(png, { models, maxOverhead: 0.3 })));
    expect(looser.split.learned).toBeGreaterThan(d.split.learned);
    const all = readHeader(await encode(png, { models, maxOverhead: null }));
    expect(all.header.chunks.at(-1)!.tokenEnd).toBe(all.header.totalTokens);
    expect(info.header.chunks.at(-1)!.tokenEnd).toBeLessThan(info.header.totalTokens);
    // every prefix of the cut stream still decodes; the whole file shows the final
    expect((await decode(mrt, { models, bytes: info.chunkEnds.at(-1)! })).source).toBe('tokens');
    expect((await decode(mrt, { models })).source).toBe('final');
  });

  it('takes the quality and refuses bad settings', async () => {
    const small = new Uint8Array(await sharp(png).extract({ left: 0, top: 0, width: 192, height: 128 }).png().toBuffer());
    const q80 = readHeader(await encode(small, { models, finalQuality: 80, maxOverhead: 0 }));
    expect(q80.header.final!.byteLength).toBeGreaterThan(readHeader(await encode(small, { models, maxOverhead: 0 })).header.final!.byteLength);
    await expect(encode(small, { models, maxOverhead: -1 })).rejects.toThrow(/maxOverhead must be/);
    const none = readHeader(await encode(small, { models, final: 'none', maxOverhead: 0 }));
    expect(none.header.final).toBeUndefined();
    expect(none.header.chunks.at(-1)!.tokenEnd).toBe(none.header.totalTokens);
  });
});

describe('a photo past the learned layer limit (2.11)', () => {
  // (4000x3000 and 12 MP photos: bench/encode-speed.ts; the same code path, three times the final's pixels)
  it('codes a 1600x1200 photo as a downscaled learned layer of at most 1 Mi padded pixels and a full-size final', async () => {
    const big = new Uint8Array(await sharp(join(KODAK, 'kodim05.png')).resize(1600, 1200, { fit: 'fill' }).jpeg({ quality: 90 }).toBuffer());
    const mrt = await encode(big, { models });
    const h = readHeader(mrt).header;
    expect([h.version.minor, h.imageWidth, h.imageHeight]).toEqual([11, 1600, 1200]);
    expect(h.layout.gridW * h.layout.gridH * 32 * 32).toBeLessThanOrEqual(LIMITS.MAX_PIXELS);
    expect(h.width * h.height).toBeGreaterThan(0.9 * LIMITS.MAX_PIXELS * 0.9);
    expect(Math.abs(h.width / h.height - 1600 / 1200)).toBeLessThan(0.01);
    // a prefix paints the learned layer at the image's size; the whole file is the final at full size
    const prefix = await decode(mrt, { models, bytes: 2048 });
    expect([prefix.source, prefix.image.width, prefix.image.height, prefix.learnedSize]).toEqual(['tokens', 1600, 1200, { width: h.width, height: h.height }]);
    // or at the learned layer's own size, as a smaller display shows it: the same pixels before the scaling
    const own = await decode(mrt, { models, bytes: 2048, size: 'learned' });
    expect([own.source, own.image.width, own.image.height, own.tokens]).toEqual(['tokens', h.width, h.height, prefix.tokens]);
    const whole = await decode(mrt, { models });
    expect([whole.source, whole.image.width, whole.image.height]).toEqual(['final', 1600, 1200]);
    // without a final layer nothing would carry the full resolution
    await expect(encode(big, { models, final: 'none' })).rejects.toThrow(/1600x1200 is larger than the learned layer's limit .* needs a final layer/);
  }, 120_000);
});
