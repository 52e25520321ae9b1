/**
 * The one rule for every file a command writes at a path the user named
 * (`create -o`, `seed PATH -o`, `download --save-torrent`): an existing file
 * is refused (UsageError, exit 2) unless `--force`, and the file appears whole
 * or not at all.
 *
 * The bytes go to a temporary file beside the target (created exclusively,
 * then fsynced), which then takes the target's name in one step: with
 * `--force` by rename (an existing file is replaced atomically), without it by
 * link (which fails if the name exists, even if it appeared while we worked).
 * So a crash or a full disk never leaves a half-written file where a good one
 * was, and nothing is ever overwritten by accident.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, lstat, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { diskErrorFrom, UsageError } from '../errors.ts';

function alreadyExists(path: string): UsageError {
  return new UsageError(`${path} already exists (use --force to overwrite)`);
}

/**
 * Refuses an existing `path` without `force`: commands call this before any
 * slow work, so the user learns at once, not after minutes of hashing.
 */
export async function refuseExistingOutput(path: string, force: boolean): Promise<void> {
  if (force) return;
  const existing = await lstat(path).then(
    () => true,
    () => false,
  );
  if (existing) throw alreadyExists(path);
}

/** Writes `bytes` to `path` whole, refusing an existing file unless `force` (see above). */
export async function writeOutputFile(
  path: string,
  bytes: Uint8Array,
  force: boolean,
): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(
      temp,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o644,
    );
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (force) await rename(temp, path);
    else await link(temp, path);
  } catch (error) {
    if (!force && (error as NodeJS.ErrnoException).code === 'EEXIST') throw alreadyExists(path);
    throw diskErrorFrom(error, 'write', path);
  } finally {
    // After a rename there is nothing left to remove; after a link, the temp name goes.
    await rm(temp, { force: true }).catch(() => {});
  }
}
