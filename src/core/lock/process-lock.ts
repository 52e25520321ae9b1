/**
 * A lock file that says "this process is using that": two shoal processes
 * downloading the same torrent into one folder would race on its resume
 * state, and two daemons on one state directory on everything.
 *
 * Why not a bare PID: after `kill -9` the file stays behind, and in a
 * container that restarts the PIDs start again from 1, so the stale PID often
 * belongs to some other live process, and a PID check would refuse forever.
 * The file therefore names its owner by PID *and* the process's start time
 * (Linux: /proc/PID/stat field 22, in clock ticks since boot) *and* the boot
 * id: an owner counts as alive only if a process with that PID exists and
 * started at that moment of that boot. Elsewhere (no /proc) liveness falls
 * back to the PID alone. A lock written on another host (a shared network
 * folder) cannot be checked and is treated as held; the error names the file
 * to delete.
 *
 * Taking the lock is atomic: the owner line is written to a private temp
 * file, which is then hard-linked to the lock's name (link fails if the name
 * exists). A stale lock is moved aside under a unique name before retrying,
 * and only if what was moved is still the stale owner's; anything else is put
 * back and reported as held.
 */
import { readFileSync } from 'node:fs';
import { link, open, readFile, rename, rm } from 'node:fs/promises';
import { constants } from 'node:fs';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { DiskError, UsageError, diskErrorFrom } from '../errors.ts';

/** Who holds a lock: enough to tell a live owner from a stale file. */
export interface LockOwner {
  pid: number;
  /** Start time of the process in clock ticks since boot (Linux), or null where unknown. */
  startTicks: number | null;
  /** /proc/sys/kernel/random/boot_id (Linux), or null. */
  bootId: string | null;
  host: string;
}

/** The current process as a lock owner. */
export function currentOwner(): LockOwner {
  return {
    pid: process.pid,
    startTicks: startTicksOf(process.pid),
    bootId: readBootId(),
    host: hostname(),
  };
}

/** Start time of `pid` from /proc/PID/stat, or null (no such process, or no /proc). */
export function startTicksOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]); // field 22 overall; fields[0] is field 3
    return Number.isSafeInteger(ticks) ? ticks : null;
  } catch {
    return null;
  }
}

function readBootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'latin1').trim() || null;
  } catch {
    return null;
  }
}

/** Is `owner` a process that is running now? (Unknown counts as alive.) */
export function ownerIsAlive(owner: LockOwner, self: LockOwner = currentOwner()): boolean {
  if (owner.host !== self.host) return true; // cannot check another machine
  if (owner.bootId !== null && self.bootId !== null && owner.bootId !== self.bootId) return false;
  if (owner.startTicks !== null && self.startTicks !== null) {
    return startTicksOf(owner.pid) === owner.startTicks;
  }
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // exists, not ours
  }
}

export function encodeOwner(owner: LockOwner): string {
  return `${JSON.stringify(owner)}\n`;
}

/** Parses a lock file's content; null when it is not one (torn, foreign, empty). */
export function decodeOwner(text: string): LockOwner | null {
  try {
    const value = JSON.parse(text) as Partial<LockOwner>;
    if (!Number.isSafeInteger(value.pid) || (value.pid as number) <= 0) return null;
    if (typeof value.host !== 'string') return null;
    const ticks = value.startTicks;
    const boot = value.bootId;
    return {
      pid: value.pid as number,
      startTicks: Number.isSafeInteger(ticks) ? (ticks as number) : null,
      bootId: typeof boot === 'string' ? boot : null,
      host: value.host,
    };
  } catch {
    return null;
  }
}

export interface HeldLock {
  readonly path: string;
  /** Removes the lock if it is still ours. Safe to call twice. */
  release(): Promise<void>;
}

/**
 * Takes the lock at `path` (its folder must exist and be private) or throws a
 * UsageError naming the live owner and `what` is locked. A torn or stale lock
 * is taken over.
 */
export async function acquireLock(path: string, what: string): Promise<HeldLock> {
  const self = currentOwner();
  const mine = encodeOwner(self);
  const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  await writePrivate(temp, mine);
  try {
    // Bounded: each round either takes the lock, reports a live owner, or clears a stale one.
    for (let round = 0; round < 5; round++) {
      try {
        await link(temp, path);
        return heldLock(path, mine);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw diskErrorFrom(error, 'create lock file', path);
        }
      }
      const text = await readIfPresent(path);
      if (text === null) continue; // released meanwhile
      const owner = decodeOwner(text);
      if (owner && ownerIsAlive(owner, self)) throw heldBy(owner, path, what, self);
      await moveAsideIfUnchanged(path, text);
    }
    throw new DiskError(`could not take the lock ${path}: it keeps changing`);
  } finally {
    await rm(temp, { force: true });
  }
}

function heldBy(owner: LockOwner, path: string, what: string, self: LockOwner): UsageError {
  const where =
    owner.host === self.host ? `process ${owner.pid}` : `process ${owner.pid} on ${owner.host}`;
  return new UsageError(
    `${what} is in use by another shoal (${where}); wait for it to finish, or delete ${path} if it is not running`,
  );
}

/** Moves a stale lock out of the way, unless someone replaced it meanwhile (then it goes back). */
async function moveAsideIfUnchanged(path: string, staleText: string): Promise<void> {
  const aside = `${path}.stale.${randomBytes(6).toString('hex')}`;
  try {
    await rename(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw diskErrorFrom(error, 'replace stale lock file', path);
  }
  const moved = await readIfPresent(aside);
  if (moved !== null && moved !== staleText) {
    // A live owner's fresh lock: put it back (if the name is free) and let the next round see it.
    await link(aside, path).catch(() => {});
  }
  await rm(aside, { force: true });
}

function heldLock(path: string, content: string): HeldLock {
  let released = false;
  return {
    path,
    async release() {
      if (released) return;
      released = true;
      // Only our own lock: never remove one a later owner took over after ours went stale.
      if ((await readIfPresent(path)) === content) await rm(path, { force: true });
    },
  };
}

async function writePrivate(path: string, text: string): Promise<void> {
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  let handle;
  try {
    handle = await open(path, flags, 0o600);
    await handle.writeFile(text);
  } catch (error) {
    throw diskErrorFrom(error, 'create lock file', path);
  } finally {
    await handle?.close();
  }
}

async function readIfPresent(path: string): Promise<string | null> {
  try {
    const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      return await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw diskErrorFrom(error, 'read lock file', path);
  }
}

/** For tests and diagnostics: the owner recorded in a lock file, if any. */
export async function lockOwner(path: string): Promise<LockOwner | null> {
  const text = await readFile(path, 'utf8').catch(() => null);
  return text === null ? null : decodeOwner(text);
}
