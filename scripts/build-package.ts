// Builds what the two npm packages ship (run by `npm run build:package` and on `npm pack` of either):
//
// mrt-img (this folder's package.json: encoder, `mrt` CLI, edge, format, and the client again)
//   lib/{format,codec,model,edge,encoder}/   JavaScript + .d.ts from src/ (tsconfig.build.json)
//   lib/client/   the browser element (mrt-img.js + .d.ts), its React wrapper (react.js + .d.ts:
//                 `mrt-img/react`), its decode worker and, under
//                 assets/, the lean runtime's kernels (mrt-kernels.wasm) and the model files it
//                 loads, by content-hashed name: the folder a site copies next to its pages
//                 (scripts/build-client.ts with ort: false; no onnxruntime-web, no .onnx)
//   The encoder's models stay in models/ (lib/encoder/models.js finds them at ../../models).
//
// mrt-img-client (packages/client/package.json: the browser files alone)
//   packages/client/dist/   the same files as lib/client/
//   packages/client/{LICENSE,LICENSES.md,ATTRIBUTION.md}   copied from the root and models/
//
// Usage: npx tsx scripts/build-package.ts [--skip-client] [--lib DIR] [--client-package DIR]
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildClient, HASHED_DIR } from './build-client.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const LIB = join(root, 'lib');

/** The files of a client build the package ships (the demo and the plain-named duplicates stay out). */
export function shippedClientFile(rel: string): boolean {
  if (rel.startsWith(`${HASHED_DIR}/`)) return !/\.(br|gz)$/.test(rel);
  return rel === 'mrt-img.js' || rel === 'mrt-img.d.ts' || rel === 'mrt-worker.js' || rel === 'react.js' || rel === 'react.d.ts';
}

/**
 * The React wrapper (src/client/react.ts) beside the element in a client build: react.js (React
 * stays an import: an optional peer; the element's module is imported from './mrt-img.js', the
 * file beside it) and react.d.ts (its declarations with the JSX typings of <mrt-img>).
 */
export async function buildReact(out: string): Promise<void> {
  const { build } = await import('esbuild');
  await build({
    entryPoints: [join(root, 'src/client/react.ts')],
    outfile: join(out, 'react.js'),
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: ['es2022'],
    legalComments: 'none',
    logLevel: 'warning',
    external: ['react'],
    plugins: [
      {
        name: 'element-beside',
        setup(b) {
          b.onResolve({ filter: /^\.\/mrt-img\.(ts|js)$/ }, () => ({ path: './mrt-img.js', external: true }));
        },
      },
    ],
  });
  const tmp = await mkdtemp(join(tmpdir(), 'mrt-react-dts-'));
  try {
    execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '--declaration', '--emitDeclarationOnly', '--skipLibCheck', '--strict',
      '--target', 'ES2022', '--module', 'ESNext', '--moduleResolution', 'Bundler', '--allowImportingTsExtensions', '--lib', 'ES2022,DOM,DOM.Iterable,WebWorker',
      '--types', 'node', '--rootDir', join(root, 'src'), '--outDir', tmp, join(root, 'src/client/react.ts')], { stdio: 'inherit' });
    await writeFile(join(out, 'react.d.ts'), rewriteDeclarationImports(await readFile(join(tmp, 'client/react.d.ts'), 'utf8')));
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

async function* walk(dir: string, rel = ''): AsyncGenerator<string> {
  for (const e of await readdir(join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) yield* walk(dir, r);
    else yield r;
  }
}

/**
 * tsc rewrites `./x.ts` to `./x.js` in JavaScript (rewriteRelativeImportExtensions) but not in
 * declarations; a consumer's TypeScript without allowImportingTsExtensions refuses them.
 */
export function rewriteDeclarationImports(text: string): string {
  return text.replace(/((?:from|import)\s*\(?\s*['"])(\.{1,2}\/[^'"]*?)\.ts(['"])/g, '$1$2.js$3');
}

export interface PackageBuildOptions {
  /** Build the browser files into lib/client/ (default true). */
  client?: boolean;
  /** Where lib/ goes (default: lib/ of this checkout; the encoder finds its models at ../models from it). */
  lib?: string;
  /** Scratch folder of the client build (default dist/package-client). */
  clientBuild?: string;
  /** The browser package's folder (default packages/client): its dist/ and licence files are written there. */
  clientPackage?: string;
}

/** The browser package's folder in this repository (its package.json and README.md are checked in). */
export const CLIENT_PACKAGE = join(root, 'packages/client');

/** Files the browser package gets from the repository, beside its dist/: [source, name in the package]. */
export const CLIENT_PACKAGE_COPIES: [string, string][] = [
  ['LICENSE', 'LICENSE'],
  ['LICENSES.md', 'LICENSES.md'],
  ['models/ATTRIBUTION.md', 'ATTRIBUTION.md'],
];

export async function buildPackage(o: PackageBuildOptions = {}): Promise<string> {
  const t0 = performance.now();
  const lib = resolve(o.lib ?? LIB);
  await rm(lib, { recursive: true, force: true });
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json'), '--outDir', lib], { stdio: 'inherit' });
  for await (const rel of walk(lib)) {
    if (!rel.endsWith('.d.ts')) continue;
    const f = join(lib, rel);
    await writeFile(f, rewriteDeclarationImports(await readFile(f, 'utf8')));
  }
  // the protobuf module is generated JavaScript with its own declarations (npm run proto)
  await mkdir(join(lib, 'format/gen'), { recursive: true });
  for (const f of ['mrt.js', 'mrt.d.ts']) await copyFile(join(root, 'src/format/gen', f), join(lib, 'format/gen', f));
  console.log(`lib/: ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  if (o.client === false) return lib;
  // Built in a folder of its own (not dist/client, which the edge serves and the demo fills),
  // without precompressed variants: a host compresses, and they would triple the package.
  // The lean runtime only: onnxruntime-web (40 MB) and the .onnx graphs stay out of both
  // packages; a page with `runtime: 'ort'` copies them from onnxruntime-web and mrt-img's models/.
  const out = await buildClient({ out: o.clientBuild ?? join(root, 'dist/package-client'), jpeg: false, quiet: true, compressUpTo: 0, ort: false });
  await buildReact(out);
  const pkgDir = resolve(o.clientPackage ?? CLIENT_PACKAGE);
  await rm(join(pkgDir, 'dist'), { recursive: true, force: true });
  for await (const rel of walk(out)) {
    if (!shippedClientFile(rel)) continue;
    for (const dst of [join(lib, 'client', rel), join(pkgDir, 'dist', rel)]) {
      await mkdir(dirname(dst), { recursive: true });
      if (rel.endsWith('.js')) {
        // source maps stay out of the package (they point into src/): drop the link to them
        await writeFile(dst, (await readFile(join(out, rel), 'utf8')).replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n'));
      } else {
        await copyFile(join(out, rel), dst);
      }
    }
  }
  for (const [src, name] of CLIENT_PACKAGE_COPIES) await copyFile(join(root, src), join(pkgDir, name));
  if (!existsSync(join(lib, 'client/mrt-worker.js'))) throw new Error('client build wrote no mrt-worker.js');
  console.log(`lib/ + lib/client/ + ${pkgDir}/dist: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return lib;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const lib = arg('--lib');
  const clientPackage = arg('--client-package');
  buildPackage({ client: !process.argv.includes('--skip-client'), ...(lib ? { lib } : {}), ...(clientPackage ? { clientPackage } : {}) }).catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
