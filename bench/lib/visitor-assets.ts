// The files a visitor benchmark serves for one photo: the default .mrt, and the peers a
// site would send instead at the SAME final quality (the smallest file whose whole-image
// PSNR reaches the .mrt's whole-file PSNR): AVIF (sharp, default effort) with the .mrt's own
// tiny AVIF placeholder inline, progressive JPEG (mozjpeg) and progressive JPEG XL (cjxl).
// Everything is cached in .cache/visitor by the source's and the model's hashes.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { decode, encode, loadModels, type Models } from '../../src/encoder/index.ts';
import { readFirstPaint } from '../../src/format/index.ts';
import { psnr } from './metrics.ts';

export const CACHE = fileURLToPath(new URL('../../.cache/visitor/', import.meta.url));

/** `mrt-preload`: MRT with the first image's final part preloaded (`<link rel=preload>`, what a page does for its LCP image) */
export type Method = 'mrt' | 'mrt-preload' | 'avif' | 'pjpeg' | 'jxl';
/** what a run compares by default (`mrt-preload` on request) */
export const METHODS: readonly Method[] = ['mrt', 'avif', 'pjpeg', 'jxl'];
export const ALL_METHODS: readonly Method[] = ['mrt', 'mrt-preload', 'avif', 'pjpeg', 'jxl'];
export type PeerMethod = Exclude<Method, 'mrt' | 'mrt-preload'>;

export interface PeerFile {
  ext: string;
  bytes: number;
  /** encoder setting that reached the target (quality 1..100) */
  quality: number;
  /** whole-image RGB PSNR */
  psnr: number;
}

export interface PhotoAssets {
  key: string;
  source: string;
  width: number;
  height: number;
  mrtBytes: number;
  /** PSNR of the whole .mrt as Node decodes it: the target every peer must reach */
  mrtPsnr: number;
  peers: Partial<Record<PeerMethod, PeerFile>>;
  /** the .mrt header's placeholder (a standalone AVIF; pages inline it with placeholderBackground) */
  placeholder: { bytes: number };
  /** folder holding KEY.mrt, KEY.avif, KEY.jpg, KEY.jxl and KEY.png (the original) */
  dir: string;
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((ok, fail) => execFile(cmd, args, (e, so, se) => (e ? fail(new Error(`${cmd} ${args.join(' ')}: ${se || e.message}`)) : ok(so + se))));
}

async function rgbOf(bytes: Uint8Array | string): Promise<Buffer> {
  return sharp(bytes).removeAlpha().toColourspace('srgb').raw().toBuffer();
}

/** Smallest encoding (by quality setting) whose PSNR reaches `target`; the best one if none does. */
async function matchQuality(ref: Buffer, target: number, enc: (q: number) => Promise<Uint8Array>, dec: (b: Uint8Array) => Promise<Buffer>): Promise<{ bytes: Uint8Array; quality: number; psnr: number }> {
  const tried = new Map<number, { bytes: Uint8Array; quality: number; psnr: number }>();
  const at = async (q: number) => {
    if (!tried.has(q)) {
      const bytes = await enc(q);
      tried.set(q, { bytes, quality: q, psnr: psnr(ref, await dec(bytes)) });
    }
    return tried.get(q)!;
  };
  let lo = 1;
  let hi = 100;
  if ((await at(hi)).psnr < target) return at(hi);
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((await at(mid)).psnr >= target) hi = mid;
    else lo = mid + 1;
  }
  // PSNR is not strictly monotone in the setting: take the smallest file among those that reach it
  return [...tried.values()].filter((r) => r.psnr >= target).sort((a, b) => a.bytes.length - b.bytes.length)[0]!;
}

let modelsP: Promise<Models> | null = null;

export async function prepareAssets(source: string, key = basename(source, extname(source))): Promise<PhotoAssets> {
  const models = await (modelsP ??= loadModels());
  const srcBytes = await readFile(source);
  const id = createHash('sha256').update(srcBytes).update(models.manifest.modelHash ?? '').update('visitor-assets-2').digest('hex').slice(0, 16);
  const dir = join(CACHE, `${key}-${id}`);
  const metaPath = join(dir, 'assets.json');
  if (existsSync(metaPath)) return JSON.parse(await readFile(metaPath, 'utf8')) as PhotoAssets;
  await mkdir(dir, { recursive: true });
  const { data: ref, info } = await sharp(srcBytes).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  await sharp(ref, { raw: { width: info.width, height: info.height, channels: 3 } }).png().toFile(join(dir, `${key}.png`));

  const mrt = await encode(new Uint8Array(srcBytes), { models });
  await writeFile(join(dir, `${key}.mrt`), mrt);
  const whole = await decode(mrt, { models });
  const mrtPsnr = psnr(ref, whole.image.data);
  const first = readFirstPaint(mrt);
  if (!first.placeholder || first.placeholder.mime !== 'image/avif') throw new Error(`${source}: the .mrt has no AVIF placeholder`);

  const peers: PhotoAssets['peers'] = {};
  const save = async (m: PeerMethod, ext: string, r: { bytes: Uint8Array; quality: number; psnr: number }) => {
    await writeFile(join(dir, `${key}.${ext}`), r.bytes);
    peers[m] = { ext, bytes: r.bytes.length, quality: r.quality, psnr: r.psnr };
  };
  const raw = () => sharp(ref, { raw: { width: info.width, height: info.height, channels: 3 } });
  await save('avif', 'avif', await matchQuality(ref, mrtPsnr, async (q) => new Uint8Array(await raw().avif({ quality: q }).toBuffer()), rgbOf));
  await save('pjpeg', 'jpg', await matchQuality(ref, mrtPsnr, async (q) => new Uint8Array(await raw().jpeg({ quality: q, progressive: true, mozjpeg: true }).toBuffer()), rgbOf));
  const tmp = join(tmpdir(), `mrt-visitor-${process.pid}`);
  await mkdir(tmp, { recursive: true });
  const png = join(dir, `${key}.png`);
  await save('jxl', 'jxl', await matchQuality(
    ref,
    mrtPsnr,
    async (q) => {
      const out = join(tmp, `${key}-${q}.jxl`);
      await run('cjxl', [png, out, '-q', String(q), '-p']);
      return new Uint8Array(await readFile(out));
    },
    async (b) => {
      const inp = join(tmp, `${key}.jxl`);
      const out = join(tmp, `${key}-dec.png`);
      await writeFile(inp, b);
      await run('djxl', [inp, out]);
      return rgbOf(out);
    },
  ));

  const assets: PhotoAssets = {
    key,
    source,
    width: info.width,
    height: info.height,
    mrtBytes: mrt.length,
    mrtPsnr,
    peers,
    placeholder: { bytes: first.placeholder.bytes.length },
    dir,
  };
  await writeFile(metaPath + '.tmp', JSON.stringify(assets, null, 1));
  await rename(metaPath + '.tmp', metaPath);
  return assets;
}

/** The libjxl version that made the .jxl files (cjxl's first line). */
export async function cjxlVersion(): Promise<string> {
  return (await run('cjxl', ['--version'])).split('\n')[0]!.trim();
}
