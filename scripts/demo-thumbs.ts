// The demo's middle panel: for a ladder of byte budgets, the best WebP/AVIF/JPEG thumbnail
// that fits (the same oracle as bench/peers.ts, the bar of bench/rd.ts). Written to
// dist/client/demo/thumbs/ and cached in .cache/demo/thumbs by the source's hash.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadRgb } from '../bench/lib/kodak.ts';
import { bestWithin, thumbCandidates, THUMB_FORMATS, type ThumbCandidate } from '../bench/lib/thumbs.ts';

export const DEMO_THUMB_BUDGETS = [256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096, 6144, 8192];
/** JPEG thumbnails are never the best one at these budgets on Kodak (bench/peers.ts): skipped to halve the work. */
const DEMO_FORMATS = THUMB_FORMATS.filter((f) => f !== 'jpeg');

export interface DemoThumb {
  bytes: number;
  src: string;
  label: string;
}

const EXT: Record<ThumbCandidate['fmt'], string> = { webp: 'webp', avif: 'avif', jpeg: 'jpg' };

/** Writes the thumbnails of one image into `outDir` (served at `urlBase`) and lists them, smallest first. */
export async function demoThumbs(source: string, key: string, outDir: string, urlBase: string, cacheDir: string): Promise<DemoThumb[]> {
  const hash = createHash('sha256').update(await readFile(source)).update('demo-thumbs-1').digest('hex').slice(0, 12);
  const dir = join(cacheDir, `${key}-${hash}`);
  const listPath = join(dir, 'thumbs.json');
  let list: { bytes: number; file: string; label: string }[];
  if (existsSync(listPath)) {
    list = JSON.parse(await readFile(listPath, 'utf8'));
  } else {
    await mkdir(dir, { recursive: true });
    const src = await loadRgb(source);
    const max = Math.max(...DEMO_THUMB_BUDGETS);
    const cands: ThumbCandidate[] = [];
    for (const fmt of DEMO_FORMATS) cands.push(...(await thumbCandidates(src, fmt, max)));
    const picked = new Map<ThumbCandidate, number>();
    for (const b of DEMO_THUMB_BUDGETS) {
      const best = bestWithin(cands, b);
      if (best && !picked.has(best)) picked.set(best, b);
    }
    list = [];
    for (const c of [...picked.keys()].sort((a, b) => a.bytes - b.bytes)) {
      const file = `${key}-${c.fmt}-${c.side}-q${c.q}.${EXT[c.fmt]}`;
      await writeFile(join(dir, file), c.enc);
      list.push({ bytes: c.bytes, file, label: `${c.fmt} ${c.side} px q${c.q}` });
    }
    await writeFile(listPath, JSON.stringify(list));
  }
  await mkdir(outDir, { recursive: true });
  for (const t of list) await copyFile(join(dir, t.file), join(outDir, t.file));
  return list.map((t) => ({ bytes: t.bytes, src: `${urlBase}${t.file}`, label: t.label }));
}
