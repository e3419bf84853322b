#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx (no build step).
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../src/cli/index.ts');
const code = await runCli(process.argv.slice(2));
if (code >= 0) process.exit(code);
