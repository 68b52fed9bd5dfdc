#!/usr/bin/env node
// npm run dev:edge [-- extra wrangler args]
// wrangler dev on 127.0.0.1:$PORT (default 8787) with local R2 persisted to
// .wrangler/state (the same place `npm run seed:edge` writes to; override both with
// MRT_PERSIST). Uploads (PUT/DELETE) are enabled when MRT_UPLOAD_TOKEN is set in the
// environment or in .dev.vars.
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Workers Static Assets refuse files over 25 MiB; the worker serves those from R2. */
export const MAX_ASSET_BYTES = 25 * 1024 * 1024;

/**
 * Make dist/client usable by wrangler: create it when the client is not built yet (wrangler
 * refuses a missing [assets] directory) and list files over 25 MiB in its .assetsignore
 * (e.g. onnxruntime-web's asyncify .wasm); `npm run seed:edge` puts those into R2 under
 * `_assets/` and the worker serves them from there. Returns the oversized paths.
 */
export function prepareAssets(dir = join(root, 'dist/client')) {
  mkdirSync(dir, { recursive: true });
  const big = [];
  const walk = (d, rel) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(p, r);
      else if (statSync(p).size > MAX_ASSET_BYTES) big.push(r);
    }
  };
  walk(dir, '');
  const ignore = join(dir, '.assetsignore');
  let lines = [];
  try {
    lines = readFileSync(ignore, 'utf8').split('\n').filter(Boolean);
  } catch {
    /* none yet */
  }
  const missing = big.filter((b) => !lines.includes(`/${b}`));
  if (missing.length) writeFileSync(ignore, [...lines, ...missing.map((b) => `/${b}`)].join('\n') + '\n');
  return big;
}

const direct = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (direct && process.argv.includes('--prepare-only')) {
  const big = prepareAssets();
  if (big.length) console.log(`dist/client: served from R2 (_assets/) instead of [assets]: ${big.join(', ')}`);
  process.exit(0);
}
if (direct) run();

function run() {
const big = prepareAssets();
if (big.length) console.log(`dist/client: over 25 MiB, served from R2 _assets/ (run npm run seed:edge): ${big.join(', ')}`);

const port = process.env.PORT || '8787';
const persist = process.env.MRT_PERSIST || '.wrangler/state';
const wrangler = join(dirname(createRequire(import.meta.url).resolve('wrangler/package.json')), 'bin/wrangler.js');
const args = [wrangler, 'dev', '--ip', '127.0.0.1', '--port', port, '--local', '--persist-to', persist];
if (process.env.MRT_UPLOAD_TOKEN) args.push('--var', `MRT_UPLOAD_TOKEN:${process.env.MRT_UPLOAD_TOKEN}`);
args.push(...process.argv.slice(2));

const child = spawn(process.execPath, args, {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
