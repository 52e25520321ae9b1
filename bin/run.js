#!/usr/bin/env node
// Launcher for the compiled build (npm run compile writes build/).
import { runCli } from '../build/cli.js';

await runCli(process.argv.slice(2));
