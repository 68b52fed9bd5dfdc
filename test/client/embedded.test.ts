// The size an embedded image (placeholder, final layer) claims, read from its own header
// before the browser decodes it (src/format/embedded.ts).
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { embeddedProblem, embeddedSize } from '../../src/format/embedded.ts';
import { AVIF_FORMATS, av1StillPayload, wrapAv1Still } from '../../src/format/index.ts';
import { pngBomb } from '../encoder/bombs.ts';

const img = (w: number, h: number) => sharp({ create: { width: w, height: h, channels: 3, background: '#7a5' } });

describe('embeddedSize', () => {
  it('reads the size of PNG, JPEG (baseline and progressive), WebP (lossy, lossless, extended), GIF and AVIF', async () => {
    const cases: [string, Buffer][] = [
      ['png', await img(48, 32).png().toBuffer()],
      ['jpeg', await img(49, 33).jpeg().toBuffer()],
      ['jpeg', await img(49, 33).jpeg({ progressive: true }).toBuffer()],
      ['webp', await img(50, 34).webp().toBuffer()],
      ['webp', await img(50, 34).webp({ lossless: true }).toBuffer()],
      ['webp', await sharp({ create: { width: 50, height: 34, channels: 4, background: '#7a58' } }).webp().toBuffer()],
      ['gif', await img(51, 35).gif().toBuffer()],
      ['avif', await img(52, 36).avif().toBuffer()],
      ['avif', await img(52, 36).avif({ bitdepth: 10, chromaSubsampling: '4:4:4' }).toBuffer()],
    ];
    for (const [format, bytes] of cases) {
      const meta = await sharp(bytes).metadata();
      expect(embeddedSize(new Uint8Array(bytes)), format).toEqual({ format, width: meta.width, height: meta.height });
    }
  });

  it('reads the size of a compact AVIF placeholder as readers rebuild it (wrapAv1Still)', async () => {
    const avif = new Uint8Array(await img(48, 32).avif().toBuffer());
    const compact = av1StillPayload(avif, 48, 32);
    expect(compact).not.toBeNull();
    expect(embeddedSize(wrapAv1Still(compact!.payload, 48, 32, compact!.format))).toEqual({ format: 'avif', width: 48, height: 32 });
  });

  it("an AVIF whose AV1 sequence header allows a larger frame than its ispe is sized by the AV1 header (what the decoder allocates)", async () => {
    const big = new Uint8Array(await img(6000, 6000).avif({ quality: 30, effort: 0, chromaSubsampling: '4:4:4' }).toBuffer());
    // the AV1 bitstream is the payload of the file's one mdat box
    let payload: Uint8Array | null = null;
    const v = new DataView(big.buffer, big.byteOffset);
    for (let o = 0; o + 8 <= big.length; o += v.getUint32(o)) if (String.fromCharCode(...big.subarray(o + 4, o + 8)) === 'mdat') payload = big.subarray(o + 8, o + v.getUint32(o));
    const lying = wrapAv1Still(payload!, 48, 32, AVIF_FORMATS.find((f) => f.chroma === '4:4:4' && f.bitDepth === 8)!);
    expect(lying.length).toBeLessThan(2048);
    expect(embeddedProblem(lying, 48, 32, 'placeholder')).toBe('the placeholder is 6000x6000, the header says 48x32');
    // junk where the AV1 data is: its size cannot be told
    const junk = new Uint8Array(lying);
    junk.fill(0xff, junk.length - payload!.length);
    expect(embeddedProblem(junk, 48, 32, 'placeholder')).toMatch(/does not give its size/);
  });

  it('a 31 KB PNG claiming 16000x16000 is refused on its header for a 48x32 placeholder', () => {
    const bomb = pngBomb(16000, 16000);
    expect(bomb.length).toBeLessThan(64 * 1024);
    expect(embeddedProblem(bomb, 48, 32, 'placeholder')).toBe('the placeholder is 16000x16000, the header says 48x32');
  });

  it('refuses what is not a raster format a stream may embed, or whose header is cut', async () => {
    const svg = new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg" width="48" height="32"/>');
    expect(embeddedProblem(svg, 48, 32, 'final layer')).toMatch(/^the final layer is not an image format a stream may embed/);
    const png = new Uint8Array(await img(48, 32).png().toBuffer());
    expect(embeddedProblem(png.subarray(0, 20), 48, 32, 'placeholder')).toMatch(/does not give its size/);
    expect(embeddedProblem(png, 48, 32, 'placeholder')).toBeNull();
    const jpeg = new Uint8Array(await img(48, 32).jpeg().toBuffer());
    expect(embeddedProblem(jpeg.subarray(0, 30), 48, 32, 'placeholder')).toMatch(/does not give its size/);
  });
});
