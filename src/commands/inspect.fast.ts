/**
 * `shoal inspect SOURCE [--json] [--files]` without oclif. Loading oclif and
 * the command classes costs more than the whole rest of a small inspect
 * (docs/PERFORMANCE.md), and this is the command scripts run most often. The
 * fast path takes only these exact argument shapes; anything else (other
 * flags, `-` for stdin, a repeated flag, SHOAL_THREADS in the environment,
 * which oclif validates for every inspect) goes through oclif unchanged.
 * The printing is inspect.show.ts, the same code the full command runs.
 */
/**
 * The run of a plain inspect, or null when `argv` needs the full command.
 * `write` puts text on stdout.
 */
export function plainInspect(
  argv: readonly string[],
  write: (text: string) => void,
): (() => Promise<void>) | null {
  if (argv[0] !== 'inspect' || process.env.SHOAL_THREADS !== undefined) return null;
  let source: string | null = null;
  let json = false;
  let files = false;
  for (const arg of argv.slice(1)) {
    if (arg === '--json' && !json) json = true;
    else if (arg === '--files' && !files) files = true;
    else if (source === null && arg !== '' && !arg.startsWith('-')) source = arg;
    else return null;
  }
  if (source === null) return null;
  const text = source;
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
