/**
 * Completion hooks (`--on-done PROGRAM`, `--on-done-shell LINE`,
 * `seed --on-seed-done`): one program run when the command ends, with the
 * result in its environment (hook-env.ts). A PROGRAM runs with no shell and no
 * arguments; a LINE runs through /bin/sh, for pipes. Its stdout and stderr go
 * to the file descriptor the caller names (shoal's stderr: stdout carries
 * shoal's own result). It runs in a process group of its own so that a hook
 * past its time limit is ended with everything it started.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

export interface Hook {
  /** How the user wrote it, for messages: `--on-done ./notify`. */
  label: string;
  /** A path or a name on PATH, run with no arguments... */
  program?: string;
  /** ...or a line for /bin/sh. */
  shellLine?: string;
  /** After this long the hook is stopped (SIGTERM, then SIGKILL) and counts as failed. */
  timeoutMs: number;
}

export interface HookResult {
  ok: boolean;
  /** The status a shell would report: the exit code, 124 timed out, 127 not started, 128+N signal N. */
  status: number;
  /** What happened, in words: `exited 0`, `exited 3`, `timed out after 2s`, `could not start: ...`. */
  outcome: string;
}

/**
 * The hook the flags ask for: `--<flag> PROGRAM` or `--<flag>-shell LINE`
 * (the command's flag definitions refuse both at once), or none.
 */
export function hookFromFlags(
  flag: string,
  program: string | undefined,
  shellLine: string | undefined,
  timeoutMs: number,
): Hook | null {
  if (program !== undefined) return { label: `--${flag} ${program}`, program, timeoutMs };
  if (shellLine !== undefined) return { label: `--${flag}-shell`, shellLine, timeoutMs };
  return null;
}

/** How long a hook has after SIGTERM before SIGKILL. */
const KILL_GRACE_MS = 2000;

export function runHook(
  hook: Hook,
  env: Record<string, string | undefined>,
  outputFd: number,
): Promise<HookResult> {
  const [file, args] =
    hook.shellLine !== undefined ? ['/bin/sh', ['-c', hook.shellLine]] : [hook.program!, []];
  return new Promise((resolve) => {
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const merged = { ...process.env, ...env };
    for (const [name, value] of Object.entries(merged))
      if (value === undefined) delete merged[name];
    const child = spawn(file, args, {
      env: merged,
      stdio: ['ignore', outputFd, outputFd],
      detached: true,
    });
    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, signal);
      } catch {
        // the group is gone already
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      signalGroup('SIGTERM');
      killTimer = setTimeout(() => signalGroup('SIGKILL'), KILL_GRACE_MS);
    }, hook.timeoutMs);
    let finished = false;
    const finish = (result: HookResult) => {
      // A child that cannot start may report both 'error' and 'exit'.
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      clearTimeout(killTimer);
      resolve(result);
    };
    child.once('error', (error) =>
      finish({ ok: false, status: 127, outcome: `could not start: ${error.message}` }),
    );
    child.once('exit', (code, signal) => {
      if (timedOut)
        finish({
          ok: false,
          status: 124,
          outcome: `timed out after ${formatSeconds(hook.timeoutMs)}`,
        });
      else if (signal)
        finish({
          ok: false,
          status: 128 + (constants.signals[signal] ?? 0),
          outcome: `killed by ${signal}`,
        });
      else finish({ ok: code === 0, status: code ?? 1, outcome: `exited ${code}` });
    });
  });
}

function formatSeconds(ms: number): string {
  return `${Math.round(ms / 100) / 10}s`;
}
