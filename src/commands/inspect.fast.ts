/**
 * `shoal inspect SOURCE [--json] [--files]` without oclif. Loading oclif and
 * the command classes costs more than the whole rest of a small inspect
 * (docs/PERFORMANCE.md), and this is the command scripts run most often. The
 * fast path takes only these flags, each once, read by the tokenizer the fast
 * paths share (fast-tokenizer.ts); anything else (other flags, `-` for stdin,
 * a repeated flag, SHOAL_THREADS in the environment, which oclif validates for
 * every inspect) goes through oclif unchanged. The printing is
 * inspect.show.ts, the same code the full command runs.
 * test/commands/inspect-fast-parse.test.ts holds it to oclif's parser.
 */
import { tokenizePlainLine, type FastTable } from './fast-tokenizer.ts';

/** The flags that only choose what a plain inspect prints. */
const INSPECT_FAST: FastTable = {
  flags: { json: { type: 'boolean' }, files: { type: 'boolean' } },
  short: {},
};

export interface ParsedInspect {
  source: string;
  json: boolean;
  files: boolean;
}

/** The source and flags of a plain `inspect` command line, or null when the line needs oclif. */
export function parsePlainInspect(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): ParsedInspect | null {
  if (argv[0] !== 'inspect' || env.SHOAL_THREADS !== undefined) return null;
  const line = tokenizePlainLine(argv.slice(1), INSPECT_FAST);
  if (line === null) return null;
  const { json = false, files = false } = line.values as { json?: boolean; files?: boolean };
  return { source: line.positional, json, files };
}

/**
 * The run of a plain inspect, or null when `argv` needs the full command.
 * `write` puts text on stdout.
 */
export function plainInspect(
  argv: readonly string[],
  write: (text: string) => void,
): (() => Promise<void>) | null {
  const parsed = parsePlainInspect(argv);
  if (parsed === null) return null;
  const { source: text, json, files } = parsed;
  return async () => {
    const [{ loadSource }, { printMagnet, printSummary }] = await Promise.all([
      import('../core/source/load-source.ts'),
      import('./inspect.show.ts'),
    ]);
    const loaded = await loadSource(text);
    if (loaded.kind === 'magnet') {
      const output = { stdout: (line: string) => write(`${line}\n`), stderr: () => {} };
      printMagnet(loaded.magnet, json, output);
    } else printSummary(loaded.meta, null, { json, files }, write);
  };
}
