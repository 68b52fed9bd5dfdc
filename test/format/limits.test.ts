// The one image-size rule (src/format/limits.ts): what it allows, and that every header
// reader applies it before anything of the claimed size exists.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkImageSize, fullSizeProblem, imageSizeProblem, LIMITS, MrtFormatError, parseMrt, readFirstPaint, readHeader, SIZED_FOR_STREAM_LAYERS } from '../../src/format/index.ts';
import { claimStream } from './hostile.ts';

const manifest = JSON.parse(readFileSync(new URL('../../models/manifest.json', import.meta.url), 'utf8')) as { layout: { window: number; tokens: number } };

function limitError(f: () => unknown): MrtFormatError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(MrtFormatError);
    return e as MrtFormatError;
  }
  throw new Error('no error');
}

describe('the image-size rule', () => {
  it('is sized for the shipped model: no image within the pixel limit exceeds MAX_TOKENS, whatever its coarse pass', () => {
    const { window, tokens } = manifest.layout;
    // the coarse pass covers at most T layers: T + K <= 2T stream layers
    expect(2 * tokens).toBeLessThanOrEqual(SIZED_FOR_STREAM_LAYERS);
    expect(window).toBe(32);
    // the largest padded image: MAX_PIXELS exactly
    const side = Math.sqrt(LIMITS.MAX_PIXELS);
    expect(imageSizeProblem(side, side, { window, streamLayers: 2 * tokens })).toBeNull();
    expect(imageSizeProblem(LIMITS.MAX_DIMENSION, LIMITS.MAX_PIXELS / LIMITS.MAX_DIMENSION, { window, streamLayers: 2 * tokens })).toBeNull();
  });

  it('counts the padded image: one pixel past the grid adds a row of windows', () => {
    const side = Math.sqrt(LIMITS.MAX_PIXELS);
    expect(imageSizeProblem(side, side)).toBeNull();
    expect(imageSizeProblem(side, side + 1)).toMatch(/exceeds the size limit of 16384 px a side and 1.0 MP/);
    expect(imageSizeProblem(LIMITS.MAX_DIMENSION + 1, 1)).toMatch(/16385x1/);
  });

  it('adds the token bound once the stream layers are known', () => {
    expect(imageSizeProblem(1024, 1024, { window: 32, streamLayers: 1025 })).toMatch(/more than MAX_TOKENS/);
    expect(imageSizeProblem(1024, 1024, { window: 32, streamLayers: 1024 })).toBeNull();
    const e = limitError(() => checkImageSize(5000, 5000, { window: 32 }, 7));
    expect([e.code, e.offset]).toEqual(['limit', 7]);
  });
});

describe('header readers apply it', () => {
  // 5792 x 5792 (33.5 MP, once accepted): 40 bytes that made `mrt decode` use 2.78 GB
  const claim = claimStream(5792, 5792);

  it('refuses a tiny header that claims a huge image at the first paint, before the Index', () => {
    expect(claim.length).toBeLessThan(64);
    const e = limitError(() => readFirstPaint(claim));
    expect(e.code).toBe('limit');
    expect(e.message).toMatch(/5792x5792 .* exceeds the size limit/);
    const ev = parseMrt(claim);
    expect(ev.map((x) => x.type)).toEqual(['error']);
  });

  it('refuses tokens past MAX_TOKENS in the Index (the size alone is legal)', () => {
    const e = limitError(() => readHeader(claimStream(1024, 1024, { tokens: 4096 })));
    expect(e.message).toMatch(/4096 stream layers .* more than MAX_TOKENS/);
  });

  it('accepts the largest legal stream', () => {
    const info = readHeader(claimStream(1024, 1024, { tokens: 512, coarseLayers: 512 }));
    expect(info.header.totalTokens).toBe(LIMITS.MAX_TOKENS);
  });

  it('(2.11) accepts an image larger than its learned layer only with a final layer, the same aspect and within the image limit', () => {
    const final = { mime: 'image/avif', byteLength: 100 };
    const ok = readHeader(claimStream(1248, 832, { image: [4000, 2667], final }));
    expect([ok.header.width, ok.header.height, ok.header.imageWidth, ok.header.imageHeight]).toEqual([1248, 832, 4000, 2667]);
    expect(limitError(() => readHeader(claimStream(1248, 832, { image: [4000, 2667] }))).message).toMatch(/coded as a 1248x832 learned layer without a final layer/);
    expect(limitError(() => readFirstPaint(claimStream(1248, 832, { image: [4000, 4000], final }))).message).toMatch(/does not have the aspect/);
    expect(limitError(() => readFirstPaint(claimStream(1248, 832, { image: [1000, 667], final }))).message).toMatch(/larger than the image/);
    const huge = limitError(() => readFirstPaint(claimStream(1024, 768, { image: [16384, 12288], final })));
    expect([huge.code, huge.message]).toEqual(['limit', expect.stringMatching(/16384x12288 .* exceeds the size limit of 16384 px a side and 67.1 MP/)]);
    expect(fullSizeProblem(8192, 8192)).toBeNull();
    expect(fullSizeProblem(8192, 8193)).toMatch(/exceeds/);
  });

  it('refuses a placeholder larger than the padded image', () => {
    const s = claimStream(768, 512, { placeholder: { width: 16000, height: 16000, data: new Uint8Array(8) } });
    expect(limitError(() => readFirstPaint(s)).message).toMatch(/placeholder 16000x16000 is larger than the padded image 768x512/);
  });
});
