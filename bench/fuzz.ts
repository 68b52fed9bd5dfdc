// Long fuzz run: npx tsx bench/fuzz.ts [cases=1000000] [seed=1] [--target stream|headers|decode]
// Without --target, runs every target in its own process (so each peak RSS is its own) and
// prints, per target, what it checked and its peak RSS:
// - stream: the stream decoder (StreamDecoder) on mutated synthetic streams: crashes (any
//   exception other than a MrtFormatError error event), hangs (a case slower than 2 s), wrong
//   tokens (delivered tokens that differ from the true ones);
// - headers: readFirstPaint / readHeader (what the edge and the browser read before any payload)
//   on mutated streams and headers at the limits: crashes, headers accepted past a limit
//   (size rule, placeholder, total length), cases slower than 200 ms;
// - decode: Node decode() (models/) on cases/1000 (at least 200) mutated genuine 128x96 streams
//   and the hostile corpus: crashes (an exception other than DecodeError, or an image of another
//   size than the header's), inputs slower than 30 s; peak RSS at most 600 MB.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { fuzz } from '../test/format/fuzz-core.ts';
import { fuzzHeaders } from '../test/format/fuzz-headers.ts';

const args = process.argv.slice(2);
const ti = args.indexOf('--target');
const target = ti >= 0 ? args.splice(ti, 2)[1] : undefined;
const cases = Number(args[0] ?? 1_000_000);
const seed = Number(args[1] ?? 1);
const TARGETS = ['stream', 'headers', 'decode'] as const;
const DECODE_MAX_RSS_MB = 600;
const peakMb = () => process.resourceUsage().maxRSS / 1024;

async function run(t: string): Promise<boolean> {
  const t0 = performance.now();
  const secs = () => (performance.now() - t0) / 1000;
  if (t === 'stream') {
    const r = fuzz(cases, seed, 2000, (done) => process.stderr.write(`  ${done} cases, ${secs().toFixed(0)} s, peak RSS ${peakMb().toFixed(0)} MB\n`));
    console.log(`stream: ${r.cases} mutated streams (seed ${seed}) in ${secs().toFixed(1)} s (${(r.cases / secs()).toFixed(0)}/s)`);
    console.log(`  crashes: ${r.crashes.length}`);
    for (const c of r.crashes.slice(0, 5)) console.log(`    case ${c.case} (${c.base}): ${c.error}`);
    console.log(`  hangs (> 2 s): ${r.hangs}; slowest case ${r.maxCaseMs.toFixed(1)} ms`);
    console.log(`  wrong tokens delivered: ${r.wrongTokens}`);
    console.log(`  outcomes: complete ${r.complete}, valid truncated prefix ${r.truncatedValid}, errors ${JSON.stringify(r.errors)}`);
    return !(r.crashes.length || r.hangs || r.wrongTokens);
  }
  if (t === 'headers') {
    const r = fuzzHeaders(cases, seed);
    console.log(`headers: ${r.cases} mutated headers (seed ${seed}) in ${secs().toFixed(1)} s; first paint accepted ${r.accepted}, errors ${JSON.stringify(r.errors)}`);
    console.log(`  crashes: ${r.crashes.length}`);
    for (const c of r.crashes.slice(0, 5)) console.log(`    ${c}`);
    console.log(`  accepted past a limit: ${r.oversized.length}`);
    for (const c of r.oversized.slice(0, 5)) console.log(`    ${c}`);
    console.log(`  slower than 200 ms: ${r.hangs}; slowest case ${r.maxCaseMs.toFixed(1)} ms`);
    return !(r.crashes.length || r.oversized.length || r.hangs);
  }
  if (t === 'decode') {
    const { loadModels } = await import('../src/encoder/models.ts');
    const { fuzzDecode, fuzzSource } = await import('../test/encoder/fuzz-decode.ts');
    const models = await loadModels();
    const n = Math.max(200, Math.floor(cases / 1000));
    const r = await fuzzDecode(models, await fuzzSource(fileURLToPath(new URL('../../shared/data/kodak/kodim23.png', import.meta.url))), n, seed);
    const peak = peakMb();
    console.log(`decode: ${r.cases} inputs (the hostile corpus and ${n} mutated genuine streams, seed ${seed}) in ${secs().toFixed(1)} s; painted ${r.painted}`);
    console.log(`  refused: ${JSON.stringify(r.refused)}`);
    console.log(`  crashes: ${r.crashes.length}`);
    for (const c of r.crashes.slice(0, 5)) console.log(`    ${c}`);
    console.log(`  slower than 30 s: ${r.slow.length}; slowest input ${(r.maxCaseMs / 1000).toFixed(2)} s`);
    console.log(`  peak RSS ${peak.toFixed(0)} MB (limit ${DECODE_MAX_RSS_MB} MB)`);
    return !(r.crashes.length || r.slow.length) && peak <= DECODE_MAX_RSS_MB;
  }
  throw new Error(`unknown target '${t}' (${TARGETS.join(', ')})`);
}

if (target) {
  const ok = await run(target);
  console.log(`  peak RSS: ${peakMb().toFixed(0)} MB`);
  process.exitCode = ok ? 0 : 1;
} else {
  let failed = 0;
  for (const t of TARGETS) {
    const child = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), String(cases), String(seed), '--target', t], { stdio: 'inherit' });
    if (child.status !== 0) failed++;
  }
  console.log(failed ? `${failed} of ${TARGETS.length} targets failed` : `all ${TARGETS.length} targets passed`);
  process.exitCode = failed ? 1 : 0;
}
