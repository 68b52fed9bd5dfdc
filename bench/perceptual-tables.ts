// The perceptual tables of bench/rd.ts --perceptual, from its rows file (OUT-perceptual.jsonl),
// e.g. for the images an interrupted run finished.
//
//   npx tsx bench/perceptual-tables.ts bench/out/rd-perceptual.jsonl
import { readFileSync } from 'node:fs';
import { BUDGETS } from './lib/kodak.ts';
import { perceptualTables, type PerceptualRow } from './lib/rd-perceptual.ts';

const file = process.argv[2];
if (!file) throw new Error('usage: npx tsx bench/perceptual-tables.ts OUT-perceptual.jsonl');
const rows = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as PerceptualRow);
const images = [...new Set(rows.map((r) => r.img))].sort();
process.stdout.write(`${images.length} images (${images.join(', ')}) from ${file}\n` + perceptualTables(rows, images, BUDGETS).join('\n') + '\n');
