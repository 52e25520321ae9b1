/**
 * Files as the metainfo describes them, before laying out (`RawFiles`), and what
 * v1 (`files` list) and v2 (`file tree`) entries share: BEP 47 attributes,
 * symlink targets, lengths, and the limits on paths.
 */
import { isBytes, type BencodeValue } from '../bencode/index.ts';
import { fail, isLength } from './fields.ts';
import { decodeName, latin1Text as latin1 } from './text.ts';
import type { TorrentFile } from './types.ts';

export const MAX_FILES = 1_000_000;
/**
 * Deepest file path, v1 list or v2 tree (for v2 the bencode depth limit caps
 * it too). Real torrents stay far below; without a cap a 120 KB torrent with
 * one 40 000-component path cost minutes and gigabytes to lay out.
 */
export const MAX_PATH_DEPTH = 60;
/** Most bytes in one file's path inside the torrent (components plus separators): Linux's PATH_MAX. */
export const MAX_PATH_BYTES = 4096;
/** A path's raw spellings (v1: `path` and `path.utf-8`; v2: the tree's key bytes as latin1). */
export type RawPaths = readonly (readonly (Uint8Array | string)[])[];

/**
 * The files as the metainfo describes them, before laying out. Each file is already the
 * `TorrentFile` it becomes in the `Metainfo` (`rawFile`): `path` holds its decoded components
 * relative to the torrent's top directory (single-file: the file name, or nothing) and
 * `offset` is 0 until parse.ts lays the files out in place. One object per file, not a raw
 * record and then a laid-out copy: a 400 000-file torrent kept both to the end of the parse
 * and the garbage collector copied both on every scavenge. What only the parse needs is
 * beside the files, not in them.
 */
export interface RawFiles {
  files: TorrentFile[];
  /**
   * Per file, its raw spellings, which a hybrid's v1 and v2 parts are compared by (see
   * `spellings`); empty when the reader was not asked for them (a v1-only torrent).
   */
  rawPaths: RawPaths[];
  /** BEP 47 symlink targets as decoded components (not yet sanitized), by file index. */
  symlinks: Map<number, string[]>;
}

/** A file before laying out, always with this shape (one hidden class for every reader). */
export function rawFile(
  path: string[],
  length: number,
  attr: string,
  padding: boolean,
  piecesRoot: Uint8Array | null,
): TorrentFile {
  return { path, length, offset: 0, padding, attr, piecesRoot };
}

/**
 * A file's raw path spellings as comparable text, one per spelling. Made only for hybrids,
 * the one place they are compared: a JSON text per path per file cost a 400 000-file v1
 * torrent a tenth of a second and 30 MB for nothing.
 */
export function spellings(rawPaths: RawPaths): string[] {
  return rawPaths.map((path) =>
    JSON.stringify(path.map((part) => (typeof part === 'string' ? part : latin1(part)))),
  );
}

/** BitComet's padding files, recognised by name anywhere in their path (as libtorrent does). */
export function isLegacyPadding(components: readonly string[]): boolean {
  // The length test first: most names are shorter than the marker, and a substring search per
  // component of a 400 000-file torrent is 800 000 calls into the runtime.
  for (const component of components)
    if (component.length >= LEGACY_PADDING.length && component.includes(LEGACY_PADDING))
      return true;
  return false;
}

const LEGACY_PADDING = '_____padding_file_';

export function parseAttr(value: BencodeValue | undefined): string {
  return isBytes(value) ? latin1(value) : '';
}

/**
 * BEP 47 `symlink path` of an entry whose attr has `l`: its decoded components,
 * or null when it has none (then, as in libtorrent, the entry is an ordinary
 * empty file). A list holding anything but strings is refused.
 */
export function parseSymlinkPath(value: BencodeValue | undefined, what: string): string[] | null {
  if (!Array.isArray(value)) return null;
  if (!value.every(isBytes)) fail(`${what} has a 'symlink path' that is not a list of strings`);
  checkPathSize(value.length, pathBytes(value), what);
  return value.map(decodeName);
}

/**
 * The length an entry takes in the piece space: a symlink takes none, whatever
 * its `length` says (BEP 47; libtorrent does not even read it); anything else
 * needs a valid one.
 */
export function entryLength(
  attr: string,
  value: BencodeValue | number | null | undefined,
  what: Entry,
): number {
  if (attr.includes('l')) return 0;
  if (!isLength(value ?? undefined)) fail(`${entryName(what)} has no valid 'length'`);
  return value as number;
}

/**
 * Which entry a message is about: its text, or the index of a v1 list entry (`file 12`), whose
 * text is made only for a message (a 400 000-file torrent made one per file, for nothing).
 */
export type Entry = string | number;

function entryName(what: Entry): string {
  return typeof what === 'number' ? `file ${what}` : what;
}

/** Bytes of a path written with `/` between its components. */
export function pathBytes(components: readonly Uint8Array[]): number {
  let bytes = Math.max(components.length - 1, 0);
  for (const component of components) bytes += component.length;
  return bytes;
}

/** Refuses paths no file system can hold before anything costs more than a pass over them. */
export function checkPathSize(depth: number, bytes: number, what: Entry): void {
  if (depth > MAX_PATH_DEPTH) fail(`${entryName(what)} has a path deeper than ${MAX_PATH_DEPTH}`);
  if (bytes > MAX_PATH_BYTES)
    fail(`${entryName(what)} has a path longer than ${MAX_PATH_BYTES} bytes`);
}
