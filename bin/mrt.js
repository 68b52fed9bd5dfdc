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
