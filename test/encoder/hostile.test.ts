// decode() against streams that claim more than they hold (test/encoder/hostile-corpus.ts):
// each is refused with a clear error, or paints an image of its header's size with the stream
// error, before anything of the claimed size is allocated (docs/design.md, "Limits"). Time and
// memory per input are asserted by bench/fuzz.ts, not here.
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { readFirstPaint } from '../../src/format/index.ts';
import { decode, DecodeError, encode, loadModels, type Models } from '../../src/encoder/index.ts';
import { rewrite } from './bombs.ts';
import { hostileCorpus, type HostileCase } from './hostile-corpus.ts';

const KODAK = new URL('../../../shared/data/kodak/', import.meta.url).pathname;
let models: Models;
let mrt: Uint8Array;
let corpus: HostileCase[];

beforeAll(async () => {
  models = await loadModels();
  const png = await sharp(join(KODAK, 'kodim23.png')).extract({ left: 200, top: 100, width: 256, height: 192 }).png().toBuffer();
  mrt = await encode(new Uint8Array(png), { models, layers: 64, final: 'none' });
  corpus = await hostileCorpus(models.manifest, mrt);
});

describe('decode() on a hostile corpus', () => {
  it('refuses each refused case with a DecodeError naming the reason, and paints the others at their header size with the error', async () => {
    expect(corpus.length).toBeGreaterThanOrEqual(13);
    for (const c of corpus) {
      const out = await decode(c.bytes, { models }).then((r) => ({ r }), (e: unknown) => ({ e }));
      if (c.refused) {
        expect('e' in out && out.e, c.name).toBeInstanceOf(DecodeError);
        expect(((out as { e: Error }).e).message, c.name).toMatch(c.refused);
      } else {
        expect('r' in out, `${c.name}: ${'e' in out ? String(out.e) : ''}`).toBe(true);
        const { r } = out as { r: Awaited<ReturnType<typeof decode>> };
        const first = readFirstPaint(c.bytes);
        expect([r.image.width, r.image.height, r.image.data.length], c.name).toEqual([first.width, first.height, first.width * first.height * 3]);
        expect(r.error, c.name).toMatch(c.painted!);
      }
    }
  });

  it('the stream the bombs are made from, and a final layer of the right size, decode', async () => {
    expect((await decode(mrt, { models })).source).toBe('tokens');
    const right = await sharp({ create: { width: 256, height: 192, channels: 3, background: '#336699' } }).png().toBuffer();
    const r = await decode(rewrite(mrt, { final: { mime: 'image/png', bytes: new Uint8Array(right) } }), { models });
    expect([r.source, r.image.width, r.image.height, r.image.data[0]]).toEqual(['final', 256, 192, 0x33]);
  });
});
