/**
 * The one entry point both launchers share (bin/run.js for the compiled build,
 * bin/dev.js for the TypeScript source). It boots oclif with an inline
 * package.json so no file-system discovery is needed (that is also what lets
 * the single-executable build run), and turns every failure into one line on
 * stderr plus the exit code from the CLI contract.
 *
 * oclif itself loads only when it is needed: `--version`, a plain
 * `inspect` (commands/inspect.fast.ts), a plain `create`
 * (commands/create.fast.ts) and a plain `download` (commands/download.fast.ts)
 * run without it, because loading oclif and the command classes is most of a
 * short command's start-up and of a download's time to its first byte
 * (docs/PERFORMANCE.md).
 */
import { arch, platform, release } from 'node:os';
import { existsSync, readFileSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { plainCreate } from './commands/create.fast.ts';
import { plainDownload } from './commands/download.fast.ts';
import { plainInspect } from './commands/inspect.fast.ts';
import { ExitCode, ShoalError } from './core/errors.ts';
import packageJson from '../package.json' with { type: 'json' };

type Oclif = typeof import('@oclif/core');

export interface CliOptions {
  /** Directory holding package.json (the project root, or a temp dir inside the executable). */
  root?: string;
  /** Module oclif loads the command map from, relative to root. */
  commandsTarget?: string;
  /** Runs just before oclif loads (the executable publishes its command map here). */
  beforeOclif?: () => Promise<void>;
}

/** oclif, once loaded: reportError needs its error classes. */
let oclif: Oclif | null = null;

const sourceMode = import.meta.url.endsWith('.ts');

export async function runCli(argv: string[], options: CliOptions = {}): Promise<never> {
  return finish(argv, fastPath(argv) ?? (() => runOclif(argv, options)));
}

/**
 * Runs `argv` when it has a fast path that needs no engine (and exits);
 * returns otherwise. The executable's front bundle calls this before it loads
 * the full CLI, whose runCli takes a plain download's fast path: the front
 * bundle holds no engine (scripts/build-sea.ts).
 */
export async function runFastPath(argv: string[]): Promise<void> {
  const fast = fastPath(argv, { engine: false });
  if (fast) await finish(argv, fast);
}

/**
 * Runs `argv` when it is a plain download (and exits); returns otherwise. The
 * executable's download bundle calls this: it holds the engine and this
 * file, but not oclif (scripts/build-sea.ts).
 */
export async function runPlainDownload(argv: string[]): Promise<void> {
  const download = plainDownload(argv);
  if (!download) return;
  useStdoutStream();
  await finish(argv, download);
}

/** Runs the command, reports what it threw as one line, flushes stdout and exits. */
async function finish(argv: string[], command: () => Promise<void>): Promise<never> {
  let code: number = ExitCode.ok;
  try {
    await command();
  } catch (error) {
    code = reportError(error, argv);
  }
  await flushStdout();
  process.exit(code);
}

/** A command that runs without oclif, or null; `engine: false` leaves out those that need the engine. */
function fastPath(argv: string[], { engine = true } = {}): (() => Promise<void>) | null {
  if (argv.length === 1 && argv[0] === '--version' && !maybeWsl()) {
    return async () => {
      // oclif's user agent, byte for byte (it names ia32 x86, and WSL 'wsl', left to oclif).
      const cpu = arch() === 'ia32' ? 'x86' : arch();
      writeStdout(
        `${packageJson.name}/${packageJson.version} ${platform()}-${cpu} node-${process.version}\n`,
      );
    };
  }
  const download = engine ? plainDownload(argv) : null;
  if (download) useStdoutStream();
  return (
    download ?? plainInspect(argv, writeStdout) ?? plainCreate(argv, writeStdout, useStdoutStream)
  );
}

/** True once process.stdout exists and may hold unwritten output (see flushStdout). */
let stdoutStream = false;

/**
 * The command writes through process.stdout (not only writeStdout). As oclif
 * does for every command: a reader that went away (`| head`) ends the output
 * quietly, instead of an unhandled EPIPE ending the process with a stack trace.
 */
function useStdoutStream(): void {
  if (stdoutStream) return;
  stdoutStream = true;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
}

/**
 * Writes to stdout synchronously with fs.writeSync: creating process.stdout
 * costs 2-4 ms (a pipe loads node:net), a tenth of a fast command. A
 * non-blocking stdout that is full (EAGAIN) gets the rest through
 * process.stdout; a reader that went away (EPIPE, `| head`) gets nothing more.
 */
function writeStdout(text: string): void {
  const bytes = Buffer.from(text);
  let done = 0;
  try {
    while (done < bytes.length) done += writeSync(1, bytes, done);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EPIPE') return;
    if (code !== 'EAGAIN') throw error;
    useStdoutStream();
    process.stdout.write(bytes.subarray(done));
  }
}

/**
 * Any sign of Windows Subsystem for Linux, where oclif reports the platform
 * as `wsl` (its is-wsl check, made generous: a false alarm only means oclif answers).
 */
function maybeWsl(): boolean {
  if (process.platform !== 'linux') return false;
  if (release().toLowerCase().includes('microsoft')) return true;
  try {
    if (readFileSync('/proc/version', 'utf8').toLowerCase().includes('microsoft')) return true;
  } catch {
    // no /proc: not WSL
  }
  return existsSync('/proc/sys/fs/binfmt_misc/WSLInterop') || existsSync('/run/WSL');
}

async function runOclif(argv: string[], options: CliOptions): Promise<void> {
  stdoutStream = true;
  await options.beforeOclif?.();
  oclif = await import('@oclif/core');
  const here = dirname(fileURLToPath(import.meta.url));
  const root = options.root ?? resolve(here, '..');
  const target =
    options.commandsTarget ??
    (sourceMode ? './src/commands/index.ts' : './build/commands/index.js');
  // We never want oclif to look for ts-node: Node 24 runs the TypeScript source itself.
  oclif.settings.enableAutoTranspile = false;
  const pjson = {
    ...packageJson,
    oclif: {
      ...packageJson.oclif,
      commands: { strategy: 'explicit' as const, target, identifier: 'commands' },
    },
  };
  await oclif.run(argv, { root, pjson: pjson as never });
}

/** Prints one line for an error and returns the exit code it maps to. */
function reportError(error: unknown, argv: string[]): number {
  const verbose = argv.includes('--verbose') || Boolean(process.env.DEBUG);
  const exitCode = (error as { oclif?: { exit?: number } })?.oclif?.exit;
  if (oclif && error instanceof oclif.Errors.ExitError) return error.oclif.exit ?? ExitCode.ok;
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
    if (!stdoutStream || process.stdout.writableLength === 0) done();
    else process.stdout.write('', () => done());
  });
}
