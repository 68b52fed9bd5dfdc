// Kodak .mrt files (default options, no final layer, as bench/rd.ts encodes them), cached on
// disk by model so that decode-side benchmarks do not re-encode on every run.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encode, type Models } from '../../src/encoder/index.ts';
import { KODAK_DIR } from './kodak.ts';

const CACHE = fileURLToPath(new URL('../../.cache/kodak-mrt/', import.meta.url));

export async function kodakMrt(models: Models, name: string): Promise<Uint8Array> {
  const dir = join(CACHE, models.manifest.modelHash.slice(0, 16));
  const path = join(dir, name.replace(/\.png$/, '.mrt'));
  if (existsSync(path)) return new Uint8Array(readFileSync(path));
  const mrt = await encode(join(KODAK_DIR, name), { models, final: 'none' });
  mkdirSync(dir, { recursive: true });
  writeFileSync(path, mrt);
  return mrt;
}
