/**
 * The download-root policy: a remote caller may name a directory only inside
 * the roots the daemon was started with. Paths are compared after resolving
 * `..` and every symlink that exists (the real path of the deepest existing
 * ancestor), on a separator boundary: `/data-evil` is not inside `/data`, and
 * neither is `/data/../etc` or `/data/link-to-etc/x`.
 */
import { realpathSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { RpcRefusal } from './backend.ts';

/** Longest path accepted from a caller (Linux PATH_MAX). */
const MAX_PATH_LENGTH = 4096;

export class DownloadRoots {
  readonly roots: readonly string[];

  /** `roots` must exist; they are kept as real paths. */
  constructor(roots: string[]) {
    this.roots = roots.map((root) => realpathSync(path.resolve(root)));
  }

  /**
   * The real absolute form of `value`, or an RpcRefusal naming `what` when it
   * is not a path, not absolute, or outside every root.
   */
  async check(value: unknown, what: string): Promise<string> {
    if (typeof value !== 'string' || value === '' || value.length > MAX_PATH_LENGTH) {
      throw new RpcRefusal(`${what} must be a non-empty path`);
    }
    if (value.includes('\0')) throw new RpcRefusal(`${what} contains a NUL character`);
    if (!path.isAbsolute(value)) throw new RpcRefusal(`${what} must be an absolute path`);
    const real = await realPathOfPossiblyMissing(path.resolve(value));
    if (!this.roots.some((root) => isInside(real, root))) {
      throw new RpcRefusal(`${what} ${value} is outside the download roots`);
    }
    return real;
  }

  /** Whether `value` (already absolute) lies inside a root; never throws. */
  async contains(value: string): Promise<boolean> {
    return this.check(value, 'path').then(
      () => true,
      () => false,
    );
  }
}

function isInside(child: string, root: string): boolean {
  const relative = path.relative(root, child);
  return (
    relative === '' ||
    (relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative))
  );
}

/** The real path of the deepest existing ancestor, with the missing rest appended. */
async function realPathOfPossiblyMissing(absolute: string): Promise<string> {
  const missing: string[] = [];
  let current = absolute;
  for (;;) {
    try {
      return path.join(await realpath(current), ...missing.reverse());
    } catch {
      const parent = path.dirname(current);
      if (parent === current) return absolute;
      missing.push(path.basename(current));
      current = parent;
    }
  }
}
