/**
 * Collects the files `shoal create` puts into a torrent.
 *
 * Order: sorted by path components, each compared as UTF-8 bytes. That is the
 * order of a BEP 52 file tree (dictionary keys sort bytewise at every level),
 * so the v1 file list of a hybrid torrent matches its v2 file tree.
 *
 * Symlinks: a symlink to a file is followed (the torrent holds the target's
 * content under the link's name); a symlink to a directory is not followed
 * (that avoids loops and trees leaking out of the input), nor is a dangling
 * link: both are skipped and reported in `skipped`. The input path itself is
 * always followed.
 *
 * Hidden entries (any path component below the input starting with '.') are
 * left out unless `includeHidden`. `exclude` globs are matched against the
 * '/'-joined path relative to the input and against the entry's name; an
 * excluded directory is not descended into.
 */
import { readdirSync, statSync, type Dirent, type Stats } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { compareUtf8 } from '../bytes.ts';
import { diskErrorFrom, InputError } from '../errors.ts';

export interface WalkOptions {
  includeHidden?: boolean;
  exclude?: string[];
}

export interface WalkedFile {
  /** Where to read the file (for a followed symlink: the link's path; the OS resolves it). */
  absolutePath: string;
  /** Components relative to the input directory; empty for a single-file input. */
  relativePath: string[];
  length: number;
  executable: boolean;
}

export interface SkippedEntry {
  /** '/'-joined path relative to the input. */
  path: string;
  reason: 'directory symlink' | 'dangling symlink' | 'not a regular file';
}

export interface WalkResult {
  /** Base name of the input: the torrent's name. */
  name: string;
  /** True when the input is a single file (not a directory). */
  single: boolean;
  files: WalkedFile[];
  skipped: SkippedEntry[];
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The walk uses synchronous file-system calls on purpose: nothing else runs
 * while `create` walks, and a sync stat costs a few microseconds where an
 * awaited one goes through the thread pool and a promise (2000 files: ~10 ms
 * against ~80 ms).
 */
export async function walk(input: string, options: WalkOptions = {}): Promise<WalkResult> {
  const root = resolve(input);
  const name = basename(root);
  // 'build/' means the directory build: match it like 'build'.
  const matchers = (options.exclude ?? []).map((glob) => globToRegExp(glob.replace(/\/+$/, '')));
  const excluded = (rel: string, base: string): boolean =>
    matchers.some((re) => re.test(rel) || re.test(base));

  let rootStat: Stats;
  try {
    rootStat = statSync(root);
  } catch (error) {
    throw diskErrorFrom(error, 'read', input);
  }
  if (rootStat.isFile()) {
    return {
      name,
      single: true,
      files: [
        {
          absolutePath: root,
          relativePath: [],
          length: rootStat.size,
          executable: isExecutable(rootStat),
        },
      ],
      skipped: [],
    };
  }
  if (!rootStat.isDirectory()) throw new InputError(`${input} is neither a file nor a directory`);

  const files: WalkedFile[] = [];
  const skipped: SkippedEntry[] = [];
  const pending: string[][] = [[]];
  while (pending.length > 0) {
    const dirParts = pending.pop()!;
    const dirPath = join(root, ...dirParts);
    let entries: Dirent<Buffer>[];
    try {
      entries = readdirSync(dirPath, { withFileTypes: true, encoding: 'buffer' });
    } catch (error) {
      throw diskErrorFrom(error, 'read directory', dirPath);
    }
    for (const entry of entries) {
      let entryName: string;
      try {
        entryName = utf8.decode(entry.name);
      } catch {
        throw new InputError(
          `${join(dirPath, entry.name.toString('latin1'))}: file name is not valid UTF-8; rename it`,
        );
      }
      const parts = [...dirParts, entryName];
      const rel = parts.join('/');
      if (!options.includeHidden && entryName.startsWith('.')) continue;
      if (excluded(rel, entryName)) continue;
      if (entry.isDirectory()) {
        pending.push(parts);
        continue;
      }
      const link = entry.isSymbolicLink();
      if (!link && !entry.isFile()) {
        skipped.push({ path: rel, reason: 'not a regular file' });
        continue;
      }
      const full = join(root, ...parts);
      let st: Stats | null;
      try {
        st = statSync(full);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (!(link && (code === 'ENOENT' || code === 'ELOOP' || code === 'ENOTDIR')))
          throw diskErrorFrom(error, 'read', full);
        st = null;
      }
      if (!st) skipped.push({ path: rel, reason: 'dangling symlink' });
      else if (link && st.isDirectory()) skipped.push({ path: rel, reason: 'directory symlink' });
      else if (!st.isFile()) skipped.push({ path: rel, reason: 'not a regular file' });
      else {
        files.push({
          absolutePath: full,
          relativePath: parts,
          length: st.size,
          executable: isExecutable(st),
        });
      }
    }
  }
  if (files.length === 0) {
    throw new InputError(
      `${input} holds no files to share` +
        (options.includeHidden ? '' : ' (hidden files are left out; --include-hidden adds them)'),
    );
  }
  return {
    name,
    single: false,
    files: sortByPath(files, (f) => f.relativePath),
    skipped: sortByPath(skipped, (s) => s.path.split('/')),
  };
}

/** Sorts by `comparePaths`. */
function sortByPath<T>(items: T[], pathOf: (item: T) => readonly string[]): T[] {
  return items.sort((a, b) => comparePaths(pathOf(a), pathOf(b)));
}

/** Orders paths component by component, comparing UTF-8 bytes; a prefix sorts first. */
export function comparePaths(a: readonly string[], b: readonly string[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareUtf8(a[i]!, b[i]!);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

/**
 * A small glob: `**` matches anything (slashes included; `**\/` also matches
 * nothing), `*` any run of characters but '/', `?` one character but '/'.
 * Everything else is literal. The whole string must match.
 */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        i++;
        if (glob[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else {
          re += '.*';
        }
      } else {
        re += '[^/]*';
      }
    } else if (c === '?') {
      re += '[^/]';
    } else {
      re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${re}$`, 's');
}

function isExecutable(st: Stats): boolean {
  return (st.mode & 0o111) !== 0;
}
