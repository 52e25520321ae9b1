import { mkdir } from 'node:fs/promises';
import { sep } from 'node:path';

/**
 * mkdir -p that reports the real reason for a failure: Node's recursive mkdir
 * says ENOENT where the file system said EROFS (read-only) or similar.
 */
export async function makeDirectory(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    const parts = dir.split(sep);
    for (let i = 2; i <= parts.length; i++) {
      const partial = parts.slice(0, i).join(sep) || sep;
      await mkdir(partial).catch((inner: NodeJS.ErrnoException) => {
        if (inner.code !== 'EEXIST') throw inner;
      });
    }
  }
}
