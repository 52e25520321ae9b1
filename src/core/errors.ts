/**
 * Every failure shoal expects belongs to one of these classes. Each carries the
 * process exit code from the CLI contract (DESIGN.md §1), so a command only has
 * to catch, print `error.message` on one line, and exit with `error.exitCode`.
 * Anything that is not a ShoalError is a bug and exits 1.
 */
export const ExitCode = {
  ok: 0,
  internal: 1,
  usage: 2,
  badInput: 3,
  network: 4,
  disk: 5,
  verifyFailed: 6,
  interrupted: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export class ShoalError extends Error {
  readonly exitCode: ExitCodeValue;
  constructor(message: string, exitCode: ExitCodeValue, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** A malformed argument or flag value (exit 2). */
export class UsageError extends ShoalError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.usage, options);
  }
}

/** An unreadable or invalid .torrent, magnet link or info-hash (exit 3). */
export class InputError extends ShoalError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.badInput, options);
  }
}

/** No peers, no metadata, or no progress within the timeout (exit 4). */
export class NetworkError extends ShoalError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.network, options);
  }
}

/** A file could not be created, read or written (exit 5). */
export class DiskError extends ShoalError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.disk, options);
  }
}

/** Data on disk does not match the torrent (exit 6). */
export class VerifyError extends ShoalError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.verifyFailed, options);
  }
}

/** SIGINT/SIGTERM: state was saved and a rerun resumes (exit 130). */
export class InterruptedError extends ShoalError {
  constructor(message = 'interrupted; progress saved, run the same command again to resume') {
    super(message, ExitCode.interrupted);
  }
}

/**
 * Turns a Node file-system error into a DiskError whose message names the path
 * and the cause in words a user understands.
 */
export function diskErrorFrom(error: unknown, action: string, path: string): DiskError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const reasons: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    ENOSPC: 'no space left on device',
    EROFS: 'read-only file system',
    EISDIR: 'is a directory',
    ENOTDIR: 'a path component is not a directory',
    EEXIST: 'already exists',
    EMFILE: 'too many open files',
    EDQUOT: 'disk quota exceeded',
  };
  const reason =
    (code && reasons[code]) ?? (error instanceof Error ? error.message : String(error));
  return new DiskError(`cannot ${action} ${path}: ${reason}`, { cause: error });
}
