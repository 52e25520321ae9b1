/**
 * BEP 47 file attributes, applied once a download is complete (every file is
 * on disk and verified):
 *
 * - `x` executable: the file gets execute permission wherever it has read
 *   permission (`chmod +x` under the usual umask: 0644 becomes 0755).
 * - `l` symlink (TorrentFile.symlinkPath): the link is made, with a relative
 *   target, but only inside the output directory and only to a file or
 *   directory of this torrent. Anything else is skipped and a warning
 *   returned: a torrent must not be able to plant a link to `/etc/passwd` or
 *   `~/.ssh` for a later program (or a later `seed`) to follow.
 * - `h` hidden: nothing to do on POSIX systems, where a name starting with
 *   `.` is what hides a file (libtorrent does nothing there either).
 *
 * Nothing is followed below the output directory (OutDir's rules): a
 * directory on the way that is a symlink skips the entry with a warning.
 * Existing data is never destroyed: a link replaces only nothing, an empty
 * regular file (storage may have created the entry as one), or the same link.
 */
import { constants, lstatSync, readlinkSync, symlinkSync, unlinkSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { DiskError, diskErrorFrom } from '../errors.ts';
import type { Metainfo, TorrentFile } from '../metainfo/types.ts';
import { OutDir } from './out-dir.ts';

export interface FileAttributesOptions {
  /** Indexes of the files that were downloaded (`--select`); default all. */
  selected?: ReadonlySet<number>;
}

export interface FileAttributesReport {
  /** Paths (relative to the output directory) made executable. */
  executables: string[];
  /** Links made (or found already made), `path -> target` as written on disk. */
  symlinks: string[];
  /** One line per attribute not applied, and why; for the caller to show. */
  warnings: string[];
}

/** Applies the BEP 47 attributes of `meta`'s files under `outDir` (see the file comment). */
export async function applyFileAttributes(
  meta: Metainfo,
  outDir: string,
  options: FileAttributesOptions = {},
): Promise<FileAttributesReport> {
  const out = new OutDir(outDir);
  const report: FileAttributesReport = { executables: [], symlinks: [], warnings: [] };
  const wanted = (index: number) => options.selected?.has(index) ?? true;
  const entries = meta.files.map((file, index) => ({ file, index }));
  for (const { file, index } of entries) {
    if (file.padding || file.symlinkPath || !file.attr.includes('x') || !wanted(index)) continue;
    const outcome = await makeExecutable(out, file);
    if (outcome === 'done') report.executables.push(file.path.join('/'));
    else if (outcome !== 'absent') {
      report.warnings.push(`did not make ${file.path.join('/')} executable: ${outcome}`);
    }
  }
  const known = torrentPaths(meta);
  for (const { file, index } of entries) {
    if (file.padding || !file.symlinkPath || !wanted(index)) continue;
    const outcome = makeSymlink(out, meta, file, known);
    if (outcome.made) report.symlinks.push(outcome.made);
    else report.warnings.push(`skipped symlink ${file.path.join('/')}: ${outcome.skipped}`);
  }
  return report;
}

/**
 * chmod +x through a descriptor opened without following links. Returns
 * 'absent' when the file is not there (not downloaded), else 'done' or why not.
 */
async function makeExecutable(out: OutDir, file: TorrentFile): Promise<string> {
  const absolute = join(out.root, ...file.path);
  let handle: FileHandle;
  try {
    handle = await out.open(absolute, constants.O_RDONLY);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    // A link planted at the file or on its way (OutDir refuses it) or an unreadable file.
    return error instanceof DiskError
      ? error.message
      : diskErrorFrom(error, 'open', absolute).message;
  }
  try {
    const { mode } = await handle.stat();
    // Execute wherever read is allowed: owner, group and others alike.
    await handle.chmod((mode & 0o7777) | ((mode & 0o444) >> 2));
    return 'done';
  } catch (error) {
    return diskErrorFrom(error, 'make executable', absolute).message;
  } finally {
    await handle.close();
  }
}

/**
 * Every path of the torrent relative to the output directory, `/`-joined:
 * its files (symlink entries included: a link may point at a link) and every
 * directory above them. A symlink may point at these and nothing else.
 */
function torrentPaths(meta: Metainfo): Set<string> {
  const paths = new Set<string>();
  for (const file of meta.files) {
    if (file.padding) continue;
    for (let depth = 1; depth <= file.path.length; depth++) {
      paths.add(file.path.slice(0, depth).join('/'));
    }
  }
  return paths;
}

/**
 * Where the link of `file` points, relative to the output directory, or null.
 * BEP 47 makes the target relative to the torrent's root directory; libtorrent
 * also reads it from the download directory (what its own `create` writes)
 * and from the link's own directory. The first reading that names a path of
 * the torrent wins.
 */
function resolveTarget(meta: Metainfo, file: TorrentFile, known: Set<string>): string[] | null {
  const target = file.symlinkPath ?? [];
  if (target.length === 0) return null;
  const readings = [
    [...(meta.multiFile ? [meta.name] : []), ...target],
    target,
    [...file.path.slice(0, -1), ...target],
  ];
  return readings.find((reading) => known.has(reading.join('/'))) ?? null;
}

function makeSymlink(
  out: OutDir,
  meta: Metainfo,
  file: TorrentFile,
  known: Set<string>,
): { made: string; skipped?: undefined } | { made?: undefined; skipped: string } {
  const target = resolveTarget(meta, file, known);
  const wanted = (file.symlinkPath ?? []).join('/');
  if (target === null) {
    return { skipped: `its target '${wanted}' is not a file or directory of this torrent` };
  }
  if (target.join('/') === file.path.join('/')) return { skipped: 'it points at itself' };
  const link = join(out.root, ...file.path);
  const targetPath = join(out.root, ...target);
  const text = relative(dirname(link), targetPath);
  try {
    // The directories on the way to the link and to its target must be real ones.
    out.makeDirectories(dirname(link));
    out.lstat(dirname(targetPath));
  } catch (error) {
    if (error instanceof DiskError) return { skipped: error.message };
    throw error;
  }
  const existing = lstatOrNull(link);
  if (existing?.isSymbolicLink()) {
    if (readlinkSync(link) === text) return { made: `${file.path.join('/')} -> ${text}` };
    return { skipped: 'another symlink is already there' };
  }
  if (existing && !(existing.isFile() && existing.size === 0)) {
    return { skipped: 'a file or directory with data is already there' };
  }
  try {
    if (existing) unlinkSync(link);
    symlinkSync(text, link);
  } catch (error) {
    return { skipped: diskErrorFrom(error, 'create symlink', link).message };
  }
  return { made: `${file.path.join('/')} -> ${text}` };
}

function lstatOrNull(path: string) {
  try {
    return lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw diskErrorFrom(error, 'look at', path);
  }
}
