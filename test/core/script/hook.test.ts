/**
 * Completion hooks run as real processes: the environment they get, where
 * their output goes, the status a shell would report, and the time limit
 * (which ends the hook's whole process group).
 */
import { openSync, closeSync, readFileSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hookFromFlags, runHook } from '../../../src/core/script/hook.ts';
import { cleanupTempDirs, tempDir } from '../../helpers/files.ts';

cleanupTempDirs();

async function script(dir: string, body: string): Promise<string> {
  const file = path.join(dir, 'hook.sh');
  await writeFile(file, `#!/bin/sh\n${body}\n`);
  await chmod(file, 0o755);
  return file;
}

/** Runs a hook with its output going to a file; returns the result and that output. */
async function run(hook: Parameters<typeof runHook>[0], env: Record<string, string | undefined>) {
  const log = path.join(tempDir('shoal-hook-'), 'out.log');
  const fd = openSync(log, 'w');
  try {
    const result = await runHook(hook, env, fd);
    return { result, output: readFileSync(log, 'utf8') };
  } finally {
    closeSync(fd);
  }
}

describe('runHook', () => {
  it('runs a program with no arguments and the given environment; a variable set to undefined is removed', async () => {
    const program = await script(
      tempDir('shoal-hook-'),
      'echo "args=$# name=$SHOAL_NAME receipt=${SHOAL_RECEIPT-unset}"',
    );
    process.env.SHOAL_RECEIPT = 'stale';
    try {
      const { result, output } = await run(
        { label: 'x', program, timeoutMs: 30_000 },
        { SHOAL_NAME: 'a b', SHOAL_RECEIPT: undefined },
      );
      expect(result).toEqual({ ok: true, status: 0, outcome: 'exited 0' });
      expect(output).toBe('args=0 name=a b receipt=unset\n');
    } finally {
      delete process.env.SHOAL_RECEIPT;
    }
  });

  it('runs a shell line through /bin/sh (pipes work) and reports its exit status', async () => {
    const { result, output } = await run(
      { label: 'x', shellLine: 'echo "$SHOAL_NAME" | tr a-z A-Z; exit 3', timeoutMs: 30_000 },
      { SHOAL_NAME: 'loud' },
    );
    expect(output).toBe('LOUD\n');
    expect(result).toMatchObject({ ok: false, status: 3, outcome: 'exited 3' });
  });

  it('a program that cannot start is status 127', async () => {
    const { result } = await run(
      { label: 'x', program: '/nonexistent/hook', timeoutMs: 30_000 },
      {},
    );
    expect(result.ok).toBe(false);
    expect(result.status).toBe(127);
    expect(result.outcome).toMatch(/could not start/);
  });

  it('a hook past its time limit is ended with what it started (status 124)', async () => {
    const pidFile = path.join(tempDir('shoal-hook-'), 'child.pid');
    const { result } = await run(
      { label: 'x', shellLine: `sleep 120 & echo $! > ${pidFile}; wait`, timeoutMs: 1000 },
      {},
    );
    expect(result).toMatchObject({ ok: false, status: 124 });
    const child = Number(readFileSync(pidFile, 'utf8'));
    try {
      // The shell's child is in the hook's process group: it goes too (bounded wait).
      await until(() => !alive(child), 15_000);
    } finally {
      if (alive(child)) process.kill(child, 'SIGKILL');
    }
  });

  it('hookFromFlags picks the program or the shell line', () => {
    expect(hookFromFlags('on-done', 'notify', undefined, 5)).toEqual({
      label: '--on-done notify',
      program: 'notify',
      timeoutMs: 5,
    });
    expect(hookFromFlags('on-done', undefined, 'a | b', 5)?.label).toBe('--on-done-shell');
    expect(hookFromFlags('on-done', undefined, undefined, 5)).toBeNull();
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
