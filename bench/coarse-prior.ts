// The coarse pass's bytes and the stream's decode time under the two priors of the coarse
// trits: the 12 neighbourhood tables (Index prior RCM_LATE_CONTEXTS, format 2.8) and the
// model's coarse RCM (RCM_COARSE, 2.10), on the tokens the real encoder writes for Kodak.
//   npx tsx bench/coarse-prior.ts [--models DIR] [--images N] [--reps R] [--coarse-layers K]
// Both priors code the same symbols in the same process; decode times are the best of R
// whole-stream decodes on one core (wall clock; the machine is shared, so compare the ratio).
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createPrior, decodeChunk, decodeMrt, encodeChunk, streamSymbols, tokenLayout } from '../src/codec/index.ts';
import { encode, loadModels } from '../src/encoder/index.ts';
import { modelHashBytes } from '../src/encoder/models.ts';
import { KODAK_DIR, kodakImages } from './lib/kodak.ts';

const { values } = parseArgs({ options: { models: { type: 'string' }, images: { type: 'string' }, reps: { type: 'string', default: '3' }, 'coarse-layers': { type: 'string' } } });
const models = await loadModels(values.models);
const rcm = models.rcm;
if (!rcm?.coarse) throw new Error(`${models.dir}: the model has no coarse RCM (rcm.json "coarse"; training/export.py --coarse-rcm)`);
const reps = Number(values.reps);
const files = kodakImages().slice(0, values.images ? Number(values.images) : undefined);
console.log(`coarse pass on Kodak (${files.length} images), model ${models.manifest.id}: coarse RCM D=${rcm.coarse.D} H=${rcm.coarse.H} T=${rcm.coarse.T}; token RCM D=${rcm.D} H=${rcm.H} T=${rcm.T}`);
console.log(`bytes: each pass coded on its own (rANS restarted at the coarse pass's end); decode: best of ${reps}, one core\n`);

const kinds = [['tables', false], ['coarse RCM', true]] as const;
const sum = { coarse: [0, 0], rest: [0, 0], ms: [0, 0], trits: 0 };
for (const f of files) {
  const mrt = await encode(join(KODAK_DIR, f), { models, final: 'none', coarseLayers: values['coarse-layers'] !== undefined ? Number(values['coarse-layers']) : undefined });
  const d = decodeMrt(mrt, { rcm, modelHash: modelHashBytes(models.manifest) });
  if (!d.complete || !d.header) throw new Error(`${f}: the encoded stream did not decode (${d.error?.message ?? 'incomplete'})`);
  const layout = tokenLayout(d.header.layout);
  const symbols = streamSymbols(layout, d.tokens);
  const kn = layout.coarseLayers * layout.windows;
  if (!kn) throw new Error(`${f}: the stream has no coarse pass`);
  const line: string[] = [];
  kinds.forEach(([name, coarseRcm], k) => {
    const opts = { sharedLate: true, lateContexts: true, coarseRcm };
    const p = createPrior(layout, rcm, opts);
    const a = encodeChunk(p, symbols, 0, kn);
    const b = encodeChunk(p, symbols, kn, symbols.length);
    let best = Infinity;
    const out = new Uint8Array(symbols.length);
    for (let r = 0; r < reps; r++) {
      const q = createPrior(layout, rcm, opts);
      const t0 = performance.now();
      decodeChunk(q, a, out, 0, kn);
      decodeChunk(q, b, out, kn, symbols.length);
      best = Math.min(best, performance.now() - t0);
    }
    for (let i = 0; i < symbols.length; i++) if (out[i] !== symbols[i]) throw new Error(`${f} ${name}: decoded symbol ${i} differs`);
    sum.coarse[k] += a.length;
    sum.rest[k] += b.length;
    sum.ms[k] += best;
    line.push(`${name} ${a.length} B ${best.toFixed(0)} ms`);
  });
  sum.trits += kn;
  console.log(`${f}: ${layout.coarseLayers} coarse layers, ${kn} trits; ${line.join('; ')}`);
}
const n = files.length;
console.log('\nper image (mean):');
kinds.forEach(([name], k) => {
  console.log(`  ${name.padEnd(10)} coarse pass ${(sum.coarse[k]! / n).toFixed(1)} B (${((sum.coarse[k]! * 8) / sum.trits).toFixed(4)} bits/trit), rest ${(sum.rest[k]! / n).toFixed(0)} B, decode ${(sum.ms[k]! / n).toFixed(1)} ms`);
});
console.log(`  coarse RCM / tables: coarse pass bytes ×${(sum.coarse[1]! / sum.coarse[0]!).toFixed(4)}, decode time ×${(sum.ms[1]! / sum.ms[0]!).toFixed(3)}`);
