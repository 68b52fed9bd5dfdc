// A server-rendered page's inline placeholder (placeholderBackground, src/format/parts.ts), in headless
// Chromium with scripts off (what a visitor sees before the element's script arrives): the
// <mrt-img> box shows the stream's placeholder cropped to the image, as the element paints it.
// The crop matters when the image is not a multiple of the 32-px window: the placeholder covers
// the padded layer, so the CSS background must be larger than the box.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { placeholderBackground, readFirstPaint } from '../../src/format/index.ts';
import { encodeFixture, haveKodak, haveModels, type FixtureSpec } from './fixtures.ts';
import { launchChromium, psnr, type BrowserHandle } from './harness.ts';

if (!haveModels() || !haveKodak()) throw new Error('prerequisites missing (models/ or ../shared/data/kodak): see README');

/** 300x200: padded to 320x224, so the image is 93.75 % x 89.3 % of what the placeholder covers. */
const ODD: FixtureSpec = { name: 'kodim23', crop: [180, 60, 300, 200], layersPerChunk: 8 };

/** The placeholder bitmap scaled to the padded size (bilinear, as a browser scales a background), its top-left w x h. */
async function expected(file: Uint8Array, padW: number, padH: number, w: number, h: number): Promise<Uint8Array> {
  const up = await sharp(file).removeAlpha().resize(padW, padH, { fit: 'fill', kernel: 'linear' }).raw().toBuffer();
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) out.set(up.subarray(y * padW * 3, (y * padW + w) * 3), y * w * 3);
  return out;
}

describe('inline placeholder (placeholderBackground)', () => {
  let b: BrowserHandle;
  beforeAll(async () => {
    b = await launchChromium({ javaScript: false });
  }, 60_000);
  afterAll(async () => b?.close());

  it('shows the placeholder over the image box before any script, cropped like the element crops it', async () => {
    const mrt = await encodeFixture(ODD);
    const first = readFirstPaint(mrt);
    const bg = placeholderBackground(first)!;
    expect(bg).toMatch(/^url\(data:image\/avif;base64,[A-Za-z0-9+/=]+\) 0 0\/106\.6667% 112% no-repeat$/);
    expect(first.paddedWidth).toBe(320);
    expect(first.paddedHeight).toBe(224);
    const page = await b.context.newPage();
    await page.setContent(`<!doctype html><body style="margin:0;background:#fff"><mrt-img src="/i/x.mrt" width="300" height="200" style="display:block;width:300px;height:200px;background:${bg}"></mrt-img></body>`);
    await page.waitForFunction(() => document.readyState === 'complete');
    const png = await page.locator('mrt-img').screenshot();
    await page.close();
    const shot = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    expect([shot.info.width, shot.info.height]).toEqual([300, 200]);
    const right = await expected(first.placeholder!.bytes, 320, 224, 300, 200);
    // the mistake this guards against: the placeholder stretched over the box (its padding shown)
    const stretched = await expected(first.placeholder!.bytes, 300, 200, 300, 200);
    const good = psnr(shot.data, 3, right, 3, 300 * 200);
    const bad = psnr(shot.data, 3, stretched, 3, 300 * 200);
    expect(good).toBeGreaterThan(30);
    expect(good).toBeGreaterThan(bad + 3);
  }, 120_000);

  it('is null for a stream without a placeholder', () => {
    expect(placeholderBackground({ width: 64, height: 64, paddedWidth: 64, paddedHeight: 64 })).toBeNull();
  });
});
