// What a site can send today in B bytes, measured on Kodak: the best WebP/AVIF/JPEG
// thumbnail that fits (oracle over size and quality, Lanczos-upscaled by sharp), prefixes
// of a progressive JPEG (mozjpeg q80, decoded by djpeg), and ThumbHash.
//
//   npx tsx bench/peers.ts [--images N] [--out bench/out/peers.jsonl]
//
// Writes one JSON line per (image, method, budget) and prints mean PSNR per budget beside
// the reference figures in ../shared/data/peers_kodak.jsonl.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { rgbaToThumbHash, thumbHashToRGBA } from 'thumbhash';
import { psnr, msssim } from './lib/metrics.ts';
import { BUDGETS, KODAK_DIR, kodakImages, loadRgb, meanBy, type Rgb } from './lib/kodak.ts';
import { bestWithin, thumbCandidates, THUMB_FORMATS, upscale, type ThumbFormat } from './lib/thumbs.ts';

export interface PeerRow {
  img: string;
  method: string;
  budget: number;
  psnr: number | null;
  msssim?: number | null;
  bytes?: number;
  side?: number;
  q?: number;
}

/** Best thumbnail per budget for one format: every (side, quality) once, then the oracle pick. */
async function thumbRows(name: string, src: Rgb, fmt: ThumbFormat): Promise<PeerRow[]> {
  const cands = await thumbCandidates(src, fmt, Math.max(...BUDGETS));
  return BUDGETS.map((budget) => {
    const best = bestWithin(cands, budget);
    if (!best) return { img: name, method: `${fmt}-thumb`, budget, psnr: null };
    return { img: name, method: `${fmt}-thumb`, budget, psnr: best.psnr, msssim: msssim(src.data, best.px, src.width, src.height), bytes: best.bytes, side: best.side, q: best.q };
  });
}

/** Binary PPM (P6, maxval 255), as djpeg writes it; sharp cannot read PPM from memory. */
function parsePpm(buf: Buffer): { width: number; height: number; data: Buffer } {
  const fields: string[] = [];
  let i = 0;
  while (fields.length < 4) {
    while (/\s/.test(String.fromCharCode(buf[i]))) i++;
    if (buf[i] === 0x23) { while (buf[i] !== 0x0a) i++; continue; } // comment
    let tok = '';
    while (i < buf.length && !/\s/.test(String.fromCharCode(buf[i]))) tok += String.fromCharCode(buf[i++]);
    fields.push(tok);
  }
  const [magic, w, h, max] = fields;
  if (magic !== 'P6' || max !== '255') throw new Error(`unsupported PPM ${magic} ${max}`);
  const width = Number(w);
  const height = Number(h);
  return { width, height, data: buf.subarray(i + 1, i + 1 + width * height * 3) };
}

/** Prefixes of a progressive JPEG (mozjpeg q80), decoded by djpeg as a browser would paint them. */
async function progressiveRows(name: string, src: Rgb, work: string): Promise<PeerRow[]> {
  const jpg = await sharp(src.data, { raw: { width: src.width, height: src.height, channels: 3 } }).jpeg({ quality: 80, progressive: true, mozjpeg: true }).toBuffer();
  const rows: PeerRow[] = [];
  for (const budget of BUDGETS) {
    const f = join(work, `${name}.${budget}.jpg`);
    writeFileSync(f, jpg.subarray(0, budget));
    let px: Buffer | null = null;
    try {
      // djpeg exits non-zero on a truncated stream (a warning) but still writes what it decoded.
      const ppm = spawnSync('djpeg', ['-pnm', f], { stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 26 }).stdout;
      if (!ppm || ppm.length === 0) throw new Error('djpeg wrote nothing');
      const img = parsePpm(ppm);
      if (img.width === src.width && img.height === src.height) px = img.data;
    } catch {
      px = null; // nothing decodable at this budget
    }
    rows.push({ img: name, method: 'jpeg-progressive-prefix', budget, bytes: Math.min(budget, jpg.length), psnr: px ? psnr(src.data, px) : null, msssim: px ? msssim(src.data, px, src.width, src.height) : null });
  }
  return rows;
}

async function thumbhashRow(name: string, src: Rgb): Promise<PeerRow> {
  const scale = 100 / Math.max(src.width, src.height);
  const tw = Math.round(src.width * scale);
  const th = Math.round(src.height * scale);
  const small = await sharp(src.data, { raw: { width: src.width, height: src.height, channels: 3 } }).resize(tw, th).ensureAlpha().raw().toBuffer();
  const hash = rgbaToThumbHash(tw, th, small);
  const dec = thumbHashToRGBA(hash);
  const px = await upscale(Buffer.from(dec.rgba), { width: dec.w, height: dec.h, channels: 4 }, src.width, src.height);
  return { img: name, method: 'thumbhash', budget: hash.length, bytes: hash.length, psnr: psnr(src.data, px), msssim: msssim(src.data, px, src.width, src.height) };
}

/** The progressive-JPEG row needs djpeg: without it every prefix would read as undecodable. */
function requireDjpeg(): void {
  const r = spawnSync('djpeg', ['-version'], { stdio: 'ignore' });
  if (r.error) throw new Error(`djpeg not found (${r.error.message}): install Debian's libjpeg-turbo-progs (npm run setup:test does)`);
}

export async function measurePeers(images: string[], log = (s: string) => process.stderr.write(s)): Promise<PeerRow[]> {
  requireDjpeg();
  const work = mkdtempSync(join(tmpdir(), 'mrt-peers-'));
  const rows: PeerRow[] = [];
  try {
    for (const name of images) {
      const t0 = Date.now();
      const src = await loadRgb(join(KODAK_DIR, name));
      for (const fmt of THUMB_FORMATS) rows.push(...(await thumbRows(name, src, fmt)));
      rows.push(...(await progressiveRows(name, src, work)));
      rows.push(await thumbhashRow(name, src));
      log(`peers: ${name} ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return rows;
}

/** The oracle row of the bar: per image, the best of the three thumbnail formats. */
export function bestThumb(rows: PeerRow[], img: string, budget: number): PeerRow | null {
  const c = rows.filter((r) => r.img === img && r.budget === budget && r.method.endsWith('-thumb') && r.psnr !== null);
  return c.length ? c.reduce((a, b) => (b.psnr! > a.psnr! ? b : a)) : null;
}

async function main() {
  const { values } = parseArgs({ options: { images: { type: 'string' }, out: { type: 'string', default: 'bench/out/peers.jsonl' } } });
  const images = kodakImages().slice(0, values.images ? Number(values.images) : undefined);
  const t0 = Date.now();
  const rows = await measurePeers(images);
  mkdirSync(dirname(values.out!), { recursive: true });
  writeFileSync(values.out!, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');

  const ref = readFileSync(join(KODAK_DIR, '../peers_kodak.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as PeerRow);
  const refBest = (img: string, b: number) => bestThumb(ref, img, b);
  console.log(`Peers on ${images.length} Kodak images (${((Date.now() - t0) / 1000).toFixed(0)} s); mean RGB PSNR (dB), n = images decodable`);
  console.log('| B (bytes) | ' + BUDGETS.join(' | ') + ' |');
  console.log('|---|' + BUDGETS.map(() => '---').join('|') + '|');
  const line = (label: string, pick: (img: string, b: number) => PeerRow | null | undefined, metric: 'psnr' | 'msssim' = 'psnr') =>
    console.log(`| ${label} | ` + BUDGETS.map((b) => {
      const vals = images.map((i) => pick(i, b)?.[metric]).filter((v): v is number => typeof v === 'number');
      return vals.length ? `${meanBy(vals, (v) => v).toFixed(metric === 'psnr' ? 2 : 4)}${vals.length < images.length ? ` (n=${vals.length})` : ''}` : '–';
    }).join(' | ') + ' |');
  line('best thumbnail (ours)', (i, b) => bestThumb(rows, i, b));
  line('best thumbnail MS-SSIM (ours)', (i, b) => bestThumb(rows, i, b), 'msssim');
  line('best thumbnail (shared reference)', refBest);
  for (const m of ['webp-thumb', 'avif-thumb', 'jpeg-thumb', 'jpeg-progressive-prefix']) {
    line(`${m} (ours)`, (i, b) => rows.find((r) => r.img === i && r.method === m && r.budget === b));
  }
  const th = rows.filter((r) => r.method === 'thumbhash');
  console.log(`ThumbHash: mean ${meanBy(th, (r) => r.bytes!).toFixed(1)} B, ${meanBy(th, (r) => r.psnr!).toFixed(2)} dB`);
  console.log(`rows written to ${values.out}`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
