/**
 * `shoal create PATH [flags]` without oclif. Loading oclif and the command
 * classes takes ~0.1 s, as long as hashing a 2 000-file tree
 * (docs/PERFORMANCE.md). This parser takes only command lines whose meaning
 * under oclif's parser is plain: each flag once (the multiple ones aside),
 * values as their own word or after `=`, the path once. Anything else goes to
 * oclif unchanged, so --help, typos, conflicting or repeated flags, values
 * that look like flags, and every error oclif's parser reports behave exactly
 * as before. The work is create.run.ts, the same code the full command runs.
 */
import { processOutput } from './command-output.ts';
import type { CreateFlags } from './create.run.ts';

type Kind = 'boolean' | 'string' | 'multiple' | 'threads';

/** create's flags (create.ts) by name, with how each takes a value. */
const FLAGS: Record<string, Kind> = {
  out: 'string',
  announce: 'multiple',
  'piece-length': 'string',
  v1: 'boolean',
  v2: 'boolean',
  hybrid: 'boolean',
  private: 'boolean',
  comment: 'string',
  source: 'string',
  'web-seed': 'multiple',
  'no-date': 'boolean',
  exclude: 'multiple',
  'include-hidden': 'boolean',
  threads: 'threads',
  magnet: 'boolean',
  force: 'boolean',
  json: 'boolean',
  quiet: 'boolean',
  verbose: 'boolean',
  events: 'boolean',
};

const SHORT: Record<string, string> = {
  '-o': 'out',
  '-a': 'announce',
  '-f': 'force',
  '-q': 'quiet',
  '-v': 'verbose',
};

function own<T>(table: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

export interface ParsedCreate {
  path: string;
  flags: CreateFlags;
}

/**
 * The path and flags of a plain `create` command line, as oclif would parse
 * them, or null when the line needs oclif.
 */
export function parsePlainCreate(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): ParsedCreate | null {
  // oclif reads --threads from SHOAL_THREADS when the flag is absent, and validates it.
  if (argv[0] !== 'create' || env.SHOAL_THREADS !== undefined) return null;
  const values: Record<string, string | string[] | boolean> = {};
  let path: string | null = null;
  // oclif gives every word that is not a flag to the last multiple flag that took a value,
  // even after other flags (`-a URL --force DIR` makes DIR a tracker): leave that to oclif.
  let afterMultiple = false;
  for (let i = 1; i < argv.length; i++) {
    const word = argv[i]!;
    if (!word.startsWith('-') || word === '-') {
      if (path !== null || afterMultiple || word === '' || word === '-') return null;
      path = word;
      continue;
    }
    const equals = word.startsWith('--') ? word.indexOf('=') : -1;
    const name =
      equals > 0 ? word.slice(2, equals) : word.startsWith('--') ? word.slice(2) : own(SHORT, word);
    // Own keys only: `--constructor` is no flag of ours.
    const kind = name === undefined ? undefined : own(FLAGS, name);
    if (name === undefined || kind === undefined) return null;
    if (kind === 'boolean') {
      if (equals > 0 || name in values) return null;
      values[name] = true;
      continue;
    }
    const value = equals > 0 ? word.slice(equals + 1) : argv[++i];
    // A value that is empty or starts with '-' (but `-o -`) means what oclif decides.
    if (value === undefined || value === '' || (value.startsWith('-') && value !== '-'))
      return null;
    if (value === '-' && name !== 'out') return null;
    if (kind === 'multiple') {
      const list = (values[name] ??= []) as string[];
      list.push(value);
      afterMultiple = true;
      continue;
    }
    if (name in values) return null;
    if (kind === 'threads' && !/^[1-9]\d{0,2}$/.test(value)) return null;
    values[name] = value;
    afterMultiple = false;
  }
  if (path === null) return null;
  // oclif refuses more than one of these (exclusive); its message is the one to give.
  if (['v1', 'v2', 'hybrid'].filter((version) => values[version]).length > 1) return null;
  const threads = values.threads === undefined ? undefined : Number(values.threads);
  if (threads !== undefined && threads > 256) return null;
  const flags = {
    ...values,
    'piece-length': values['piece-length'] ?? 'auto',
    threads,
  } as CreateFlags;
  if (threads === undefined) delete flags.threads;
  return { path, flags };
}

/**
 * The run of a plain create, or null when `argv` needs the full command.
 * `write` puts text on stdout; `streamsStdout` is called when the command will
 * write through process.stdout too (the torrent itself, or the event stream),
 * which the caller must then flush before it exits.
 */
export function plainCreate(
  argv: readonly string[],
  write: (text: string) => void,
  streamsStdout: () => void,
): (() => Promise<void>) | null {
  const parsed = parsePlainCreate(argv);
  if (!parsed) return null;
  return async () => {
    if (parsed.flags.out === '-' || parsed.flags.events) streamsStdout();
    const { create } = await import('./create.run.ts');
    await create(
      { path: parsed.path },
      parsed.flags,
      processOutput((line) => write(`${line}\n`)),
    );
  };
}
