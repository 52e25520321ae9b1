/**
 * Decides how progress is shown: live redrawing views only when stderr is a
 * terminal that can take them (not TERM=dumb, not NO_COLOR, not CI); plain
 * periodic lines for CI logs and pipes; nothing with --quiet (or --json, whose
 * users asked for one document and no chatter).
 */
export type OutputMode = 'tty' | 'plain' | 'quiet';

export interface OutputFlags {
  quiet?: boolean;
  json?: boolean;
}

export function decideOutputMode(
  flags: OutputFlags,
  env: NodeJS.ProcessEnv = process.env,
  stderr: { isTTY?: boolean } = process.stderr,
): OutputMode {
  if (flags.quiet || flags.json) return 'quiet';
  const canRedraw = stderr.isTTY === true && !env.NO_COLOR && env.TERM !== 'dumb' && !env.CI;
  return canRedraw ? 'tty' : 'plain';
}

/** Milliseconds between plain progress lines: SHOAL_PROGRESS_INTERVAL seconds, default 5. */
export function progressIntervalMs(env: NodeJS.ProcessEnv = process.env): number {
  const fromEnv = Number(env.SHOAL_PROGRESS_INTERVAL);
  return Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv * 1000 : 5000;
}
