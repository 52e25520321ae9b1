/**
 * The output directory as a boundary that symlinks cannot cross.
 *
 * A download directory may be shared: someone else who can write to it could
 * put a symlink where a torrent's file, a directory of it, or shoal's `.shoal`
 * state will be, and shoal would then write (or truncate, or read and serve)
 * whatever the link points at. So below the root nothing is followed:
 *
 * - directories are created one component at a time, each checked with lstat
 *   (a symlink or a file in the way is refused, never followed);
 * - files are opened with O_NOFOLLOW (a link in the last component fails with
 *   ELOOP), and on Linux the opened descriptor's real path
 *   (/proc/self/fd/N) is compared with the path we meant to open, which
 *   catches a directory swapped for a link between our check and the open;
 * - `.shoal` must be a real directory owned by the user, mode 0700.
 *
 * The root itself may be a symlink: the user chose it. A refusal is a
 * DiskError (exit 5) naming the path.
 *
 * `followLinks` turns all this off, for data the user points at directly
 * (`seed PATH`, whose symlinks `create` followed on purpose).
 */
import {
  chmodSync,
  constants,
  lstatSync,
  mkdirSync,
  readlinkSync,
  realpathSync,
  statSync,
} from 'node:fs';
import type { Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { DiskError, diskErrorFrom } from '../errors.ts';
import { makeDirectory } from './make-directory.ts';

/** The one-line refusal for a symlink found inside the output directory. */
export function symlinkRefused(path: string): DiskError {
  return new DiskError(
    `refusing to follow the symlink ${path} inside the output directory; remove it or choose another directory`,
  );
}

export class OutDir {
  /** Absolute path of the root as given (it may itself be a symlink). */
  readonly root: string;
  readonly followLinks: boolean;
  /** The root with every link resolved, once it exists (for the /proc check). */
  #realRoot: string | null = null;
  /** Directories below the root already checked to be real directories. */
  readonly #checkedDirs = new Set<string>();

  constructor(root: string, options: { followLinks?: boolean } = {}) {
    this.root = resolve(root);
    this.followLinks = options.followLinks ?? false;
  }

  /** Path components of `absolute` below the root; throws for a path outside it. */
  parts(absolute: string): string[] {
    const rel = relative(this.root, absolute);
    if (rel === '') return [];
    if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
      throw new Error(`refusing a path outside the output directory: ${absolute}`);
    }
    return rel.split(sep);
  }

  /**
   * lstat of `absolute`, refusing a symlink at it or at any directory between
   * the root and it; null when it (or a directory on its way) does not exist.
   */
  lstat(absolute: string): Stats | null {
    if (this.followLinks) return statFollowing(absolute);
    const parts = this.parts(absolute);
    let at = this.root;
    let info: Stats | null = null;
    for (let i = 0; i < parts.length; i++) {
      at = join(at, parts[i]);
      const last = i === parts.length - 1;
      if (!last && this.#checkedDirs.has(at)) continue;
      try {
        // A missing file is the common case (a fresh download's check looks at every file):
        // no exception built and thrown for it.
        info = lstatSync(at, { throwIfNoEntry: false }) ?? null;
        if (info === null) return null;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return null;
        throw diskErrorFrom(error, 'look at', at);
      }
      if (info.isSymbolicLink()) throw symlinkRefused(at);
      if (!last) {
        if (!info.isDirectory()) return null;
        this.#checkedDirs.add(at);
      }
    }
    return info;
  }

  /** Size of the regular file at `absolute`, or -1 when it is missing or not a file. */
  fileSize(absolute: string): number {
    const info = this.lstat(absolute);
    return info?.isFile() ? info.size : -1;
  }

  /** mkdir -p for `absolute`, creating and checking each directory below the root. */
  makeDirectories(absolute: string, mode = 0o755): void {
    if (this.followLinks) {
      makeDirectory(absolute);
      return;
    }
    this.#makeRoot();
    // Storage asks again at every open of a file (a 200-file download: ~250 times): a
    // directory made and checked before needs no walk from the root.
    if (this.#checkedDirs.has(absolute)) return;
    let at = this.root;
    for (const part of this.parts(absolute)) {
      at = join(at, part);
      if (this.#checkedDirs.has(at)) continue;
      try {
        mkdirSync(at, mode);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw diskErrorFrom(error, 'create directory', at);
        }
      }
      const info = lstatSync(at);
      if (info.isSymbolicLink()) throw symlinkRefused(at);
      if (!info.isDirectory()) {
        throw new DiskError(`cannot create directory ${at}: a file is in the way`);
      }
      this.#checkedDirs.add(at);
    }
  }

  /**
   * Creates (or checks) a directory for shoal's own state: a real directory,
   * owned by this user, that nobody else may write to (mode 0700).
   */
  makePrivateDirectory(absolute: string): void {
    this.makeDirectories(dirname(absolute));
    this.makeDirectories(absolute, 0o700);
    const info = lstatSync(absolute);
    const uid = process.getuid?.();
    if (uid !== undefined && info.uid !== uid) {
      throw new DiskError(
        `refusing to keep resume state in ${absolute}: it belongs to another user; remove it or choose another directory`,
      );
    }
    // Ours but open to others (made by an older shoal, or by hand): close it.
    if ((info.mode & 0o077) !== 0) {
      try {
        chmodSync(absolute, 0o700);
      } catch (error) {
        throw diskErrorFrom(error, 'make private', absolute);
      }
    }
  }

  /**
   * Opens the file at `absolute` (below the root) without following a link in
   * any component. Errors other than a refused link are Node's, for the
   * caller to word (ENOENT is a missing file to some callers).
   */
  async open(absolute: string, flags: number, mode = 0o644): Promise<FileHandle> {
    if (this.followLinks) return open(absolute, flags, mode);
    // Refuses a linked directory on the way with a message naming it.
    this.lstat(dirname(absolute));
    let handle: FileHandle;
    try {
      handle = await open(absolute, flags | constants.O_NOFOLLOW, mode);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ELOOP') throw symlinkRefused(absolute);
      throw error;
    }
    if (!this.#opened(handle, absolute)) {
      await handle.close().catch(() => {});
      throw new DiskError(
        `refusing ${absolute}: a directory on its path was replaced by a symlink while shoal opened it`,
      );
    }
    return handle;
  }

  /** True when `handle` is the file at `absolute` (Linux: its /proc/self/fd link); else assumed. */
  #opened(handle: FileHandle, absolute: string): boolean {
    let actual: string;
    try {
      actual = readlinkSync(`/proc/self/fd/${handle.fd}`);
    } catch {
      return true; // no /proc here: the per-component checks are all we have
    }
    this.#realRoot ??= realpathSync(this.root);
    return actual === join(this.#realRoot, ...this.parts(absolute));
  }

  #makeRoot(): void {
    if (this.#realRoot !== null) return;
    try {
      makeDirectory(this.root);
      this.#realRoot = realpathSync(this.root);
    } catch (error) {
      throw diskErrorFrom(error, 'create directory', this.root);
    }
  }
}

function statFollowing(path: string): Stats | null {
  try {
    return statSync(path, { throwIfNoEntry: false }) ?? null;
  } catch {
    return null;
  }
}

/**
 * Refuses a directory the command needs that cannot be one: the path is not
 * a directory, or (`creates`: the command makes it, as download does) the
 * nearest of its parents that exists is not. Commands call this before their
 * view starts (and before a magnet's metadata fetch), so that the refusal is
 * all they print; a session checks the path itself again when it runs.
 * Anything else stat reports (no permission, a loop) is left to the access
 * that meets it, whose error names it.
 */
export function refuseNonDirectory(dir: string, { creates }: { creates: boolean }): void {
  const root = resolve(dir);
  for (let at = root; ; at = dirname(at)) {
    let info: Stats;
    try {
      info = statSync(at);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const missing = code === 'ENOENT' || code === 'ENOTDIR';
      if (missing && creates && dirname(at) !== at) continue;
      return;
    }
    if (info.isDirectory()) return;
    throw new DiskError(
      at === root ? `${root} is not a directory` : `${root}: ${at} is not a directory`,
    );
  }
}

/**
 * makeDirectory for a folder a user named (the daemon's download and watch
 * folders, an RPC caller's download-dir or location): a path that is a file,
 * or below one, is refused naming the file, and any other failure
 * (permission, read-only) becomes a one-line disk error naming the folder,
 * instead of mkdir's bare EEXIST or ENOTDIR.
 */
export function makeDirectoryOrRefuse(dir: string): void {
  refuseNonDirectory(dir, { creates: true });
  try {
    makeDirectory(dir);
  } catch (error) {
    throw diskErrorFrom(error, 'create directory', dir);
  }
}
