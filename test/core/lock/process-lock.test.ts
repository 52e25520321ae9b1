import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DiskError, UsageError } from '../../../src/core/errors.ts';
import {
  acquireLock,
  currentOwner,
  decodeOwner,
  encodeOwner,
  lockOwner,
  startTicksOf,
} from '../../../src/core/lock/process-lock.ts';

const dirs: string[] = [];
function dir(): string {
  const made = mkdtempSync(join(tmpdir(), 'shoal-lock-'));
  dirs.push(made);
  return made;
}
afterEach(() => {
  for (const made of dirs.splice(0)) rmSync(made, { recursive: true, force: true });
});

/** The PID of a process that has exited (and its start time while it ran). */
function deadProcess(): { pid: number } {
  const child = spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' });
  return { pid: Number(child.stdout.trim()) };
}

describe('process lock', () => {
  it('records this process and refuses a second holder while it lives', async () => {
    const path = join(dir(), 'x.lock');
    const held = await acquireLock(path, 'the download of x');
    const owner = await lockOwner(path);
    expect(owner).toEqual(currentOwner());
    expect(owner?.startTicks).toBe(startTicksOf(process.pid));
    const second = acquireLock(path, 'the download of x');
    await expect(second).rejects.toBeInstanceOf(UsageError);
    await expect(second).rejects.toThrow(
      new RegExp(
        `the download of x is in use by another shoal \\(process ${process.pid}\\).*delete ${path}`,
      ),
    );
    await held.release();
    expect(existsSync(path)).toBe(false);
    // Free again.
    await (await acquireLock(path, 'x')).release();
  });

  it('takes over the lock of a process that is gone', async () => {
    const path = join(dir(), 'x.lock');
    const { pid } = deadProcess();
    writeFileSync(path, encodeOwner({ ...currentOwner(), pid, startTicks: 12345 }));
    const held = await acquireLock(path, 'x');
    expect((await lockOwner(path))?.pid).toBe(process.pid);
    await held.release();
  });

  it('takes over when the PID is alive but is another process (a container restart reused it)', async () => {
    const path = join(dir(), 'x.lock');
    const self = currentOwner();
    expect(self.startTicks).not.toBeNull(); // Linux: /proc is there
    writeFileSync(path, encodeOwner({ ...self, startTicks: (self.startTicks ?? 0) + 1 }));
    const held = await acquireLock(path, 'x');
    expect(await lockOwner(path)).toEqual(self);
    await held.release();
  });

  it('takes over a lock from an earlier boot, and a torn or foreign file', async () => {
    for (const content of [
      encodeOwner({ ...currentOwner(), bootId: 'another-boot' }),
      '{"pid": 12',
      '',
      'not json at all',
    ]) {
      const path = join(dir(), 'x.lock');
      writeFileSync(path, content);
      const held = await acquireLock(path, 'x');
      expect((await lockOwner(path))?.pid).toBe(process.pid);
      await held.release();
    }
  });

  it("treats another host's lock as held and names that host", async () => {
    const path = join(dir(), 'x.lock');
    writeFileSync(path, encodeOwner({ ...currentOwner(), host: 'builder-7', pid: 4242 }));
    await expect(acquireLock(path, 'x')).rejects.toThrow(/process 4242 on builder-7/);
    expect(decodeOwner(readFileSync(path, 'utf8'))?.host).toBe('builder-7');
  });

  it('never removes a lock that is no longer its own', async () => {
    const path = join(dir(), 'x.lock');
    const held = await acquireLock(path, 'x');
    const other = encodeOwner({ ...currentOwner(), host: 'elsewhere' });
    writeFileSync(path, other); // someone took it over after ours went stale
    await held.release();
    expect(readFileSync(path, 'utf8')).toBe(other);
  });

  it('refuses a symlink planted at the lock path (exit 5), leaving its target alone', async () => {
    const base = dir();
    const target = join(base, 'victim');
    writeFileSync(target, 'precious');
    symlinkSync(target, join(base, 'x.lock'));
    const attempt = acquireLock(join(base, 'x.lock'), 'x');
    await expect(attempt).rejects.toBeInstanceOf(DiskError);
    expect(readFileSync(target, 'utf8')).toBe('precious');
  });

  it('lets exactly one of several processes racing for a stale lock win', async () => {
    const path = join(dir(), 'x.lock');
    const { pid } = deadProcess();
    writeFileSync(path, encodeOwner({ ...currentOwner(), pid }));
    const node = resolve('node_modules/.bin/node');
    const module = resolve('src/core/lock/process-lock.ts');
    // Each contender holds the lock (if it gets it) for a moment, so all overlap.
    const script = `
      const { acquireLock } = await import(${JSON.stringify(module)});
      try {
        await acquireLock(${JSON.stringify(path)}, 'x');
        console.log('won');
        await new Promise((r) => setTimeout(r, 1500));
      } catch (error) {
        console.log(error.name);
      }`;
    const results = await Promise.all(
      Array.from(
        { length: 6 },
        () =>
          new Promise<string>((done, fail) => {
            const child = spawn(node, ['--input-type=module', '-e', script], {
              stdio: ['ignore', 'pipe', 'inherit'],
            });
            let out = '';
            child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
            const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
            child.on('error', fail);
            child.on('exit', () => {
              clearTimeout(timer);
              done(out.trim());
            });
          }),
      ),
    );
    expect(results.filter((result) => result === 'won')).toHaveLength(1);
    expect(results.filter((result) => result === 'UsageError')).toHaveLength(5);
  }, 60_000);
});
