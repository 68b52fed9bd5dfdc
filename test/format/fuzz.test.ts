import { expect, it } from 'vitest';
import { fuzz } from './fuzz-core.ts';
import { fuzzHeaders } from './fuzz-headers.ts';

it('fuzz: 100,000 mutated streams give only MrtFormatError, no hang, no wrong tokens', () => {
  const t0 = performance.now();
  const r = fuzz(100_000, 20240601, 2000);
  const s = ((performance.now() - t0) / 1000).toFixed(1);
  console.log(`fuzz: ${r.cases} cases in ${s} s, complete ${r.complete}, valid prefixes ${r.truncatedValid}, errors ${JSON.stringify(r.errors)}, slowest case ${r.maxCaseMs.toFixed(1)} ms`);
  expect(r.crashes).toEqual([]);
  expect(r.hangs).toBe(0);
  expect(r.wrongTokens).toBe(0);
}, 300_000);

it('fuzz: 30,000 mutated headers (and headers at the limits) give only MrtFormatError or a header within the limits', () => {
  const r = fuzzHeaders(30_000, 20261206);
  console.log(`header fuzz: ${r.cases} cases, ${r.accepted} accepted, errors ${JSON.stringify(r.errors)}, slowest case ${r.maxCaseMs.toFixed(1)} ms`);
  expect(r.crashes).toEqual([]);
  expect(r.oversized).toEqual([]);
  expect(r.accepted).toBeGreaterThan(1000);
  expect(r.errors.limit).toBeGreaterThan(100);
}, 120_000);
