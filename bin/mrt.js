#!/usr/bin/env node
// The `mrt` command. The installed package runs its built JavaScript (lib/); a source
// checkout (src/ beside bin/, never shipped) runs the TypeScript through tsx, so a checkout
// never runs a stale build.
import { existsSync, readFileSync } from 'node:fs';

const argv = process.argv.slice(2);
if (argv[0] === '--version' || argv[0] === '-v') {
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`${version}\n`);
  process.exit(0);
}

// sharp and onnxruntime-node are optional peer dependencies: a browser- or edge-only install
// has neither, and the encoder cannot load without them.
const PEERS = ['sharp', 'onnxruntime-node'];
const missing = PEERS.filter((p) => {
  try {
    import.meta.resolve(p);
    return false;
  } catch {
    return true;
  }
});
if (missing.length) {
  process.stderr.write(
    `mrt: the encoder needs ${missing.join(' and ')} (optional peer dependencies of mrt-img), not installed here.\n` +
      `  npm install ${missing.join(' ')}${missing.includes('onnxruntime-node') ? ' --onnxruntime-node-install=skip' : ''}\n` +
      `(--onnxruntime-node-install=skip: onnxruntime-node's install script would otherwise download CUDA libraries on Linux x64.)\n`,
  );
  process.exit(1);
}

const source = new URL('../src/encoder/cli.ts', import.meta.url);
let cli;
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(source.href);
} else {
  cli = await import('../lib/encoder/cli.js');
}
process.exitCode = await cli.main(argv);
