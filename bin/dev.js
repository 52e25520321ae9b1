#!/usr/bin/env node
// Launcher for the TypeScript source, run by Node 24's type stripping (no build step).
import { runCli } from '../src/cli.ts';

await runCli(process.argv.slice(2));
