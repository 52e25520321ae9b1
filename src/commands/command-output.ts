/**
 * Where a plain-function command action writes: results to stdout, notes to
 * stderr. The oclif command passes its own log; tests or other callers can
 * pass anything that collects lines.
 */
export interface CommandOutput {
  stdout(line: string): void;
  stderr(line: string): void;
}

/** The process's stdout (through oclif's log, which the CLI flushes) and stderr. */
export function processOutput(log: (line: string) => void): CommandOutput {
  return {
    stdout: log,
    stderr: (line) => process.stderr.write(`${line}\n`),
  };
}
