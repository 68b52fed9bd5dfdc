#!/usr/bin/env -S npx tsx
/**
 * npm run seed:edge -- FILES_OR_DIRS... [--persist-to DIR] [--prefix P/]
 *
 * Puts .mrt files into the LOCAL R2 bucket of wrangler.toml (binding IMAGES), in one
 * process via wrangler's getPlatformProxy. Images (.png, .jpg, ...) are encoded first with
 * src/encoder. `NAME.png` and `NAME.mrt` become the key `NAME.mrt`, served at
 * /i/NAME.mrt; files found in a directory keep their path relative to it
 * (`dir/a/b.png` → `a/b.mrt`). Every .mrt is validated with the shared parser first;
 * broken files are reported and skipped. Works while `npm run dev:edge` runs.
 * `--demo` also writes dist/client/demo/images.json (the demo page's list:
 * `{ name, src: '/i/NAME.mrt', jpeg? }`) for the keys it stored.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { basename, extname, join, relative, resolve } from 'node:path';
import { validateMrt } from '../src/edge/app.ts';
import { MRT_CONTENT_TYPE } from '../src/edge/http.ts';

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg', '.webp', '.avif', '.tif', '.tiff', '.gif']);

export interface SeedItem {
  key: string;
  path: string;
}

export async function collect(inputs: string[], prefix = ''): Promise<SeedItem[]> {
  const out: SeedItem[] = [];
  const take = (path: string, rel: string) => {
    const ext = extname(path).toLowerCase();
    if (ext !== '.mrt' && !IMAGE_EXT.has(ext)) return;
    out.push({ key: prefix + rel.slice(0, rel.length - ext.length).split('\\').join('/') + '.mrt', path });
  };
  for (const input of inputs) {
    const s = await stat(input);
    if (s.isDirectory()) {
      const walk = async (dir: string): Promise<void> => {
        for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
          const p = join(dir, e.name);
          if (e.isDirectory()) await walk(p);
          else take(p, relative(input, p));
        }
      };
      await walk(input);
    } else {
      take(input, basename(input));
    }
  }
  // an image and an .mrt of the same name: prefer the .mrt
  const byKey = new Map<string, SeedItem>();
  for (const it of out) {
    const prev = byKey.get(it.key);
    if (!prev || it.path.endsWith('.mrt')) byKey.set(it.key, it);
  }
  return [...byKey.values()];
}

export async function bytesFor(item: SeedItem): Promise<Uint8Array> {
  if (item.path.toLowerCase().endsWith('.mrt')) return new Uint8Array(await readFile(item.path));
  let encode: (input: string, options?: object) => Promise<Uint8Array>;
  try {
    ({ encode } = await import('../src/encoder/index.ts'));
  } catch (e) {
    throw new Error(`cannot encode ${item.path}: src/encoder is not available (${(e as Error).message})`);
  }
  return encode(item.path);
}

/** Put items into a bucket (anything with R2's put). Returns the number stored. */
export async function seed(
  bucket: { put(key: string, value: Uint8Array, o?: object): Promise<unknown> },
  items: SeedItem[],
  log: (s: string) => void = console.log,
  stored: string[] = [],
): Promise<number> {
  let ok = 0;
  for (const it of items) {
    try {
      const bytes = await bytesFor(it);
      const v = validateMrt(bytes);
      if (!v.ok) throw new Error(`not a valid .mrt: ${v.detail}`);
      await bucket.put(it.key, bytes, { httpMetadata: { contentType: MRT_CONTENT_TYPE } });
      log(`seeded /i/${it.key}  (${bytes.length} bytes, ${v.chunks} chunks${v.final ? ' + final' : ''})  ← ${it.path}`);
      ok++;
      stored.push(it.key);
    } catch (e) {
      log(`skipped ${it.path}: ${(e as Error).message}`);
    }
  }
  return ok;
}

/** The demo page's image list (see scripts/build-client.ts): one entry per stored key. */
export async function writeDemoList(clientDir: string, keys: string[]): Promise<void> {
  const list = keys.map((key) => {
    const name = key.replace(/\.mrt$/, '');
    const jpeg = `/demo/jpeg/${name}.jpg`;
    return { name, src: `/i/${key}`, ...(existsSync(join(clientDir, jpeg)) ? { jpeg } : {}) };
  });
  await mkdir(join(clientDir, 'demo'), { recursive: true });
  await writeFile(join(clientDir, 'demo/images.json'), JSON.stringify(list));
  console.log(`wrote ${join(clientDir, 'demo/images.json')} (${list.length} images)`);
}

type LargeAssetBucket = {
  head(key: string): Promise<{ size: number } | null>;
  put(key: string, value: Uint8Array, o?: object): Promise<unknown>;
};

/** Client files over the Workers asset limit go to R2 `_assets/<path>` (see src/edge/worker.ts). */
export async function seedLargeAssets(bucket: LargeAssetBucket, dir: string): Promise<void> {
  const { prepareAssets } = (await import('./dev-edge.mjs')) as { prepareAssets: (d: string) => string[] };
  for (const rel of prepareAssets(dir)) {
    const key = `_assets/${rel}`;
    const bytes = new Uint8Array(await readFile(join(dir, rel)));
    const have = await bucket.head(key);
    if (have && have.size === bytes.length) continue;
    await bucket.put(key, bytes);
    console.log(`seeded /${rel} (${bytes.length} bytes, over the 25 MiB asset limit) → R2 ${key}`);
  }
}

async function main(argv: string[]): Promise<number> {
  let persist = process.env.MRT_PERSIST || '.wrangler/state';
  let prefix = '';
  let demo = false;
  const inputs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--persist-to') persist = argv[++i]!;
    else if (a === '--prefix') prefix = argv[++i]!;
    else if (a === '--demo') demo = true;
    else if (a === '-h' || a === '--help') {
      console.log('usage: npm run seed:edge -- FILES_OR_DIRS... [--persist-to DIR] [--prefix P/] [--demo]');
      return 0;
    } else inputs.push(a);
  }
  if (!inputs.length) {
    console.error('usage: npm run seed:edge -- FILES_OR_DIRS... [--persist-to DIR] [--prefix P/] [--demo]');
    return 2;
  }
  const items = await collect(inputs, prefix);
  if (!items.length) {
    console.error('no .mrt or image files found');
    return 1;
  }
  const { getPlatformProxy } = await import('wrangler');
  const root = resolve(import.meta.dirname, '..');
  // The proxy loads wrangler.toml's [assets] too: oversized client files must be listed in
  // .assetsignore first, or it refuses to start (a fresh clone has no .assetsignore yet).
  const { prepareAssets } = (await import('./dev-edge.mjs')) as { prepareAssets: (d: string) => string[] };
  prepareAssets(join(root, 'dist/client'));
  const proxy = await getPlatformProxy<{ IMAGES: Parameters<typeof seed>[0] }>({
    configPath: join(root, 'wrangler.toml'),
    persist: { path: join(resolve(persist), 'v3') },
  });
  try {
    await seedLargeAssets(proxy.env.IMAGES as unknown as LargeAssetBucket, join(root, 'dist/client'));
    const stored: string[] = [];
    const n = await seed(proxy.env.IMAGES, items, console.log, stored);
    if (demo) await writeDemoList(join(root, 'dist/client'), stored);
    console.log(`${n}/${items.length} objects in local R2 (${persist})`);
    return n === items.length ? 0 : 1;
  } finally {
    await proxy.dispose();
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
