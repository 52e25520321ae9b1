/**
 * `shoal download SOURCE [flags]` without oclif. Loading oclif, the command
 * classes and its config is ~90 ms of a download's start, and issue #18 wants
 * the first byte within 0.2 s of launch (docs/PERFORMANCE.md, "First byte").
 * This parser takes only command lines whose meaning under oclif's parser is
 * plain: each flag once (the multiple ones aside), values as their own word
 * or after `=`, values that parse, one source that is not `-`, and no
 * environment variable that oclif would read for a flag. Anything else goes
 * to oclif unchanged, so --help, typos, repeated or exclusive flags, bad
 * values and every error oclif's parser reports behave exactly as before.
 * The flags it hands on are the object oclif would build (defaults included),
 * and the work is download.run.ts, the same code the full command runs.
 * test/commands/download-fast-parse.test.ts holds this table to download.ts's.
 */
import { parseDuration, parseRatio, parseSize } from './flag-values.ts';

/** How a flag takes its value, and (for oclif's checks) what values it allows. */
export type FastKind =
  | { type: 'boolean' }
  | { type: 'negatable' }
  | { type: 'string'; options?: readonly string[] }
  | { type: 'multiple' }
  | { type: 'integer'; min: number; max: number }
  | { type: 'custom'; parse: (text: string) => number };

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

function own<T>(table: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

export type FastFlagValues = Record<string, string | string[] | number | boolean>;

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
  const values: FastFlagValues = {};
  let source: string | null = null;
  // oclif gives every word that is not a flag to the last multiple flag that took a value,
  // even after other flags (`--exclude X --quiet T` makes T a glob): leave that to oclif.
  let afterMultiple = false;
  for (let i = 1; i < argv.length; i++) {
    const word = argv[i]!;
    if (!word.startsWith('-')) {
      if (source !== null || afterMultiple || word === '') return null;
      source = word;
      continue;
    }
    const equals = word.startsWith('--') ? word.indexOf('=') : -1;
    const written =
      equals > 0
        ? word.slice(2, equals)
        : word.startsWith('--')
          ? word.slice(2)
          : own(FAST_SHORT, word);
    if (written === undefined) return null;
    // `--no-dht` is the negatable flag `dht` set to false; own keys only (`--constructor`).
    const negated = written.startsWith('no-') && own(FAST_FLAGS, written) === undefined;
    const name = negated ? written.slice(3) : written;
    const kind = own(FAST_FLAGS, name);
    if (kind === undefined || (negated && kind.type !== 'negatable')) return null;
    if (kind.type === 'boolean' || kind.type === 'negatable') {
      if (equals > 0 || name in values) return null;
      values[name] = !negated;
      continue;
    }
    const value = equals > 0 ? word.slice(equals + 1) : argv[++i];
    // A value that is empty or starts with '-' means what oclif decides.
    if (value === undefined || value === '' || value.startsWith('-')) return null;
    if (kind.type === 'multiple') {
      const list = (values[name] ??= []) as string[];
      list.push(value);
      afterMultiple = true;
      continue;
    }
    if (name in values) return null;
    const parsed = parseValue(kind, value);
    if (parsed === null) return null;
    values[name] = parsed;
    afterMultiple = false;
  }
  if (source === null) return null;
  return { source, flags: { ...FAST_DEFAULTS, ...values } };
}

/** A flag's value as oclif gives it, or null where oclif would refuse it (its error is the one to give). */
function parseValue(kind: FastKind, text: string): string | number | null {
  switch (kind.type) {
    case 'string':
      return !kind.options || kind.options.includes(text) ? text : null;
    case 'integer': {
      if (!/^\d{1,6}$/.test(text)) return null;
      const value = Number(text);
      return value >= kind.min && value <= kind.max ? value : null;
    }
    case 'custom':
      try {
        return kind.parse(text);
      } catch {
        return null;
      }
    default:
      return null;
  }
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
