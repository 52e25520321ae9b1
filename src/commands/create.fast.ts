/**
 * `shoal create PATH [flags]` without oclif. Loading oclif and the command
 * classes takes ~0.1 s, as long as hashing a 2 000-file tree
 * (docs/PERFORMANCE.md). It takes only command lines whose meaning under
 * oclif's parser is plain (the fast paths' shared tokenizer,
 * fast-tokenizer.ts): each flag once (the multiple ones aside), values as
 * their own word or after `=`, the path once. Anything else goes to
 * oclif unchanged, so --help, typos, conflicting or repeated flags, values
 * that look like flags, and every error oclif's parser reports behave exactly
 * as before. The work is create.run.ts, the same code the full command runs.
 * test/commands/create-fast-parse.test.ts holds this table to create.ts's.
 */
import { processOutput } from './command-output.ts';
import type { CreateFlags } from './create.run.ts';
import { tokenizePlainLine, type FastKind } from './fast-tokenizer.ts';

/** create's flags (create.ts) by name, with how each takes a value. */
export const CREATE_FAST_FLAGS: Record<string, FastKind> = {
  // `-o -` writes the torrent on stdout.
  out: { type: 'string', dash: true },
  announce: { type: 'multiple' },
  'piece-length': { type: 'string' },
  v1: { type: 'boolean' },
  v2: { type: 'boolean' },
  hybrid: { type: 'boolean' },
  private: { type: 'boolean' },
  comment: { type: 'string' },
  source: { type: 'string' },
  'web-seed': { type: 'multiple' },
  'no-date': { type: 'boolean' },
  exclude: { type: 'multiple' },
  'include-hidden': { type: 'boolean' },
  threads: { type: 'integer', min: 1, max: 256 },
  magnet: { type: 'boolean' },
  force: { type: 'boolean' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
  verbose: { type: 'boolean' },
  events: { type: 'boolean' },
};

export const CREATE_FAST_SHORT: Record<string, string> = {
  '-o': 'out',
  '-a': 'announce',
  '-f': 'force',
  '-q': 'quiet',
  '-v': 'verbose',
};

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
  const line = tokenizePlainLine(argv.slice(1), {
    flags: CREATE_FAST_FLAGS,
    short: CREATE_FAST_SHORT,
  });
  if (line === null) return null;
  const { values } = line;
  // oclif refuses more than one of these (exclusive); its message is the one to give.
  if (['v1', 'v2', 'hybrid'].filter((version) => values[version]).length > 1) return null;
  const flags = { ...values, 'piece-length': values['piece-length'] ?? 'auto' } as CreateFlags;
  return { path: line.positional, flags };
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
