/**
 * What runs once a download or seed has ended, success or failure: the CI
 * outputs (ci-outputs.ts), then the completion hook (hook.ts). Returns the
 * error the command must end with instead of its own result, if any: a CI
 * file that cannot be written, or a failed hook the user marked required.
 * A failure already on its way out (exit 4, 6, 130...) is never replaced.
 */
import { ShoalError } from '../errors.ts';
import { writeCiOutputs, type NumberFormat } from './ci-outputs.ts';
import { runHook, type Hook } from './hook.ts';
import { HookError } from './hook-error.ts';
import { hookEnvironment } from './hook-env.ts';
import type { RunOutcome } from './outcome.ts';

export interface AfterRunOptions {
  command: 'download' | 'seed';
  hook: Hook | null;
  /** A failed hook fails the run (`--on-done-required`). */
  hookRequired: boolean;
  format: NumberFormat;
  /** One line on stderr (through the UI, so it never breaks a live frame). */
  notify(line: string): void;
}

export async function afterRun(
  outcome: RunOutcome,
  options: AfterRunOptions,
): Promise<ShoalError | null> {
  let failure: ShoalError | null = null;
  try {
    await writeCiOutputs(outcome, options.command, options.format);
  } catch (error) {
    if (!(error instanceof ShoalError)) throw error;
    failure = error;
  }
  if (options.hook) {
    const result = await runHook(options.hook, hookEnvironment(outcome), process.stderr.fd);
    if (!result.ok) {
      const line = `${options.hook.label} ${result.outcome}`;
      if (options.hookRequired)
        failure ??= new HookError(`${line} (the hook is required)`, result.status);
      else options.notify(`shoal: warning: ${line}`);
    }
  }
  return outcome.status === 0 ? failure : null;
}
