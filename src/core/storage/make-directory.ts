import { mkdirSync } from 'node:fs';
import { sep } from 'node:path';

/**
 * mkdir -p that reports the real reason for a failure: Node's recursive mkdir
 * says ENOENT where the file system said EROFS (read-only) or similar.
 *
 * Synchronous on purpose: it runs once per directory, costs a few system
 * calls of microseconds, and the asynchronous form needs two trips through
 * the thread pool and the event loop (mkdir, then a stat on EEXIST), which
 * delayed the first write of a busy download by tens of milliseconds.
 */
export function makeDirectory(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    const parts = dir.split(sep);
    for (let i = 2; i <= parts.length; i++) {
      const partial = parts.slice(0, i).join(sep) || sep;
      try {
        mkdirSync(partial);
      } catch (inner) {
        if ((inner as NodeJS.ErrnoException).code !== 'EEXIST') throw inner;
      }
    }
  }
}
