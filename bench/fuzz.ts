// Long fuzz run: npx tsx bench/fuzz.ts [cases=1000000] [seed=1]
// Prints crashes (any exception other than a MrtFormatError error event), hangs (a case
// slower than 2 s), wrong tokens (delivered tokens that differ from the true ones) and peak RSS.
import { fuzz } from '../test/format/fuzz-core.ts';

const cases = Number(process.argv[2] ?? 1_000_000);
const seed = Number(process.argv[3] ?? 1);
const t0 = performance.now();
const r = fuzz(cases, seed, 2000, (done) => {
  const rss = process.resourceUsage().maxRSS / 1024;
  process.stderr.write(`  ${done} cases, ${((performance.now() - t0) / 1000).toFixed(0)} s, peak RSS ${rss.toFixed(0)} MB\n`);
});
const secs = (performance.now() - t0) / 1000;
console.log(`fuzz: ${r.cases} mutated streams (seed ${seed}) in ${secs.toFixed(1)} s (${(r.cases / secs).toFixed(0)}/s)`);
console.log(`crashes: ${r.crashes.length}`);
for (const c of r.crashes.slice(0, 5)) console.log(`  case ${c.case} (${c.base}): ${c.error}`);
console.log(`hangs (> 2 s): ${r.hangs}; slowest case ${r.maxCaseMs.toFixed(1)} ms`);
console.log(`wrong tokens delivered: ${r.wrongTokens}`);
console.log(`outcomes: complete ${r.complete}, valid truncated prefix ${r.truncatedValid}, errors ${JSON.stringify(r.errors)}`);
console.log(`peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
process.exitCode = r.crashes.length || r.hangs || r.wrongTokens ? 1 : 0;
