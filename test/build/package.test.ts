// The two npm packages as a user gets them: build, pack, install each tarball alone into a
// fresh folder with no environment of ours (cache first: `--prefer-offline`), then use each
// entry point from there.
//   mrt-img-client (packages/client): the element, its worker, the lean runtime's kernels and
//     model files; no dependencies. Its tarball at most 5 MB and a fresh install's
//     node_modules at most 30 MB (du), and none of onnxruntime-web or the .onnx graphs.
//   mrt-img: encoder, `mrt` CLI, edge, format and the same client files. Installs with
//     neither sharp nor onnxruntime (optional peers), loads every entry point in Node.
// Checks that the tarballs hold what the exports name and nothing of the repository's own
// (tests, benchmarks, training, sources), that the built code runs without tsx, that the
// declarations pass a strict consumer's tsc, and that the documented copy steps (the
// browser package's dist/, and for `runtime: 'ort'` onnxruntime-web's files and mrt-img's
// graph) give a page that paints.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPackage, CLIENT_PACKAGE, CLIENT_PACKAGE_COPIES, rewriteDeclarationImports, shippedClientFile } from '../../scripts/build-package.ts';
import { ORT_FILES } from '../../scripts/build-client.ts';
import { isModelDirName } from '../../src/model/model-hash.ts';
import type { Page } from 'playwright-core';
import { launchChromium, startServer, watchErrors, type BrowserHandle } from '../browser/harness.ts';

const exec = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  exports: Record<string, string | Record<string, string>>;
  peerDependencies: Record<string, string>;
  files: string[];
};
const clientPkg = JSON.parse(await readFile(join(CLIENT_PACKAGE, 'package.json'), 'utf8')) as typeof pkg & { dependencies?: Record<string, string>; peerDependenciesMeta?: Record<string, { optional?: boolean }> };

interface Packed {
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string }[];
}

/**
 * The child's environment without the npm_* variables of an enclosing `npm test` (this
 * checkout's .npmrc sets onnxruntime-node-install=skip; a user's install has no such setting)
 * and without onnxruntime's install switches.
 */
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(npm_|onnxruntime_node_install)/i.test(k)));

async function run(cmd: string, args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(cmd, args, { cwd, env: cleanEnv, maxBuffer: 1 << 26 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: typeof err.code === 'number' ? err.code : 1, stdout: err.stdout, stderr: err.stderr };
  }
}

async function ok(cmd: string, args: string[], cwd: string): Promise<string> {
  const r = await run(cmd, args, cwd);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}:\n${r.stderr}`);
  return r.stdout;
}

/** Disk usage of `dir` in bytes as `du -sk` counts it (whole blocks: never less than the bytes in it). */
async function du(dir: string): Promise<number> {
  return Number((await ok('du', ['-sk', dir], dir)).split(/\s/)[0]) * 1024;
}

/** npm pack of a staging folder into `dest`. */
async function pack(dir: string, dest: string): Promise<Packed> {
  const [p] = JSON.parse(await ok('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dest], dir)) as Packed[];
  console.log(`${p!.filename}: tarball ${(p!.size / MB).toFixed(2)} MB, unpacked ${(p!.unpackedSize / MB).toFixed(2)} MB, ${p!.files.length} files`);
  return p!;
}

/** A fresh app folder with `tarball` installed from it alone (cache first). */
async function freshInstall(dir: string, tarball: string): Promise<void> {
  await mkdir(dir);
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  await ok('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], dir);
}

const MB = 1 << 20;
/** node -e in the app folder: `code` is an ES module body; its stdout comes back. */
const nodeEval = (app: string, code: string) => ok(process.execPath, ['--input-type=module', '-e', code], app);

/**
 * Opens `url` and collects the kinds of the element's paint events (and its error details)
 * from the first script on (the element may paint before the page's load event), until a
 * learned paint or an error.
 */
async function paintKinds(browser: BrowserHandle, url: string): Promise<{ page: Page; kinds: string[]; errors: string[] }> {
  const page = await browser.context.newPage();
  const errors = watchErrors(page);
  await page.addInitScript(() => {
    const w = window as unknown as { kinds: string[] };
    w.kinds = [];
    addEventListener('paint', (e) => w.kinds.push((e as CustomEvent<{ kind: string }>).detail.kind), true);
    addEventListener('error', (e) => e instanceof CustomEvent && w.kinds.push(`error: ${JSON.stringify(e.detail)}`), true);
  });
  await page.goto(url);
  await page.waitForFunction(() => (window as unknown as { kinds: string[] }).kinds.some((k) => k === 'ml' || k.startsWith('error')), null, { timeout: 60_000 });
  return { page, kinds: await page.evaluate(() => (window as unknown as { kinds: string[] }).kinds), errors };
}

describe('helpers', () => {
  it('declaration imports lose their .ts extension, other strings stay', () => {
    expect(rewriteDeclarationImports(`import { a } from './a.ts';\nexport * from "../b/c.ts";\ntype T = import('./t.ts').T;`)).toBe(
      `import { a } from './a.js';\nexport * from "../b/c.js";\ntype T = import('./t.js').T;`,
    );
    expect(rewriteDeclarationImports(`import x from 'pkg.ts'; const s = 'file.ts';`)).toBe(`import x from 'pkg.ts'; const s = 'file.ts';`);
  });
  it('the package keeps the element, the worker and the hashed assets of a client build, not the demo or precompressed copies', () => {
    expect(['mrt-img.js', 'mrt-img.d.ts', 'mrt-worker.js', 'assets/rcm.0123456789abcdef.json'].every(shippedClientFile)).toBe(true);
    expect(['index.html', 'demo.js', 'mrt-img.js.map', 'models/rcm.json', 'assets/x.0123.wasm.br', 'assets/x.0123.wasm.gz', 'ort.wasm.min.mjs'].some(shippedClientFile)).toBe(false);
  });
  it('the browser package is versioned with mrt-img and has no dependencies', () => {
    expect(clientPkg.name).toBe('mrt-img-client');
    expect(clientPkg.version).toBe(pkg.version);
    expect(clientPkg.dependencies ?? {}).toEqual({});
    // both optional: onnxruntime-web for runtime 'ort', React for the ./react wrapper
    expect(Object.keys(clientPkg.peerDependencies).sort()).toEqual(['onnxruntime-web', 'react']);
    for (const name of Object.keys(clientPkg.peerDependencies)) expect(clientPkg.peerDependenciesMeta?.[name]?.optional, name).toBe(true);
    // library ranges, not pins
    for (const [name, range] of Object.entries({ ...clientPkg.peerDependencies, ...pkg.peerDependencies })) expect(range, name).toMatch(/^\^/);
  });
});

/** What neither package ships: onnxruntime-web's files and the .onnx graphs outside models/. */
const ortOrOnnx = (f: string) => /(^|\/)ort[.-][^/]*\.(mjs|wasm)$/.test(f) || (!f.startsWith('models/') && f.endsWith('.onnx'));

describe('npm packages', () => {
  let work: string;
  let tarball: string;
  let files: string[];
  /** What `npm pack` takes from this checkout. */
  let repoFiles: string[];
  let app: string;
  let clientPacked: Packed;
  let clientFiles: string[];
  /** A browser-only app: the browser package installed alone. */
  let web: string;

  beforeAll(async () => {
    // Packed from staging copies (what `files` names, lib/ and the browser package's dist/
    // built into them), so that the test leaves this checkout alone and two runs at once do not meet.
    work = await mkdtemp(join(tmpdir(), 'mrt-pkg-'));
    const stage = join(work, 'package');
    // what `npm pack` takes from this checkout (`files` has patterns), but lib/, built below
    const [dry] = JSON.parse(await ok('npm', ['pack', '--dry-run', '--ignore-scripts', '--json'], ROOT)) as { files: { path: string }[] }[];
    repoFiles = dry!.files.map((f) => f.path);
    for (const f of repoFiles.filter((f) => !f.startsWith('lib/'))) {
      await mkdir(dirname(join(stage, f)), { recursive: true });
      await copyFile(join(ROOT, f), join(stage, f));
    }
    const stageClient = join(work, 'client-package');
    await mkdir(stageClient);
    for (const f of ['package.json', 'README.md']) await copyFile(join(CLIENT_PACKAGE, f), join(stageClient, f));
    const t0 = performance.now();
    await buildPackage({ lib: join(stage, 'lib'), clientBuild: join(work, 'client-build'), clientPackage: stageClient });
    const t1 = performance.now();
    const [full, client] = await Promise.all([pack(stage, work), pack(stageClient, work)]);
    tarball = join(work, full.filename);
    files = full.files.map((f) => f.path);
    clientPacked = client;
    clientFiles = client.files.map((f) => f.path);
    app = join(work, 'app');
    web = join(work, 'web');
    await Promise.all([freshInstall(app, tarball), freshInstall(web, join(work, client.filename))]);
    console.log(`build ${((t1 - t0) / 1000).toFixed(1)} s, pack + both installs ${((performance.now() - t1) / 1000).toFixed(1)} s`);
  }, 300_000);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('ships every file the exports, types and bin name, and none of the repository\'s own', async () => {
    const targets = Object.values(pkg.exports).flatMap((t) => (typeof t === 'string' ? [t] : Object.values(t)));
    for (const t of targets.filter((t) => !t.includes('*'))) expect(files, t).toContain(t.replace(/^\.\//, ''));
    for (const f of ['bin/mrt.js', 'lib/encoder/cli.js', 'lib/format/gen/mrt.js', 'lib/client/mrt-worker.js', 'models/encoder.onnx', 'models/manifest.json', 'models/decoder-split.onnx', 'LICENSES.md']) {
      expect(files, f).toContain(f);
    }
    // the client files are the browser package's, and neither ships onnxruntime-web
    expect(files.filter((f) => f.startsWith('lib/client/')).map((f) => f.slice('lib/client/'.length)).sort()).toEqual(
      clientFiles.filter((f) => f.startsWith('dist/')).map((f) => f.slice('dist/'.length)).sort(),
    );
    expect([...files, ...clientFiles].filter(ortOrOnnx)).toEqual([]);
    // `files` against this checkout's whole tree (the staging copy holds only what it names)
    expect(repoFiles).toContain('models/encoder.onnx');
    const own = (f: string) => /^(src|test|bench|training|scripts|proto|docs|dist|samples)\//.test(f) || f.startsWith('models/testvec') || f.endsWith('.map');
    expect([...repoFiles, ...files].filter(own)).toEqual([]);
  });

  it('every relative import of a shipped declaration names a .js file whose declaration is shipped', async () => {
    const dts = files.filter((f) => f.endsWith('.d.ts'));
    expect(dts.length).toBeGreaterThan(20);
    const broken: string[] = [];
    for (const f of dts) {
      const text = (await readFile(join(app, 'node_modules', pkg.name, f), 'utf8')).replace(/\/\*[\s\S]*?\*\//g, ''); // not the examples in doc comments
      for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
        const target = join(dirname(f), m[1]!);
        if (!target.endsWith('.js') || !files.includes(target.replace(/\.js$/, '.d.ts'))) broken.push(`${f}: ${m[1]}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('the browser package: the element, worker, kernels and lean model files; tarball ≤ 5 MB, installed alone ≤ 30 MB', async () => {
    const expected = ['package.json', 'README.md', ...CLIENT_PACKAGE_COPIES.map(([, name]) => name), 'dist/mrt-img.js', 'dist/mrt-img.d.ts', 'dist/mrt-worker.js', 'dist/react.js', 'dist/react.d.ts'];
    for (const f of expected) expect(clientFiles, f).toContain(f);
    const assets = clientFiles.filter((f) => f.startsWith('dist/assets/')).map((f) => f.replace(/^dist\/assets\/([^.]+)\.[0-9a-f]{16}\./, '$1.')).sort();
    // the lean runtime's files of the default model and of each earlier one (models/<hash prefix>/)
    const versions = (await readdir(join(ROOT, 'models'), { withFileTypes: true })).filter((e) => e.isDirectory() && isModelDirName(e.name));
    const lean = ['decoder-lean.bin', 'manifest.json', 'preview.bin', 'rcm.json', 'tail-i8.bin'];
    expect(assets).toEqual(['mrt-kernels.wasm', ...[0, ...versions].flatMap(() => lean)].sort());
    expect(clientFiles.filter((f) => !expected.includes(f) && !f.startsWith('dist/assets/'))).toEqual([]);
    expect(clientPacked.size).toBeLessThanOrEqual(5 * MB);
    const installed = await readdir(join(web, 'node_modules'));
    expect(installed.filter((n) => !n.startsWith('.'))).toEqual([clientPkg.name]);
    const bytes = await du(join(web, 'node_modules'));
    console.log(`browser-only install: node_modules ${(bytes / MB).toFixed(2)} MB (du -sk)`);
    expect(bytes).toBeLessThanOrEqual(30 * MB);
    // in Node (server rendering) it loads, defines nothing, and its exports reach the copied folder's files
    const out = await nodeEval(
      web,
      `const c = await import('${clientPkg.name}');
       const worker = import.meta.resolve('${clientPkg.name}/mrt-worker.js');
       console.log(JSON.stringify({ el: typeof c.MrtImg, configure: typeof c.MrtImg.configure, worker: worker.endsWith('/node_modules/${clientPkg.name}/dist/mrt-worker.js') }));`,
    );
    expect(JSON.parse(out)).toEqual({ el: 'function', configure: 'function', worker: true });
  });

  it('mrt-img installs alone with no environment: neither sharp nor onnxruntime', async () => {
    const installed = await readdir(join(app, 'node_modules'));
    expect(installed).toContain(pkg.name);
    for (const heavy of ['sharp', 'onnxruntime-node', 'onnxruntime-web', 'onnxruntime-common', '@img', 'tsx', clientPkg.name]) expect(installed).not.toContain(heavy);
    console.log(`mrt-img install (edge, format, client; encoder without its peers): node_modules ${((await du(join(app, 'node_modules'))) / MB).toFixed(1)} MB (du -sk; ${installed.filter((n) => !n.startsWith('.')).join(', ')})`);
  });

  it('every entry point loads in Node without tsx (the client for server rendering, the encoder without its peers)', async () => {
    const out = await nodeEval(
      app,
      `const c = await import('${pkg.name}/client');
       const r = await import('${pkg.name}');
       const e = await import('${pkg.name}/edge');
       const f = await import('${pkg.name}/format');
       const fs = await import('${pkg.name}/edge/fs');
       const enc = await import('${pkg.name}/encoder');
       const missing = await enc.loadModels().then(() => 'loaded', (err) => err.name);
       console.log(JSON.stringify({ el: typeof c.MrtImg, same: r.MrtImg === c.MrtImg, app: typeof e.createMrtApp, header: typeof f.readHeader, hono: typeof e.createMrtApp().fetch, encode: typeof enc.encode, missing, fsStore: typeof fs.FsStore }));`,
    );
    expect(JSON.parse(out)).toEqual({ el: 'function', same: true, app: 'function', header: 'function', hono: 'function', encode: 'function', missing: 'MissingPeerError', fsStore: 'function' });
  });

  it('a Node-only consumer (no DOM or Workers types) type-checks the edge, its filesystem store and the format', async () => {
    await writeFile(
      join(app, 'node-only.ts'),
      `import { createServer } from 'node:http';\nimport { createMrtApp, type MrtAppOptions } from '${pkg.name}/edge';\nimport { FsStore } from '${pkg.name}/edge/fs';\n` +
        `import { readHeader } from '${pkg.name}/format';\nconst images = new FsStore('./images');\nconst opts: MrtAppOptions = { bucket: () => images };\n` +
        `export const app = createMrtApp(opts);\nconsole.log(createServer, readHeader);\n`,
    );
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const r = await run(process.execPath, [tsc, '--noEmit', '--strict', '--target', 'ES2022', '--lib', 'ES2022', '--module', 'NodeNext', '--moduleResolution', 'NodeNext',
      '--types', 'node', '--typeRoots', join(ROOT, 'node_modules/@types'), 'node-only.ts'], app);
    expect(r.stdout + r.stderr).toBe('');
  }, 60_000);

  it('an edge-only Worker mounting the app in its own Hono app bundles with wrangler (offline dry run)', async () => {
    await writeFile(
      join(app, 'worker.js'),
      `import { Hono } from 'hono';\nimport { createMrtApp } from '${pkg.name}/edge';\nconst app = new Hono();\napp.route('/', createMrtApp());\nexport default app;\n`,
    );
    await writeFile(join(app, 'wrangler.toml'), 'name = "app"\nmain = "worker.js"\ncompatibility_date = "2025-09-01"\n[[r2_buckets]]\nbinding = "IMAGES"\nbucket_name = "images"\n');
    const wrangler = join(ROOT, 'node_modules/wrangler/bin/wrangler.js');
    const { stdout, stderr } = await exec(process.execPath, [wrangler, 'deploy', '--dry-run', '--outdir', 'worker-out'], {
      cwd: app, env: { ...cleanEnv, WRANGLER_SEND_METRICS: 'false' }, maxBuffer: 1 << 24,
    });
    expect(`${stdout}${stderr}`).toMatch(/--dry-run: exiting now/);
    const bundle = await readFile(join(app, 'worker-out/worker.js'), 'utf8');
    expect(bundle).toContain('application/vnd.mrt'); // the app's routes are in it
    expect(bundle.length).toBeLessThan(1 << 20);
  });

  it('mrt --version and mrt info work without the encoder peers; mrt encode says what to install', async () => {
    expect((await ok('npx', ['--no-install', 'mrt', '--version'], app)).trim()).toBe(pkg.version);
    const info = JSON.parse(await ok('npx', ['--no-install', 'mrt', 'info', join(ROOT, 'test/golden/rcm-v210-T260.mrt'), '--json'], app)) as { fileBytes: number };
    expect(info.fileBytes).toBeGreaterThan(0);
    const r = await run('npx', ['--no-install', 'mrt', 'encode', join(ROOT, 'samples/kodim05.jpg'), '-o', 'x.mrt'], app);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('npm install sharp onnxruntime-node --onnxruntime-node-install=skip');
    expect(existsSync(join(app, 'x.mrt'))).toBe(false);
  });

  describe('with the encoder peers installed', () => {
    beforeAll(async () => {
      // the versions this checkout uses, so that npm's cache has them
      const version = async (name: string) => (JSON.parse(await readFile(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
      const peers = [`sharp@${await version('sharp')}`, `onnxruntime-node@${await version('onnxruntime-node')}`];
      await ok('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--onnxruntime-node-install=skip', ...peers], app);
    }, 300_000);

    it('npx mrt encodes and reads a photo with the shipped models; the library decodes it', async () => {
      // (no final layer: the browser tests below paint it on the learned runtime)
      await ok('npx', ['--no-install', 'mrt', 'encode', join(ROOT, 'samples/kodim05.jpg'), '-o', 'k.mrt', '--final', 'none'], app);
      const info = JSON.parse(await ok('npx', ['--no-install', 'mrt', 'info', 'k.mrt', '--json'], app)) as { fileBytes: number };
      expect(info.fileBytes).toBeGreaterThan(2048);
      const out = await nodeEval(
        app,
        `import { readFile } from 'node:fs/promises';
         const { decode } = await import('${pkg.name}/encoder');
         const { image } = await decode(new Uint8Array(await readFile('k.mrt')), { bytes: 2048 });
         console.log(image.width, image.height);`,
      );
      expect(out.trim()).toBe('768 512');
      // a file stored with the previous default decodes with the package's decode-only copy of it
      await ok('npx', ['--no-install', 'mrt', 'decode', join(ROOT, 'test/golden/mrt-v0.13-kodim23-128x96.mrt'), '-o', 'previous.png'], app);
      const previous = await readFile(join(app, 'previous.png'));
      expect([previous.readUInt32BE(16), previous.readUInt32BE(20)]).toEqual([128, 96]); // the PNG's IHDR
      expect(files.filter((f) => /^models\/a5fcce48\//.test(f)).sort()).toEqual(['ATTRIBUTION.md', 'README.md', 'decoder.onnx', 'manifest.json', 'preview.bin', 'rcm.json'].map((f) => `models/a5fcce48/${f}`));
    });

    it('the browser files copied from the browser package paint an image on the lean runtime, loaded as a script or bundled and configured; with runtime ort on the files copied from onnxruntime-web and mrt-img', async () => {
      // the documented copy step: cp -r node_modules/mrt-img-client/dist/. public/mrt/
      const site = join(web, 'public');
      await ok('mkdir', ['-p', join(site, 'mrt')], web);
      await ok('cp', ['-r', `${join(web, 'node_modules', clientPkg.name, 'dist')}/.`, join(site, 'mrt')], web); // (join() would drop the '/.')
      await ok('cp', [join(app, 'k.mrt'), join(site, 'k.mrt')], web);
      // runtime 'ort' (packages/client/README.md): onnxruntime-web's files (this checkout's
      // devDependency, the version the peer range names) and mrt-img's graph, by plain name,
      // in a folder of their own (a site that uses only 'ort' copies them beside the others)
      const ortSite = join(site, 'mrt-ort');
      await ok('cp', ['-r', `${join(site, 'mrt')}/.`, ortSite], web);
      for (const f of ORT_FILES) await copyFile(join(ROOT, 'node_modules/onnxruntime-web/dist', f), join(ortSite, f));
      await mkdir(join(ortSite, 'models'));
      for (const f of ['decoder-split.onnx', 'tail.bin']) await copyFile(join(app, 'node_modules', pkg.name, 'models', f), join(ortSite, 'models', f));
      const server = await startServer({ root: site });
      const browser = await launchChromium();
      try {
        const img = '<mrt-img src="/k.mrt" width="768" height="512" alt="k"></mrt-img>';
        const pages = {
          script: `<!doctype html><script type="module" src="/mrt/mrt-img.js"></script>${img}`,
          // a bundler puts the element into the app's own file, elsewhere: configure() says where the copied files are
          bundled: `<!doctype html>${img}<script type="module">import { MrtImg } from '/app/bundle.js';
            MrtImg.configure({ workerUrl: '/mrt/mrt-worker.js', ortBase: '/mrt/', modelBase: '/mrt/models/' });</script>`,
          ort: `<!doctype html>${img}<script type="module">import { MrtImg } from '/mrt-ort/mrt-img.js';
            MrtImg.configure({ runtime: 'ort', backend: 'wasm' });</script>`,
        };
        server.streams.set('/app/bundle.js', { bytes: new Uint8Array(await readFile(join(site, 'mrt/mrt-img.js'))) });
        for (const [name, html] of Object.entries(pages)) {
          server.streams.set(`/${name}.html`, { bytes: new TextEncoder().encode(html) });
          const { page, kinds, errors } = await paintKinds(browser, `${server.url}/${name}.html`);
          expect(kinds.filter((k) => k.startsWith('error')), name).toEqual([]);
          expect(kinds[0], name).toBe('placeholder');
          expect(kinds, name).toContain('ml');
          expect(errors, name).toEqual([]);
          await page.close();
        }
        // everything came from the copied folders: the lean runtime and model by content-hashed
        // name, and only the 'ort' page asked for onnxruntime-web and the .onnx graph
        const paths = server.log.map((l) => l.path);
        const lean = paths.filter((p) => p.startsWith('/mrt/'));
        expect(lean).toContain('/mrt/mrt-worker.js');
        expect(lean.some((p) => /^\/mrt\/assets\/mrt-kernels\.[0-9a-f]{16}\.wasm$/.test(p))).toBe(true);
        expect(lean.some((p) => /^\/mrt\/assets\/decoder-lean\.[0-9a-f]{16}\.bin$/.test(p))).toBe(true);
        expect(lean.filter((p) => /ort|\.onnx/.test(p))).toEqual([]);
        const ort = paths.filter((p) => p.startsWith('/mrt-ort/'));
        expect(ort).toContain('/mrt-ort/ort-wasm-simd-threaded.wasm');
        expect(ort).toContain('/mrt-ort/models/decoder-split.onnx');
        // (the .mrt comes in Range requests: budget="auto")
        expect(server.log.filter((l) => l.status !== (l.path === '/k.mrt' ? 206 : 200) && l.path !== '/favicon.ico')).toEqual([]);
      } finally {
        await browser.close();
        await server.close();
      }
    }, 150_000);

    it('a Vite project that imports the element from the browser package builds and paints (the copied files in its public folder)', async () => {
      // the project: index.html + main.js importing the package, the documented copy step into public/mrt/
      const proj = join(web, 'vite-app');
      await mkdir(join(proj, 'public', 'mrt'), { recursive: true });
      await ok('cp', ['-r', `${join(web, 'node_modules', clientPkg.name, 'dist')}/.`, join(proj, 'public', 'mrt')], web);
      await copyFile(join(app, 'k.mrt'), join(proj, 'public', 'k.mrt'));
      await writeFile(join(proj, 'index.html'), `<!doctype html><mrt-img src="/k.mrt" width="768" height="512" alt="k"></mrt-img><script type="module" src="/main.js"></script>`);
      await writeFile(join(proj, 'main.js'), `import { MrtImg } from '${clientPkg.name}';\nMrtImg.configure({ workerUrl: '/mrt/mrt-worker.js', ortBase: '/mrt/', modelBase: '/mrt/models/' });\n`);
      // this checkout's vite (a devDependency), resolving the package from the project's node_modules (web/)
      const vite = (await import(join(ROOT, 'node_modules/vite/dist/node/index.js'))) as { build(o: object): Promise<unknown> };
      await vite.build({ root: proj, logLevel: 'silent', configFile: false, build: { outDir: join(proj, 'dist'), emptyOutDir: true } });
      const built = await readdir(join(proj, 'dist', 'assets'));
      const bundle = built.find((f) => f.endsWith('.js'))!;
      expect(await readFile(join(proj, 'dist', 'assets', bundle), 'utf8')).toContain('mrt-img');
      const server = await startServer({ root: join(proj, 'dist') });
      const browser = await launchChromium();
      try {
        const { kinds, errors } = await paintKinds(browser, `${server.url}/index.html`);
        expect(kinds.filter((k) => k.startsWith('error'))).toEqual([]);
        expect(kinds).toContain('ml');
        expect(errors).toEqual([]);
        const paths = server.log.map((l) => l.path);
        expect(paths).toContain(`/assets/${bundle}`);
        expect(paths.some((p) => /^\/mrt\/assets\/mrt-kernels\.[0-9a-f]{16}\.wasm$/.test(p))).toBe(true);
      } finally {
        await browser.close();
        await server.close();
      }
    }, 120_000);

    it('the declarations pass a strict consumer (noUncheckedIndexedAccess, exactOptionalPropertyTypes, no skipLibCheck) and reject a wrong call', async () => {
      // the app's own hono (the package's peer) takes the package's sub-app
      const consumer = `import { Hono } from 'hono';
import { MrtImg, type MrtConfig } from '${pkg.name}/client';
import { createMrtApp } from '${pkg.name}/edge';
import { encode, decode, type EncodeOptions } from '${pkg.name}/encoder';
import { readHeader, parseMrt } from '${pkg.name}/format';
const cfg: MrtConfig = { backend: 'wasm', modelBase: '/mrt/models/' };
MrtImg.configure(cfg);
const app = new Hono().route('/media', createMrtApp({ bucket: 'PHOTOS' }));
const opts: EncodeOptions = { final: 'avif' };
const mrt = await encode('a.jpg', opts);
const { image } = await decode(mrt, { bytes: 2048 });
const { header } = readHeader(mrt);
console.log(header.width, image.width, parseMrt, app.fetch);
`;
      await writeFile(join(app, 'consumer.ts'), consumer);
      await writeFile(join(app, 'wrong.ts'), `import { MrtImg } from '${pkg.name}/client';\nMrtImg.configure({ backend: 'gpu' });\n`);
      const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
      const flags = ['--noEmit', '--strict', '--noUncheckedIndexedAccess', '--exactOptionalPropertyTypes', '--target', 'ES2022', '--lib', 'ES2022,DOM',
        '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--types', 'node', '--typeRoots', join(ROOT, 'node_modules/@types')];
      // one run (a strict check of the DOM and Node declarations takes a while): the only
      // error is the wrong call's, so the types are checked and the consumer passes
      const r = await run(process.execPath, [tsc, ...flags, 'consumer.ts', 'wrong.ts'], app);
      expect(r.stdout.trim().split('\n')).toEqual([expect.stringMatching(/^wrong\.ts\(2,\d+\): error TS2322: Type '"gpu"' is not assignable/)]);
      // the older 'node10' resolution knows no exports: typesVersions points it at the same files
      await writeFile(
        join(app, 'node10.ts'),
        `import type { MrtConfig } from '${pkg.name}/client';\nimport type { MrtAppOptions } from '${pkg.name}/edge';\n` +
          `import type { EncodeOptions } from '${pkg.name}/encoder';\nimport type { MrtHeaderInfo } from '${pkg.name}/format';\n` +
          `export type All = [MrtConfig, MrtAppOptions, EncodeOptions, MrtHeaderInfo];\n`,
      );
      const old = await run(process.execPath, [tsc, '--noEmit', '--strict', '--skipLibCheck', '--lib', 'ES2022,DOM', '--module', 'ESNext', '--moduleResolution', 'node10', 'node10.ts'], app);
      expect(old.stdout + old.stderr).toBe('');
    }, 120_000);
  });

  it('is installed from the tarball, not linked to this checkout', () => {
    expect(existsSync(join(app, 'node_modules', pkg.name, 'src'))).toBe(false);
  });
});
