/**
 * Decides how progress is shown: live redrawing bars only when stderr is a
 * terminal that can take them; plain periodic lines for CI logs and pipes;
 * nothing with --quiet (or --json, whose stdout must stay one document and
 * whose users asked for no chatter).
 */
export type OutputMode = 'tty' | 'plain' | 'quiet';

export interface OutputFlags {
  quiet?: boolean;
  json?: boolean;
}

export function decideOutputMode(
  flags: OutputFlags,
  env = process.env,
  stderr = process.stderr,
): OutputMode {
  if (flags.quiet) return 'quiet';
  const canRedraw = stderr.isTTY && !env.NO_COLOR && env.TERM !== 'dumb' && !env.CI;
  return canRedraw ? 'tty' : 'plain';
}
