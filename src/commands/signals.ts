/**
 * SIGINT/SIGTERM handling for long-running commands: the first signal asks
 * the engine to stop cleanly (it saves state, tells trackers, exits 130); a
 * second one exits at once. Data on disk is never half-written by that: only
 * verified whole pieces are ever written, each in positional writes.
 * `notify` shows the message (the live view draws it without breaking its frame).
 */
import { ExitCode } from '../core/errors.ts';

export function handleSignals(
  onFirst: () => void,
  notify: (line: string) => void = (line) => process.stderr.write(`\n${line}\n`),
): () => void {
  let received = 0;
  const handler = () => {
    received++;
    if (received === 1) {
      notify('shoal: stopping (press Ctrl-C again to quit at once)');
      onFirst();
    } else {
      process.exit(ExitCode.interrupted);
    }
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
