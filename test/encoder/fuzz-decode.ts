// Fuzzing Node decode() (bench/fuzz.ts --target decode): mutated genuine streams (with and
// without a final layer) and the hostile corpus. Per input: an image of the header's size or a
// DecodeError, within `maxMs`.
import sharp from 'sharp';
import { readFirstPaint } from '../../src/format/index.ts';
import { decode, DecodeError, encode, type Models } from '../../src/encoder/index.ts';
import { rng } from '../codec/fixtures.ts';
import type { Base } from '../format/fuzz-core.ts';
import { messageSpans, mutate } from '../format/fuzz-core.ts';
import { hostileCorpus } from './hostile-corpus.ts';

export interface DecodeFuzzResult {
  cases: number;
  /** exceptions other than DecodeError, and images of another size than the header's */
  crashes: string[];
  /** inputs slower than maxMs */
  slow: string[];
  painted: number;
  refused: Record<string, number>;
  maxCaseMs: number;
}

function baseOf(name: string, bytes: Uint8Array): Base {
  return { name, bytes, tokens: new Uint8Array(0), rcm: null, messages: messageSpans(bytes) };
}

/** The first words of an error message: how refusals are counted. */
function kind(message: string): string {
  return message.replace(/\d+/g, 'N').split(/[:(]/)[0]!.slice(0, 60);
}

export async function fuzzDecode(models: Models, source: Uint8Array, cases: number, seed: number, maxMs = 30_000): Promise<DecodeFuzzResult> {
  const plain = await encode(source, { models, layers: 64, final: 'none' });
  const withFinal = await encode(source, { models, layers: 64, final: 'webp', finalQuality: 50, maxOverhead: null });
  const bases = [baseOf('genuine', plain), baseOf('genuine+final', withFinal)];
  const corpus = await hostileCorpus(models.manifest, plain);
  const r = rng(seed);
  const res: DecodeFuzzResult = { cases: 0, crashes: [], slow: [], painted: 0, refused: {}, maxCaseMs: 0 };
  const inputs: { name: string; bytes: Uint8Array }[] = corpus.map((c) => ({ name: c.name, bytes: c.bytes }));
  for (let c = 0; c < cases; c++) {
    const base = bases[c % bases.length]!;
    let b = base.bytes;
    const k = 1 + Math.floor(r() * r() * 4);
    for (let j = 0; j < k; j++) b = mutate(b, base, bases[Math.floor(r() * bases.length)]!, r);
    inputs.push({ name: `case ${c} (${base.name})`, bytes: b });
  }
  for (const input of inputs) {
    res.cases++;
    const t0 = performance.now();
    try {
      const out = await decode(input.bytes, { models });
      const first = readFirstPaint(input.bytes);
      if (out.image.width !== first.width || out.image.height !== first.height || out.image.data.length !== first.width * first.height * 3) {
        res.crashes.push(`${input.name}: painted ${out.image.width}x${out.image.height} for a ${first.width}x${first.height} header`);
      }
      res.painted++;
    } catch (e) {
      if (e instanceof DecodeError) res.refused[kind(e.message)] = (res.refused[kind(e.message)] ?? 0) + 1;
      else if (res.crashes.length < 20) res.crashes.push(`${input.name}: ${String((e as Error)?.stack ?? e)}`);
    }
    const ms = performance.now() - t0;
    if (ms > res.maxCaseMs) res.maxCaseMs = ms;
    if (ms > maxMs) res.slow.push(`${input.name}: ${ms.toFixed(0)} ms`);
  }
  return res;
}

/** A small genuine image to mutate: a 128x96 crop of a Kodak photo. */
export async function fuzzSource(kodak: string): Promise<Uint8Array> {
  return new Uint8Array(await sharp(kodak).extract({ left: 300, top: 200, width: 128, height: 96 }).png().toBuffer());
}
