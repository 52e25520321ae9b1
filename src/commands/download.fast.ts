/**
 * `shoal download SOURCE [flags]` without oclif. Loading oclif, the command
 * classes and its config is ~90 ms of a download's start, and issue #18 wants
 * the first byte within 0.2 s of launch (docs/PERFORMANCE.md, "First byte").
 * It takes only command lines whose meaning under oclif's parser is plain
 * (the fast paths' shared tokenizer, fast-tokenizer.ts): each flag once (the
 * multiple ones aside), values as their own word or after `=`, values that
 * parse, one source that is not `-`, and no environment variable that oclif
 * would read for a flag. Anything else goes
 * to oclif unchanged, so --help, typos, repeated or exclusive flags, bad
 * values and every error oclif's parser reports behave exactly as before.
 * The flags it hands on are the object oclif would build (defaults included),
 * and the work is download.run.ts, the same code the full command runs.
 * test/commands/download-fast-parse.test.ts holds this table to download.ts's.
 */
import { tokenizePlainLine, type FastFlagValues, type FastKind } from './fast-tokenizer.ts';
import { parseDuration, parseRatio, parseSize } from './flag-values.ts';

/**
 * download's flags (download.ts) that the fast path takes. Rare ones
 * (--seed-until, --follow, --on-done*, --tui, --dht-bootstrap, --dht-port)
 * are left to oclif: several are exclusive with others, which oclif checks.
 */
export const FAST_FLAGS: Record<string, FastKind> = {
  out: { type: 'string' },
  select: { type: 'string' },
  exclude: { type: 'multiple' },
  'seed-time': { type: 'custom', parse: (text) => parseDuration(text) },
  'seed-ratio': { type: 'custom', parse: (text) => parseRatio(text, '--seed-ratio') },
  tracker: { type: 'multiple' },
  peer: { type: 'multiple' },
  dht: { type: 'negatable' },
  lsd: { type: 'negatable' },
  transport: { type: 'string', options: ['tcp', 'utp', 'both'] },
  encryption: { type: 'string', options: ['prefer', 'require', 'off'] },
  'web-seed': { type: 'multiple' },
  'web-seeds': { type: 'negatable' },
  'save-torrent': { type: 'string' },
  force: { type: 'boolean' },
  receipt: { type: 'string' },
  expect: { type: 'string' },
  'expect-file': { type: 'multiple' },
  'progress-interval': { type: 'custom', parse: (text) => parseDuration(text) },
  port: { type: 'integer', min: 0, max: 65535 },
  'max-peers': { type: 'integer', min: 1, max: 2000 },
  'download-limit': { type: 'custom', parse: (text) => parseSize(text) },
  'upload-limit': { type: 'custom', parse: (text) => parseSize(text) },
  timeout: { type: 'custom', parse: (text) => parseDuration(text) },
  verify: { type: 'boolean' },
  threads: { type: 'integer', min: 1, max: 256 },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
  verbose: { type: 'boolean' },
  events: { type: 'boolean' },
};

export const FAST_SHORT: Record<string, string> = {
  '-o': 'out',
  '-f': 'force',
  '-q': 'quiet',
  '-v': 'verbose',
};

/** The values oclif gives download's flags that have defaults, when they are not on the line. */
export const FAST_DEFAULTS: Readonly<Record<string, string | number | boolean>> = {
  out: '.',
  dht: true,
  lsd: true,
  transport: 'both',
  encryption: 'prefer',
  'web-seeds': true,
  'follow-interval': 5 * 60_000,
  'on-done-timeout': 5 * 60_000,
  port: 0,
  'max-peers': 50,
};

/** Environment variables oclif reads for download's flags: any of them set, oclif decides. */
export const FAST_ENV = [
  'SHOAL_OUT',
  'SHOAL_TRANSPORT',
  'SHOAL_ENCRYPTION',
  'SHOAL_PORT',
  'SHOAL_MAX_PEERS',
  'SHOAL_DOWNLOAD_LIMIT',
  'SHOAL_UPLOAD_LIMIT',
  'SHOAL_THREADS',
];

export interface ParsedDownload {
  source: string;
  flags: FastFlagValues;
}

/**
 * The source and flags of a plain `download` command line, as oclif would
 * parse them, or null when the line needs oclif.
 */
export function parsePlainDownload(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): ParsedDownload | null {
  // SHOAL_DEBUG makes oclif print process warnings with their stacks: leave that to it.
  if (argv[0] !== 'download' || env.SHOAL_DEBUG !== undefined) return null;
  if (FAST_ENV.some((name) => env[name] !== undefined)) return null;
  const line = tokenizePlainLine(argv.slice(1), { flags: FAST_FLAGS, short: FAST_SHORT });
  if (line === null) return null;
  return { source: line.positional, flags: { ...FAST_DEFAULTS, ...line.values } };
}

/** The run of a plain download, or null when `argv` needs the full command. */
export function plainDownload(argv: readonly string[]): (() => Promise<void>) | null {
  const parsed = parsePlainDownload(argv);
  if (!parsed) return null;
  return async () => {
    // oclif drops this before a command runs (so that a hook's shoal is not told it was redirected).
    delete process.env.SHOAL_REDIRECTED;
    const { download } = await import('./download.run.ts');
    // What oclif's this.log does: one line on process.stdout (the CLI flushes it at exit, and
    // ignores EPIPE there as oclif does: src/cli.ts, useStdoutStream).
    await download({ source: parsed.source }, parsed.flags as never, {
      stdout: (line) => void process.stdout.write(`${line}\n`),
    });
  };
}
