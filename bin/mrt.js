#!/usr/bin/env node
// The CLI is TypeScript run through tsx, so the package ships one source of truth.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/encoder/cli.ts');
process.exitCode = await main(process.argv.slice(2));
