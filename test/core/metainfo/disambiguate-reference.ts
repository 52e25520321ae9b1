/**
 * The path de-duplication as it was before its speed-ups (the parent of
 * commit 2d49a23), kept as the reference `disambiguatePaths` must agree with:
 * a plain walk of a tree of directories per path, no shortcuts.
 */
import { collisionKey, withCounter } from '../../../src/core/metainfo/sanitize-path.ts';

/** A directory of the layout being built, keyed by collision key. */
interface DirNode {
  children: Map<string, DirNode | 'file'>;
  /** A directory name that collided with an earlier file here -> the name it was given. */
  renamedDirs: Map<string, string>;
  /** Next counter to try for a file name that collided here (keeps renaming linear). */
  nextCounter: Map<string, number>;
}

function dirNode(): DirNode {
  return { children: new Map(), renamedDirs: new Map(), nextCounter: new Map() };
}

/**
 * Renames files so that no two share a path and no file occupies a path
 * another file needs as a directory, comparing names by `collisionKey` on
 * every platform (so a torrent lays out the same everywhere). Earlier files
 * keep their names; later ones get ` (1)`, ` (2)`… before the extension. A
 * directory component that collides with an earlier file is renamed the same
 * way (and every later file in that directory follows it to the same new
 * name). Names that collide with nothing keep their spelling; directories
 * equal by key are one directory (on Linux they may be spelled two ways).
 *
 * Linear in the total length of the paths: each path walks a tree of
 * directories once. Input components must already be sanitized. A path that
 * keeps its name is returned as the same array (callers can tell a renamed
 * one by identity); a renamed one is a new array.
 */
export function referenceDisambiguatePaths(
  paths: readonly (readonly string[])[],
): (readonly string[])[] {
  const root = dirNode();
  const out: (readonly string[])[] = [];
  for (const original of paths) {
    // Copied only when something in it is renamed: most paths are not.
    let path = original as string[];
    const rename = (i: number, component: string) => {
      if (path === original) path = [...original];
      path[i] = component;
    };
    let dir = root;
    for (let i = 0; i < path.length - 1; i++) {
      let key = collisionKey(path[i]);
      if (dir.children.get(key) === 'file') {
        let renamed = dir.renamedDirs.get(key);
        if (renamed === undefined) {
          for (let n = 1; ; n++) {
            renamed = withCounter(path[i], n);
            if (dir.children.get(collisionKey(renamed)) !== 'file') break;
          }
          dir.renamedDirs.set(key, renamed);
        }
        rename(i, renamed);
        key = collisionKey(renamed);
      }
      let child = dir.children.get(key);
      if (child === undefined) {
        child = dirNode();
        dir.children.set(key, child);
      }
      dir = child as DirNode;
    }
    const last = path.length - 1;
    const baseKey = collisionKey(path[last]);
    let fileKey = baseKey;
    if (dir.children.has(baseKey)) {
      const base = path[last];
      let n = dir.nextCounter.get(baseKey) ?? 1;
      for (; ; n++) {
        fileKey = collisionKey(withCounter(base, n));
        if (!dir.children.has(fileKey)) break;
      }
      rename(last, withCounter(base, n));
      dir.nextCounter.set(baseKey, n + 1);
    }
    dir.children.set(fileKey, 'file');
    out.push(path);
  }
  return out;
}
