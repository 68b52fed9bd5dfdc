// Golden vectors: committed .mrt files and their expected tokens (regenerate only on purpose
// with `npx tsx test/golden/generate.ts`). The browser half runs the same files in Chromium.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeMrt, parseRcm, tokenLayout, tokenProgress } from '../../src/codec/index.ts';
import { readHeader } from '../../src/format/index.ts';

const dir = dirname(fileURLToPath(import.meta.url));
const vectors = readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'rcm-small.json');

describe('golden vectors (Node)', () => {
  it('there are vectors', () => expect(vectors.length).toBeGreaterThanOrEqual(4));
  for (const v of vectors) {
    it(v, () => {
      const exp = JSON.parse(readFileSync(join(dir, v), 'utf8'));
      const bytes = new Uint8Array(readFileSync(join(dir, exp.file)));
      expect(bytes.length).toBe(exp.bytes);
      const rcm = exp.rcm ? parseRcm(readFileSync(join(dir, exp.rcm), 'utf8')) : null;
      const r = decodeMrt(bytes, { rcm });
      expect(r.error).toBeUndefined();
      expect(r.header!.width).toBe(exp.width);
      expect(r.header!.height).toBe(exp.height);
      expect(r.header!.layout).toMatchObject(exp.layout);
      expect(r.chunks).toBe(exp.chunks);
      expect(r.header!.chunks.length).toBe(exp.chunksTotal);
      expect(r.complete).toBe(exp.complete);
      expect(r.final ? { mime: r.final.mime, bytes: r.final.bytes.length } : null).toEqual(exp.final);
      expect(r.known).toBe(exp.known);
      // the tokens the known symbols tell (2.8: 3c + 1 for one known only by its coarse trit c)
      expect(Array.from(r.tokens.subarray(0, tokenProgress(tokenLayout(r.header!.layout), r.known).coarse))).toEqual(exp.tokens);
      expect(readHeader(bytes).header.chunks.length).toBe(exp.chunksTotal);
    });
  }
});
