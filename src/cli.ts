/**
 * The one entry point both launchers share (bin/run.js for the compiled build,
 * bin/dev.js for the TypeScript source). It boots oclif with an inline
 * package.json so no file-system discovery is needed (that is also what lets
 * the single-executable build run), and turns every failure into one line on
 * stderr plus the exit code from the CLI contract.
 */
import { run, settings, Errors } from '@oclif/core';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExitCode, ShoalError } from './core/errors.ts';
import packageJson from '../package.json' with { type: 'json' };

export interface CliOptions {
  /** Directory holding package.json (the project root, or a temp dir inside the executable). */
  root?: string;
  /** Module oclif loads the command map from, relative to root. */
  commandsTarget?: string;
}

const sourceMode = import.meta.url.endsWith('.ts');

export async function runCli(argv: string[], options: CliOptions = {}): Promise<never> {
  const here = dirname(fileURLToPath(import.meta.url));
  const root = options.root ?? resolve(here, '..');
  const target =
    options.commandsTarget ??
    (sourceMode ? './src/commands/index.ts' : './build/commands/index.js');
  // We never want oclif to look for ts-node: Node 24 runs the TypeScript source itself.
  settings.enableAutoTranspile = false;
  const pjson = {
    ...packageJson,
    oclif: {
      ...packageJson.oclif,
      commands: { strategy: 'explicit' as const, target, identifier: 'commands' },
    },
  };
  let code: number = ExitCode.ok;
  try {
    await run(argv, { root, pjson: pjson as never });
  } catch (error) {
    code = reportError(error, argv);
  }
  await flushStdout();
  process.exit(code);
}

/** Prints one line for an error and returns the exit code it maps to. */
function reportError(error: unknown, argv: string[]): number {
  const verbose = argv.includes('--verbose') || Boolean(process.env.DEBUG);
  const exitCode = (error as { oclif?: { exit?: number } })?.oclif?.exit;
  if (error instanceof Errors.ExitError) return error.oclif.exit ?? ExitCode.ok;
  if (error instanceof ShoalError) {
    writeError(error.message);
    if (verbose && error.cause instanceof Error) process.stderr.write(`${error.cause.stack}\n`);
    return error.exitCode;
  }
  if (exitCode !== undefined && error instanceof Error) {
    // oclif's own parse errors (unknown flag, missing argument, bad option): bad usage.
    // Their messages span lines (the flag, then what was expected): keep all of it, on one line.
    writeError(`${error.message} (see shoal --help)`);
    return exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  }
  const message = error instanceof Error ? error.message : String(error);
  writeError(`internal error: ${message} (this is a bug; rerun with --verbose for details)`);
  if (verbose && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  return ExitCode.internal;
}

function writeError(message: string): void {
  const oneLine = message
    // oclif decorates its messages with hints that do not fit on one line.
    .replace(/\s*Note: --[\s\S]*?beginning of arguments\./, '')
    .replace(/\s*See more help with --help/g, '')
    .replace(/\s+/g, ' ')
    .trim()
    // oclif prefixes a flag's parse error with "Parsing --flag": keep the flag once, as a label.
    .replace(/^Parsing (--[\w-]+) (?=invalid \1\b)/, '')
    .replace(/^Parsing (--[\w-]+) /, '$1: ');
  process.stderr.write(`shoal: error: ${oneLine}\n`);
}

function flushStdout(): Promise<void> {
  return new Promise((done) => {
    if (process.stdout.writableLength === 0) done();
    else process.stdout.write('', () => done());
  });
}
