// Builds the browser client into dist/client/ (served by the edge as static assets):
//   mrt-img.js      one ES module that defines <mrt-img> (+ mrt-img.d.ts types)
//   mrt-worker.js   the decode worker (parser, coder, prior, regeneration, ORT glue)
//   mrt-kernels.wasm   the lean runtime's WASM SIMD kernels (src/model/lean/kernels.wasm), loaded lazily by the worker
//   ort.*.mjs, ort-wasm-*.{mjs,wasm}   onnxruntime-web (the `runtime: 'ort'` option), loaded lazily by the worker
//   models/         manifest.json and the files it lists but encoder.onnx (rcm.json, preview.bin, decoder-split.onnx + tail.bin, or decoder.onnx)
//   models/<hash>/  the same for each earlier shipped model (models/<first 8 hex digits of its modelHash>/)
//   assets/         the runtime and model files again under content-hashed names (STEM.HASH.EXT),
//                   each with .br and .gz beside it: what the worker fetches from this folder
//                   (served immutable, precompressed); the plain names serve other pages' ortBase/modelBase
//   index.html, demo.js, demo/jpeg/*.jpg   the demo page and its progressive JPEGs
//
// Usage: npx tsx scripts/build-client.ts [--out DIR] [--no-minify] [--no-jpeg] [--kodak DIR] [--models DIR]
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlibConstants, gzip } from 'node:zlib';
import { CLIENT_HEADERS, HASH_CHARS, IMMUTABLE } from '../src/edge/assets.ts';
import type { Manifest } from '../src/model/io.ts';
import { KERNELS_FILE } from '../src/client/runtime.ts';
import { isModelDirName } from '../src/model/model-hash.ts';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

export interface BuildOptions {
  out?: string;
  minify?: boolean;
  jpeg?: boolean;
  kodakDir?: string;
  /** Folder holding manifest.json, decoder.onnx, rcm.json (default models/, or MRT_MODELS_DIR). */
  modelsDir?: string;
  quiet?: boolean;
  /**
   * Precompress (brotli 11, gzip 9) hashed files up to this many bytes (default: all). Brotli
   * 11 takes ~45 s for the 14 MB runtime .wasm; results are kept by content hash, so only a
   * new file costs it.
   */
  compressUpTo?: number;
  /**
   * Also ship onnxruntime-web and the .onnx decoder graphs (the `runtime: 'ort'` option;
   * default true). false: the lean runtime's files only (mrt-kernels.wasm, manifest.json,
   * rcm.json, preview.bin and the manifest's `lean` files), as the npm packages ship them; a
   * page that sets `runtime: 'ort'` then finds the other files under their plain names.
   */
  ort?: boolean;
}

/** Where the content-hashed copies go, relative to the output folder (one immutable folder). */
export const HASHED_DIR = 'assets';

/** 'models/rcm.json' + its bytes → 'assets/rcm.0123456789abcdef.json'. */
export function hashedName(rel: string, bytes: Uint8Array): string {
  const base = rel.slice(rel.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  const hash = createHash('sha256').update(bytes).digest('hex').slice(0, HASH_CHARS);
  return `${HASHED_DIR}/${dot > 0 ? `${base.slice(0, dot)}.${hash}${base.slice(dot)}` : `${base}.${hash}`}`;
}

const brotli = promisify(brotliCompress);
const gz = promisify(gzip);

/** Writes `file`.br and `file`.gz unless there (the name holds the content hash); a variant that is not smaller is not written. */
async function precompress(file: string): Promise<void> {
  const bytes = await readFile(file);
  const make = async (ext: string, enc: () => Promise<Buffer>) => {
    if (existsSync(file + ext)) return;
    const out = await enc();
    if (out.length >= bytes.length) return;
    // written under a temporary name first: an interrupted build never leaves a cut variant
    await writeFile(`${file}${ext}.tmp`, out);
    await rename(`${file}${ext}.tmp`, file + ext);
  };
  await Promise.all([
    make('.br', () =>
      brotli(bytes, {
        params: {
          [zlibConstants.BROTLI_PARAM_QUALITY]: 11,
          [zlibConstants.BROTLI_PARAM_LGWIN]: 24,
          [zlibConstants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
        },
      }),
    ),
    make('.gz', () => gz(bytes, { level: 9 })),
  ]);
}

/**
 * Copies the files the worker fetches (paths relative to `out`) to content-hashed names in
 * assets/, precompresses them, and removes hashed files of earlier builds. Returns the
 * plain → hashed map and each hashed file's whole sha256, which the worker bundle carries
 * (src/client/assets.ts: the names; src/client/integrity.ts: the digests it checks against).
 */
async function hashAssets(out: string, files: string[], compressUpTo: number): Promise<{ map: Record<string, string>; digests: Record<string, string> }> {
  await mkdir(join(out, HASHED_DIR), { recursive: true });
  const map: Record<string, string> = {};
  const digests: Record<string, string> = {};
  for (const rel of files) {
    const src = join(out, rel);
    if (!existsSync(src)) continue;
    const bytes = await readFile(src);
    const name = hashedName(rel, bytes);
    map[rel] = name;
    digests[name] = createHash('sha256').update(bytes).digest('hex');
    await copyIfChanged(src, join(out, name));
    if (bytes.length <= compressUpTo) await precompress(join(out, name));
  }
  const keep = new Set(Object.values(map).map((n) => n.slice(HASHED_DIR.length + 1)));
  for (const f of await readdir(join(out, HASHED_DIR))) {
    if (!keep.has(f.replace(/\.(br|gz)$/, ''))) await rm(join(out, HASHED_DIR, f), { force: true });
  }
  return { map, digests };
}

/** The onnxruntime-web files the worker may load: the WASM build, and the WebGPU build. */
export const ORT_FILES = [
  'ort.wasm.min.mjs',
  'ort-wasm-simd-threaded.mjs',
  'ort-wasm-simd-threaded.wasm',
  'ort.webgpu.min.mjs',
  'ort-wasm-simd-threaded.asyncify.mjs',
  'ort-wasm-simd-threaded.asyncify.wasm',
];

/**
 * Copies unless `dst` already holds the same bytes. (Not by modification time: a file of the
 * same size copied later from another models folder, e.g. MRT_MODELS_DIR, once left a stale
 * preview.bin in dist/ that the browser then refused for its sha256.)
 */
async function copyIfChanged(src: string, dst: string): Promise<boolean> {
  if (existsSync(dst)) {
    const [s, d] = await Promise.all([stat(src), stat(dst)]);
    if (s.size === d.size && Buffer.compare(await readFile(src), await readFile(dst)) === 0) return false;
  }
  await copyFile(src, dst);
  return true;
}

async function progressiveJpegs(kodakDir: string, outDir: string, log: (s: string) => void): Promise<string[]> {
  if (!existsSync(kodakDir)) {
    log(`(no ${kodakDir}: demo JPEGs skipped)`);
    return [];
  }
  const sharp = (await import('sharp')).default;
  await mkdir(outDir, { recursive: true });
  const names = (await readdir(kodakDir)).filter((n) => /^kodim\d\d\.png$/.test(n)).sort();
  for (const n of names) {
    const dst = join(outDir, n.replace(/\.png$/, '.jpg'));
    if (existsSync(dst)) continue;
    await sharp(join(kodakDir, n)).jpeg({ quality: 80, progressive: true, mozjpeg: true }).toFile(dst);
  }
  return names.map((n) => n.replace(/\.png$/, ''));
}

/**
 * Copies what a browser may load of the model in `src` to `dst`: manifest.json and the files
 * it lists but the encoder (and decoder.onnx when the model has a split decoder); without
 * onnxruntime-web (`ort` false) only what the lean runtime loads (src/client/decode/models.ts).
 * Removes what else is in `dst` but the folders in `keepDirs`. `prefix`: a versioned folder's
 * name, which must start the model's hash. Returns the names copied (and `keepDirs`).
 */
async function copyModel(src: string, dst: string, ort: boolean, keepDirs: string[], prefix?: string): Promise<string[]> {
  await mkdir(dst, { recursive: true });
  const manifest = JSON.parse(await readFile(join(src, 'manifest.json'), 'utf8')) as Pick<Manifest, 'files' | 'splitDecoder' | 'lean' | 'modelHash'>;
  if (prefix && !manifest.modelHash.toLowerCase().startsWith(prefix)) throw new Error(`${src}: the folder's name is not the start of its modelHash ${manifest.modelHash}`);
  const skip = new Set(['encoder.onnx', ...(manifest.splitDecoder ? ['decoder.onnx'] : [])]);
  const leanOnly = new Set(['rcm.json', 'preview.bin', ...(manifest.lean ? [manifest.lean.file, manifest.lean.tail ?? manifest.splitDecoder?.tail ?? ''] : [])]);
  const keep = ['manifest.json', ...Object.keys(manifest.files).filter((f) => !skip.has(f) && (ort || leanOnly.has(f)))];
  for (const f of keep) {
    if (existsSync(join(src, f))) await copyIfChanged(join(src, f), join(dst, f));
  }
  // files of an earlier model (or a graph the browser no longer loads) would be served stale
  for (const f of await readdir(dst)) if (!keep.includes(f) && !keepDirs.includes(f)) await rm(join(dst, f), { recursive: true });
  return [...keep, ...keepDirs];
}

export async function buildClient(o: BuildOptions = {}): Promise<string> {
  const out = resolve(o.out ?? join(root, 'dist/client'));
  const log = o.quiet ? () => undefined : (s: string) => console.log(s);
  const minify = o.minify ?? true;
  await mkdir(out, { recursive: true });
  const common = {
    bundle: true,
    format: 'esm' as const,
    platform: 'browser' as const,
    target: ['es2022', 'chrome110'],
    minify,
    sourcemap: 'linked' as const,
    legalComments: 'none' as const,
    logLevel: 'warning' as const,
    // The worker imports onnxruntime-web lazily by URL, never through the bundle.
    external: ['onnxruntime-web', 'sharp', 'node:*'],
  };
  const t0 = performance.now();
  const ortDir = join(root, 'node_modules/onnxruntime-web/dist');
  const ortFiles = o.ort === false ? [] : ORT_FILES;
  for (const f of ortFiles) await copyIfChanged(join(ortDir, f), join(out, f));
  await copyIfChanged(join(root, 'src/model/lean/kernels.wasm'), join(out, KERNELS_FILE));

  const modelsDir = resolve(o.modelsDir ?? process.env.MRT_MODELS_DIR ?? join(root, 'models'));
  let modelFiles: string[] = [];
  if (existsSync(join(modelsDir, 'manifest.json'))) {
    // the default model in models/, each earlier shipped model in models/<hash prefix>/
    // (models/README.md): all pinned by the hashed names below, so a stream that names an
    // earlier model gets its files checked as the default's are
    const versions = (await readdir(modelsDir, { withFileTypes: true }))
      .filter((e) => e.isDirectory() && isModelDirName(e.name) && existsSync(join(modelsDir, e.name, 'manifest.json')))
      .map((e) => e.name)
      .sort();
    const keep = await copyModel(modelsDir, join(out, 'models'), o.ort !== false, versions);
    for (const v of versions) keep.push(...(await copyModel(join(modelsDir, v), join(out, 'models', v), o.ort !== false, [], v)).map((f) => `${v}/${f}`));
    modelFiles = keep.filter((f) => !versions.includes(f)).map((f) => `models/${f}`);
  } else {
    log('(no models/manifest.json yet: models not copied)');
  }
  if (o.ort === false) for (const f of ORT_FILES) await rm(join(out, f), { force: true });
  const { map: hashed, digests } = await hashAssets(out, [KERNELS_FILE, ...ortFiles, ...modelFiles], o.compressUpTo ?? Infinity);
  log(`hashed assets: ${(performance.now() - t0).toFixed(0)} ms`);

  const t1 = performance.now();
  await Promise.all([
    build({ ...common, entryPoints: [join(root, 'src/client/mrt-img.ts')], outfile: join(out, 'mrt-img.js') }),
    build({
      ...common,
      entryPoints: [join(root, 'src/client/worker.ts')],
      outfile: join(out, 'mrt-worker.js'),
      define: { __MRT_HASHED_ASSETS__: JSON.stringify(hashed), __MRT_ASSET_DIGESTS__: JSON.stringify(digests) },
    }),
    build({ ...common, entryPoints: [join(root, 'src/client/demo/demo.ts')], outfile: join(out, 'demo.js') }),
    // the demo's whole-page throttle: at the root so that its scope covers the page and the runtime
    build({ ...common, entryPoints: [join(root, 'src/client/demo/throttle-sw.ts')], outfile: join(out, 'demo-throttle-sw.js') }),
  ]);
  log(`esbuild: ${(performance.now() - t1).toFixed(0)} ms`);

  // Types: the public types plus the element's declaration.
  const types = (await readFile(join(root, 'src/client/types.ts'), 'utf8')).replace(/^import .*$/gm, '');
  const el = await readFile(join(root, 'src/client/element.d.ts.txt'), 'utf8');
  await writeFile(join(out, 'mrt-img.d.ts'), `${types}\n${el}`);

  // Static-asset headers (Workers assets `_headers`): CLIENT_HEADERS (why: src/edge/assets.ts)
  // on every file; hashed files never change under their name. (The edge Worker answers
  // /assets/* itself, src/edge/assets.ts, to pick the precompressed variant; the second rule
  // covers a host that serves the folder as plain static files.)
  await writeFile(
    join(out, '_headers'),
    [
      '# written by scripts/build-client.ts',
      '/*',
      ...Object.entries(CLIENT_HEADERS).map(([k, v]) => `  ${k}: ${v}`),
      `/${HASHED_DIR}/*`,
      `  Cache-Control: ${IMMUTABLE}`,
      // a shipped model's versioned folder: its name is its hash (src/edge/assets.ts serveModelFile)
      '/models/:hash/*',
      `  Cache-Control: ${IMMUTABLE}`,
      '',
    ].join('\n'),
  );

  await copyFile(join(root, 'src/client/demo/index.html'), join(out, 'index.html'));
  if (o.jpeg ?? true) {
    const kodak = o.kodakDir ?? process.env.MRT_KODAK_DIR ?? resolve(root, '../shared/data/kodak');
    const names = await progressiveJpegs(kodak, join(out, 'demo/jpeg'), log);
    if (names.length && !existsSync(join(out, 'demo/images.json'))) {
      // The seeding step may overwrite this with the list it actually put in R2.
      await writeFile(join(out, 'demo/images.json'), JSON.stringify(names.map((n) => ({ name: n, src: `/i/${n}.mrt`, jpeg: `/demo/jpeg/${n}.jpg` }))));
    }
  }
  log(`client built in ${out} (${(performance.now() - t0).toFixed(0)} ms)`);
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildClient({
    out: arg('--out'),
    minify: !process.argv.includes('--no-minify'),
    jpeg: !process.argv.includes('--no-jpeg'),
    kodakDir: arg('--kodak'),
    modelsDir: arg('--models'),
  }).catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
