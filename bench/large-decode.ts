// Decode time of a large photo's prefixes against the same prefixes of a Kodak photo, in the
// same run (issue 28: at most 3x). kodim23 (768x512) and its Lanczos upscale to 4000x3000 are
// encoded with the defaults (a large photo: a learned layer of at most 1 Mi padded pixels, the
// final at full size); then the Node decoder (`decode()`, as `mrt decode`) paints each prefix
// of both files, alternating, `--reps` times, and the medians are compared.
//
// Learned prefixes are timed twice: at the learned layer's size (`size: 'learned'`, what a
// client paints on a display smaller than the coded layer) and scaled up to the image's size
// (`mrt decode`'s output). The whole file is the final layer, decoded by sharp (a browser's
// own AVIF decoder shows it in a page): reported, not part of the learned-prefix bar.
//
//   npx tsx bench/large-decode.ts [--reps 5] [--out bench/results/large-decode.md]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { decode, encode, loadModels } from '../src/encoder/index.ts';
import { learnedEnd, readHeader } from '../src/format/index.ts';
import { BUDGETS, KODAK_DIR } from './lib/kodak.ts';

const { values } = parseArgs({ options: { reps: { type: 'string', default: '5' }, out: { type: 'string', default: 'bench/results/large-decode.md' } } });
const reps = Number(values.reps);
if (!(reps >= 1)) throw new Error('--reps: a positive integer');
const models = await loadModels();
sharp.concurrency(1);
const loads = [loadavg().map((x) => x.toFixed(2)).join(' ')];

const dir = mkdtempSync(join(tmpdir(), 'mrt-large-decode-'));
let small: Uint8Array;
let large: Uint8Array;
try {
  const kodim = join(KODAK_DIR, 'kodim23.png');
  const up = join(dir, 'kodim23-4000x3000.png');
  await sharp(kodim).resize(4000, 3000, { fit: 'fill', kernel: 'lanczos3' }).png({ compressionLevel: 1 }).toFile(up);
  console.error('encoding kodim23 and its 4000x3000 upscale (defaults)');
  small = await encode(kodim, { models });
  large = await encode(up, { models });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const hs = readHeader(small);
const hl = readHeader(large);

type Row = { label: string; bytes: number; size: 'image' | 'learned' };
const rows: Row[] = [];
for (const b of BUDGETS.filter((b) => b >= 512)) {
  rows.push({ label: `${b} B`, bytes: b, size: 'learned' });
  rows.push({ label: `${b} B`, bytes: b, size: 'image' });
}
rows.push({ label: 'learned end', bytes: -1, size: 'learned' }, { label: 'learned end', bytes: -1, size: 'image' }, { label: 'whole (final)', bytes: Infinity, size: 'image' });

const prefixOf = (mrt: Uint8Array, h: ReturnType<typeof readHeader>, bytes: number) => (bytes === Infinity ? mrt.length : bytes < 0 ? learnedEnd(h) : Math.min(bytes, mrt.length));
async function time(mrt: Uint8Array, bytes: number, size: Row['size']): Promise<{ ms: number; paint: number; source: string; w: number; h: number }> {
  const t0 = performance.now();
  const r = await decode(mrt, { models, bytes, size });
  const ms = performance.now() - t0;
  return { ms, paint: r.ms?.paint ?? ms, source: r.source, w: r.image.width, h: r.image.height };
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** Bytes of learned chunks in the first n bytes. */
const learned = (n: number, h: ReturnType<typeof readHeader>) => Math.max(0, Math.min(n, learnedEnd(h)) - h.headerEnd);

// one warm-up decode of each (sessions, sharp)
await time(small, 2048, 'learned');
await time(large, 2048, 'learned');
const out: string[] = [];
const log = (l = '') => {
  console.log(l);
  out.push(l);
};
log(`# Large-photo decode time (${new Date().toISOString()})`);
log();
log(`\`npx tsx bench/large-decode.ts --reps ${reps}\`; model ${models.manifest.id}; Node decoder (onnxruntime-node), one process; each prefix of both files decoded alternately ${reps} times, median wall time.`);
log();
log(`- kodim23: ${hs.header.imageWidth}x${hs.header.imageHeight}, learned layer ${hs.header.width}x${hs.header.height}, ${small.length} B (learned chunks end at ${learnedEnd(hs)} B).`);
log(`- its 4000x3000 upscale (Lanczos): learned layer ${hl.header.width}x${hl.header.height} (${((hl.header.width * hl.header.height) / (hs.header.width * hs.header.height)).toFixed(2)}x the pixels), ${large.length} B (learned chunks end at ${learnedEnd(hl)} B).`);
log();
log('Whole decode: `decode()` from the first byte (entropy decoding of every received symbol, then the paint). Paint: the decoder run and what follows it, what a client pays to show a prefix whose symbols it decoded as they arrived (`DecodeResult.ms.paint`). Learned bytes: the bytes of learned chunks in the prefix (kodim23 ends its learned chunks at ' + learnedEnd(hs) + ' B, so past it the large photo decodes more of them).');
log();
log('| prefix | painted at | learned bytes, kodim23 / large | whole decode kodim23 (ms) | whole decode large (ms) | ratio | paint kodim23 (ms) | paint large (ms) | ratio | large paints |');
log('|---|---|---|---|---|---|---|---|---|---|');
let worstLearned = 0;
let worstPaint = 0;
for (const r of rows) {
  const a: number[] = [];
  const b: number[] = [];
  const pa: number[] = [];
  const pb: number[] = [];
  let shape = '';
  const ps = prefixOf(small, hs, r.bytes);
  const pl = prefixOf(large, hl, r.bytes);
  for (let i = 0; i < reps; i++) {
    const s = await time(small, ps, r.size);
    a.push(s.ms);
    pa.push(s.paint);
    const t = await time(large, pl, r.size);
    b.push(t.ms);
    pb.push(t.paint);
    shape = `${t.source} ${t.w}x${t.h}`;
  }
  const ratio = median(b) / median(a);
  const pratio = median(pb) / median(pa);
  if (r.size === 'learned') {
    worstLearned = Math.max(worstLearned, ratio);
    worstPaint = Math.max(worstPaint, pratio);
  }
  log(`| ${r.label} | ${r.size === 'learned' ? 'learned size' : 'image size'} | ${learned(ps, hs)} / ${learned(pl, hl)} | ${median(a).toFixed(0)} | ${median(b).toFixed(0)} | ${ratio.toFixed(2)} | ${median(pa).toFixed(0)} | ${median(pb).toFixed(0)} | ${pratio.toFixed(2)} | ${shape} |`);
}
loads.push(loadavg().map((x) => x.toFixed(2)).join(' '));
log();
log(`Learned prefixes at the learned layer's size, worst ratio: whole decode ${worstLearned.toFixed(2)} (target <= 3: ${worstLearned <= 3 ? 'met' : 'NOT met'}), paint ${worstPaint.toFixed(2)} (${worstPaint <= 3 ? 'met' : 'NOT met'}). Load averages before and after: ${loads.join('; ')}.`);
writeFileSync(values.out!, `${out.join('\n')}\n`);
console.error(`wrote ${values.out}`);
