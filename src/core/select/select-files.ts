/**
 * Which files a download fetches: `--select` (file indexes, index ranges,
 * globs and plain paths, mixed and comma-separated), else the magnet's `so=`,
 * else every file; then `--exclude` globs remove files from that. Padding
 * files are never selected. A pattern that matches no file is a usage error
 * (exit 2) listing the files, since it is almost always a typo.
 */
import { UsageError } from '../errors.ts';
import type { TorrentFile } from '../metainfo/types.ts';
import { globToRegExp } from './glob.ts';

export interface SelectionRequest {
  /** `--select`: e.g. `0,2-4`, `'*.iso'`, `'sub/**,3'`. */
  select?: string;
  /** `--exclude`, repeatable. */
  exclude?: readonly string[];
  /** A magnet's `so=` indexes, used when `--select` is absent. */
  magnetSelection?: readonly number[] | null;
}

/** The selected file indexes, ascending; null when every file is wanted. */
export function selectFiles(
  files: readonly Pick<TorrentFile, 'path' | 'padding'>[],
  multiFile: boolean,
  request: SelectionRequest,
): number[] | null {
  const exclude = request.exclude ?? [];
  let chosen: Set<number> | null = null;
  if (request.select !== undefined) chosen = parseSelect(request.select, files, multiFile);
  else if (request.magnetSelection) {
    chosen = new Set(request.magnetSelection);
    checkIndexes(chosen, files, 'the magnet link (so=)');
  }
  if (exclude.length === 0) return chosen && [...chosen].sort((a, b) => a - b);
  const kept = chosen ?? new Set(files.flatMap((file, i) => (file.padding ? [] : [i])));
  for (const glob of exclude) {
    const matched = matching(glob, files, multiFile, '--exclude');
    for (const index of matched) kept.delete(index);
  }
  if (kept.size === 0)
    throw new UsageError('--select/--exclude leave no file to download; see shoal inspect --files');
  return [...kept].sort((a, b) => a - b);
}

/** The path forms a pattern may name a file by (see matchesFile). */
export function displayPath(file: Pick<TorrentFile, 'path'>): string {
  return file.path.join('/');
}

/**
 * Whether a pattern names this file. A file is named by its path as
 * `shoal inspect --json` writes it (`name/sub/x.iso` in a multi-file torrent)
 * or by its path inside the torrent's folder (`sub/x.iso`); a pattern with no
 * `/` is matched against the file name alone (`*.iso` finds it at any depth).
 */
export function matchesFile(
  pattern: RegExp,
  patternText: string,
  file: Pick<TorrentFile, 'path'>,
  multiFile: boolean,
): boolean {
  if (!patternText.includes('/')) return pattern.test(file.path[file.path.length - 1] ?? '');
  const full = file.path.join('/');
  return pattern.test(full) || (multiFile && pattern.test(file.path.slice(1).join('/')));
}

function parseSelect(
  text: string,
  files: readonly Pick<TorrentFile, 'path' | 'padding'>[],
  multiFile: boolean,
): Set<number> {
  const chosen = new Set<number>();
  const parts = text.split(',').map((part) => part.trim());
  if (parts.some((part) => part === ''))
    throw new UsageError(
      `invalid --select "${text}": use file indexes like 0,2-4 or globs like '*.iso' (see shoal inspect --files)`,
    );
  for (const part of parts) {
    const range = /^(\d+)\s*(?:-\s*(\d+))?$/.exec(part);
    if (!range) {
      for (const index of matching(part, files, multiFile, '--select')) chosen.add(index);
      continue;
    }
    const from = Number(range[1]);
    const to = range[2] === undefined ? from : Number(range[2]);
    if (to < from) throw new UsageError(`invalid --select range "${part}"`);
    const indexes = new Set<number>();
    for (let i = from; i <= Math.min(to, from + files.length); i++) indexes.add(i);
    checkIndexes(indexes, files, '--select');
    for (const index of indexes) chosen.add(index);
  }
  return chosen;
}

function checkIndexes(
  indexes: ReadonlySet<number>,
  files: readonly Pick<TorrentFile, 'padding'>[],
  what: string,
): void {
  for (const index of indexes) {
    if (index >= files.length)
      throw new UsageError(
        `${what}: no file ${index}; the torrent has files 0-${files.length - 1}`,
      );
    if (files[index].padding) throw new UsageError(`${what}: file ${index} is a padding file`);
  }
}

function matching(
  glob: string,
  files: readonly Pick<TorrentFile, 'path' | 'padding'>[],
  multiFile: boolean,
  flag: string,
): number[] {
  const pattern = globToRegExp(glob);
  const matched = files.flatMap((file, i) =>
    !file.padding && matchesFile(pattern, glob, file, multiFile) ? [i] : [],
  );
  if (matched.length === 0) throw new UsageError(noMatchMessage(flag, glob, files));
  return matched;
}

const LISTED_FILES = 20;

function noMatchMessage(
  flag: string,
  glob: string,
  files: readonly Pick<TorrentFile, 'path' | 'padding'>[],
): string {
  const real = files.flatMap((file, i) => (file.padding ? [] : [`${i} ${displayPath(file)}`]));
  const more = real.length > LISTED_FILES ? `, and ${real.length - LISTED_FILES} more` : '';
  return `${flag} '${glob}' matches no file; the torrent has: ${real.slice(0, LISTED_FILES).join(', ')}${more}`;
}
