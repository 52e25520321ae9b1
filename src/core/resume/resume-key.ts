/**
 * The per-user secret that makes resume state unforgeable by someone who can
 * only write to the output directory.
 *
 * Resume state lives in OUT/.shoal/, which in a shared download directory
 * others may be able to replace. Its piece fingerprints decide which data is
 * trusted without SHA-1, so they are keyed: the fingerprint is xxh64 seeded
 * with a secret, and the snapshot and every journal record carry an
 * HMAC-SHA256 under a second secret. Both derive from 32 random bytes kept
 * outside OUT, readable by the user only:
 *
 *   $XDG_STATE_HOME/shoal/resume.key   or   ~/.local/state/shoal/resume.key
 *
 * created on first use (0600, in a 0700 directory). When it cannot be read or
 * created (no home, read-only file system, a key owned by someone else) this
 * thread uses a random secret of its own: nothing saved earlier verifies,
 * so every piece is checked by SHA-1, which is slow but never wrong.
 *
 * Synchronous and cached per thread: the hash workers read the same file, so
 * their fingerprints agree with the main thread's.
 */
import { createHmac, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const KEY_BYTES = 32;

export interface ResumeSecrets {
  /** Seed of the keyed xxh64 piece fingerprint. */
  fingerprintSeed: bigint;
  /**
   * HMAC-SHA256 key of snapshot and journal records. A KeyObject made once:
   * createHmac with a raw Buffer imports the key on every call, which measured
   * 47 us a journal record against 4 us with the KeyObject (Node 24).
   */
  macKey: KeyObject;
  /** False when the key file could not be used (a per-thread random secret instead). */
  persistent: boolean;
}

/** `$XDG_STATE_HOME/shoal/resume.key`, or `~/.local/state/shoal/resume.key`. */
export function resumeKeyPath(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_STATE_HOME;
  const base = xdg && xdg.startsWith('/') ? xdg : join(homedir(), '.local', 'state');
  return join(base, 'shoal', 'resume.key');
}

let cached: ResumeSecrets | null = null;

/** This thread's resume secrets (read or created once). */
export function resumeSecrets(): ResumeSecrets {
  if (cached) return cached;
  const key = readOrCreateKey(resumeKeyPath());
  cached = derive(key ?? randomBytes(KEY_BYTES), key !== null);
  return cached;
}

function derive(key: Buffer, persistent: boolean): ResumeSecrets {
  const sub = (label: string) => createHmac('sha256', key).update(label).digest();
  return {
    fingerprintSeed: sub('shoal piece fingerprint v1').readBigUInt64LE(0),
    macKey: createSecretKey(sub('shoal resume records v1')),
    persistent,
  };
}

/** The key at `path`, creating it when missing; null when it cannot be used. */
export function readOrCreateKey(path: string): Buffer | null {
  try {
    return readKey(path) ?? createKey(path);
  } catch {
    return null;
  }
}

/** The key, or null when there is no file yet. Throws for a file we must not trust. */
function readKey(path: string): Buffer | null {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    const info = fstatSync(fd);
    const uid = process.getuid?.();
    if (!info.isFile() || (uid !== undefined && info.uid !== uid) || info.size !== KEY_BYTES) {
      throw new Error(`unusable resume key ${path}`);
    }
    // Ours, but readable by others (copied by hand?): close it for the future.
    if ((info.mode & 0o077) !== 0) chmodSync(path, 0o600);
    const key = Buffer.alloc(KEY_BYTES);
    if (readSync(fd, key, 0, KEY_BYTES, 0) !== KEY_BYTES) throw new Error('short resume key');
    return key;
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes a new key beside `path` and links it into place: the key appears
 * whole, and when another process or thread got there first, theirs is used.
 */
function createKey(path: string): Buffer | null {
  const dir = join(path, '..');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const key = randomBytes(KEY_BYTES);
  const fd = openSync(
    temp,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o600,
  );
  try {
    writeSync(fd, key);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(temp, path);
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return readKey(path);
    throw error;
  } finally {
    rmSync(temp, { force: true });
  }
}
