/**
 * Where each of a torrent's files lies on disk, relative to the data
 * directory. Usually that is the file's sanitized path (TorrentFile.path),
 * with two exceptions:
 *
 * - `diskPath`: the caller knows better. `seed PATH` serves the files from
 *   the paths it read them from, which differ from the sanitized layout when
 *   names collide by case or Unicode normalisation (the kernel's
 *   `xt_TCPMSS.c` and `xt_tcpmss.c`) or hold characters sanitizing replaces.
 *
 * - A renamed file under its original name. Files whose names are one file on
 *   macOS and Windows (`Readme.txt`, `README.TXT`) are laid out as
 *   `README (1).TXT` so a download never overwrites one with the other. Data
 *   written by a client that does not rename (transmission, aria2c,
 *   libtorrent on Linux), or the source tree itself, has `README.TXT`
 *   instead. When the renamed path is absent and the original is a regular
 *   file that is not the same file as its collision partner's (same device
 *   and inode: on a case-insensitive or normalising file system both names
 *   reach one file), the original is used.
 *
 *   Why use it rather than refuse with a clear error: the check proves the
 *   original is a file of its own, so using it overwrites nothing, and it lets
 *   shoal seed, verify and resume exactly the data every other client (and
 *   `shoal seed DIR`) produces on Linux; an error would only tell the user to
 *   rename files by hand, which then breaks those other clients. When neither
 *   name is usable, `renameNote` explains the expected name in the error.
 *
 * Every path stays below the data directory (the components are sanitized or
 * came from reading that directory), and the look-ups go through OutDir, so
 * a symlink below it is never followed unless the caller asked for that.
 */
import { join } from 'node:path';
import type { Stats } from 'node:fs';
import { collisionKey } from '../metainfo/sanitize-path.ts';
import type { TorrentFile } from '../metainfo/types.ts';
import type { OutDir } from './out-dir.ts';

/** A torrent file as storage sees it: optionally with where it really lies. */
export interface StorageFile extends TorrentFile {
  /**
   * Components relative to the data directory where this file lies, when not
   * at `path` (seeding a path: the names it was read from). Default: `path`,
   * or `renamedFrom` as described above.
   */
  diskPath?: readonly string[];
}

/** Components of each file's location on disk, relative to `out.root`, in file order. */
export function diskPaths(files: readonly StorageFile[], out: OutDir): string[][] {
  const paths = files.map((file) => [...(file.diskPath ?? file.path)]);
  const renamed = files.flatMap((file, index) =>
    file.renamedFrom && !file.diskPath && !file.padding ? [index] : [],
  );
  if (renamed.length === 0) return paths;

  // The files each original name collides with: those now laid out under that name.
  const keyOf = (path: readonly string[]) => path.map(collisionKey).join('/');
  const byKey = new Map<string, number[]>();
  files.forEach((file, index) => {
    if (file.padding) return;
    const key = keyOf(paths[index]);
    const same = byKey.get(key);
    if (same) same.push(index);
    else byKey.set(key, [index]);
  });
  for (const index of renamed) {
    const original = files[index].renamedFrom!;
    if (statOf(out, paths[index]) !== null) continue; // laid out by shoal: use it
    const stats = statOf(out, original);
    if (!stats?.isFile()) continue;
    const key = keyOf(original);
    const partners = byKey.get(key) ?? [];
    const shared = partners.some((other) => sameFile(stats, statOf(out, paths[other])));
    if (shared) continue;
    paths[index] = [...original];
    // A later file renamed from the same name must not take this one too.
    byKey.set(key, [...partners, index]);
  }
  return paths;
}

/**
 * For an error naming a missing file: why it has the name it has, e.g.
 * `d/README (1).TXT (renamed from d/README.TXT, whose name collides with
 * another file's by case or Unicode normalisation)`. Just the path for a file
 * that was not renamed.
 */
export function renameNote(file: TorrentFile, path: readonly string[] = file.path): string {
  const shown = path.join('/');
  if (!file.renamedFrom) return shown;
  return `${shown} (renamed from ${file.renamedFrom.join('/')}, whose name collides with another file's by case or Unicode normalisation; that name is not a separate file here)`;
}

/** lstat (through OutDir's symlink rules) of `path` below the root; null when absent or refused. */
function statOf(out: OutDir, path: readonly string[]): Stats | null {
  try {
    return out.lstat(join(out.root, ...path));
  } catch {
    // A refused symlink is not usable data; the normal checks report it where it matters.
    return null;
  }
}

function sameFile(a: Stats, b: Stats | null): boolean {
  return b !== null && a.dev === b.dev && a.ino === b.ino;
}
