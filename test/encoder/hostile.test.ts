// decode() against streams that claim more than they hold: each is refused with a clear
// error before anything of the claimed size is allocated (docs/design.md, "Limits").
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { readHeader } from '../../src/format/index.ts';
import { decode, DecodeError, encode, loadModels, type Models } from '../../src/encoder/index.ts';
import { modelHashPrefix } from '../../src/encoder/models.ts';
import { claimStream } from '../format/hostile.ts';
import { pngBomb, rewrite } from './bombs.ts';

const KODAK = new URL('../../../shared/data/kodak/', import.meta.url).pathname;
let models: Models;
let mrt: Uint8Array;
const bomb = pngBomb(16000, 16000);

beforeAll(async () => {
  models = await loadModels();
  const png = await sharp(join(KODAK, 'kodim23.png')).extract({ left: 200, top: 100, width: 256, height: 192 }).png().toBuffer();
  mrt = await encode(new Uint8Array(png), { models, layers: 64 });
});

async function refusal(p: Promise<unknown>): Promise<string> {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(DecodeError);
  return (e as Error).message;
}

describe('decode() refuses what the header does not allow', () => {
  it('a tiny header claiming 5792x5792 (once 2.78 GB in mrt decode)', async () => {
    const s = claimStream(5792, 5792, { modelHash: modelHashPrefix(models.manifest), coarseLayers: 192 });
    expect(s.length).toBeLessThan(64);
    expect(await refusal(decode(s, { models }))).toMatch(/5792x5792 .* exceeds the size limit/);
  });

  it("a layout other than the model's manifest, under the model's hash", async () => {
    const s = claimStream(256, 192, { modelHash: modelHashPrefix(models.manifest), tokens: 8, baseFactor: 8 });
    expect(await refusal(decode(s, { models }))).toMatch(/layout does not match the model's manifest: base factor 8 \(model 16\), 8 tokens per window \(model 512\)/);
  });

  it('a final layer whose image is not the header size (a 31 KB PNG of 16000x16000)', async () => {
    expect(bomb.length).toBeLessThan(40_000);
    const s = rewrite(mrt, { final: { mime: 'image/png', bytes: bomb } });
    expect(await refusal(decode(s, { models }))).toMatch(/final layer is 16000x16000, the header says 256x192/);
  });

  it('a final layer of the right size still decodes', async () => {
    const right = await sharp({ create: { width: 256, height: 192, channels: 3, background: '#336699' } }).png().toBuffer();
    const r = await decode(rewrite(mrt, { final: { mime: 'image/png', bytes: new Uint8Array(right) } }), { models });
    expect([r.source, r.image.width, r.image.height, r.image.data[0]]).toEqual(['final', 256, 192, 0x33]);
  });

  it('a placeholder whose image is not its stated size, before and after the Index', async () => {
    const s = rewrite(mrt, { placeholder: { mime: 'image/png', width: 16, height: 12, bytes: bomb } });
    expect(await refusal(decode(s, { models, bytes: readHeader(s).firstPaintEnd }))).toMatch(/placeholder is 16000x16000, the header says 16x12/);
    expect(await refusal(decode(s, { models }))).toMatch(/placeholder is 16000x16000, the header says 16x12/);
  });

  it("a placeholder of a legal size that is not the model's base", async () => {
    const small = await sharp({ create: { width: 8, height: 6, channels: 3, background: '#808080' } }).png().toBuffer();
    const s = rewrite(mrt, { placeholder: { mime: 'image/png', width: 8, height: 6, bytes: new Uint8Array(small) } });
    expect(await refusal(decode(s, { models }))).toMatch(/placeholder 8x6, the model's base for 256x192 is 16x12/);
  });
});
