/**
 * .torrent parsing and validation for v1 (BEP 3), v2 (BEP 52) and hybrid
 * torrents. Everything here is hostile input (DESIGN.md §4): every failure is
 * an InputError with one short line saying what is wrong.
 *
 * This file validates the info dictionary as a whole and lays the files out
 * (offsets, sanitized and de-duplicated paths); the parts live beside it:
 * files-v1.ts (the `files` list), files-v2.ts (the `file tree`),
 * file-entry.ts (what their entries share), piece-layers.ts, top-level.ts
 * (trackers, web seeds, comment...), fields.ts (failing, lookups, decoding).
 *
 * Decisions (also in the tests that pin them):
 * - Info-hashes are computed over the original bytes of the info dictionary,
 *   so a dictionary with unsorted keys (not canonical bencode) is accepted and
 *   hashes exactly as libtorrent and transmission hash it.
 * - Piece length: what libtorrent loads, any length from 1 byte to
 *   2^30 - 1 (its limit: INT_MAX / 2) for v1; v2 and hybrid require a power of
 *   two >= 16 KiB as BEP 52 does. The wire protocol and the engine cope with a
 *   piece that is not a multiple of the 16 KiB block (its last block is short).
 * - v2 and hybrid info dictionaries must be canonical bencode (keys sorted),
 *   as BEP 52 requires and libtorrent enforces; v1 ones are hashed as given.
 * - BEP 47: a symlink (`l`) has length 0 whatever `length` says, and without
 *   a `symlink path` is an ordinary empty file (both as libtorrent); a pad
 *   file (`p`) needs no path (it becomes `.pad/<length>`); a v2 entry must not
 *   be padding (v2 aligns files itself).
 * - `name` is required. A single-file torrent whose name sanitizes to nothing
 *   is refused (there is no file name to write); a multi-file one takes the
 *   info-hash as its directory name. A torrent with no data (total size of its
 *   non-padding files zero) is refused: there is nothing to download.
 * - v2 file names are read from the raw bytes of the file tree (the generic
 *   decoder turns non-UTF-8 keys into hex, which would lose them).
 * - Piece layers: a layer that is present must match its file's pieces root
 *   (else the torrent is refused); a missing one is left out of `pieceLayers`
 *   to be fetched from peers with BEP 52 hash requests, as libtorrent does.
 *   `parseInfoDict` (metadata from a magnet) has none at all.
 */
import { isBytes, isDict, type BencodeDict } from '../bencode/index.ts';
import { sha1 } from '../digest/sha1.ts';
import { spellings, type RawFiles } from './file-entry.ts';
import {
  decodeOrFail,
  fail,
  get,
  optionalText,
  preferredBytes,
  printable,
  type FileListBytes,
} from './fields.ts';
import { parseV1Files } from './files-v1.ts';
import { parseV2Files } from './files-v2.ts';
import { firstUnsortedKey } from './key-order.ts';
import { checkPieceLayers, readPieceLayers } from './piece-layers.ts';
import { disambiguatePaths } from './disambiguate.ts';
import {
  PLACEHOLDER_COMPONENT,
  sanitizeComponent,
  sanitizeName,
  sanitizePathInPlace,
  type SanitizeOptions,
} from './sanitize-path.ts';
import { decodeName, toHex } from './text.ts';
import { parseCreationDate, parseTrackers, parseWebSeeds, type TopLevel } from './top-level.ts';
import type { Metainfo, TorrentVersion } from './types.ts';

export { MAX_FILES, MAX_PATH_BYTES, MAX_PATH_DEPTH } from './file-entry.ts';
export { pieceLayerRoot } from './piece-layers.ts';
export { parseTrackers, parseWebSeeds } from './top-level.ts';

export const BLOCK_SIZE = 16 * 1024;
/** libtorrent's limit (INT_MAX / 2): no other client loads a torrent with longer pieces. */
export const MAX_PIECE_LENGTH = 2 ** 30 - 1;

export interface ParseOptions {
  /** Path sanitizing; by default Windows-forbidden characters are replaced only on Windows. */
  sanitize?: SanitizeOptions;
}

function safeAdd(a: number, b: number, what: string): number {
  const sum = a + b;
  if (!Number.isSafeInteger(sum)) fail(`${what} is too large`);
  return sum;
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && Number.isSafeInteger(n) && 2 ** Math.round(Math.log2(n)) === n;
}

/** Parses a complete .torrent file. Throws InputError on anything invalid. */
export function parseTorrent(bytes: Uint8Array, options: ParseOptions = {}): Metainfo {
  const { value, topLevelRanges, end, fileList } = decodeOrFail(bytes, 'file', true, 'info');
  // Many real files end with a newline (editors, some web servers); other trailing bytes
  // suggest a damaged or concatenated file, which is better refused than guessed at.
  for (let i = end; i < bytes.length; i++) {
    if (![0x20, 0x09, 0x0a, 0x0d].includes(bytes[i]))
      fail(`unexpected data after the torrent at byte ${end}`);
  }
  if (!isDict(value)) fail('not a bencoded dictionary');
  const info = get(value, 'info');
  const infoRange = topLevelRanges.get('info');
  if (!isDict(info) || !infoRange) fail("missing 'info' dictionary");
  const layersRange = topLevelRanges.get('piece layers');
  const top: TopLevel = {
    trackers: parseTrackers(value),
    webSeeds: parseWebSeeds(value),
    comment: optionalText(value, 'comment'),
    createdBy: optionalText(value, 'created by'),
    creationDate: parseCreationDate(get(value, 'creation date')),
    pieceLayers: layersRange ? readPieceLayers(bytes, layersRange) : new Map(),
  };
  return parseInfo(bytes.slice(infoRange[0], infoRange[1]), info, top, options, fileList);
}

/**
 * Parses a bare info dictionary (metadata fetched with ut_metadata for a
 * magnet link). v2 piece layers are not part of it and stay empty.
 */
export function parseInfoDict(infoBytes: Uint8Array, options: ParseOptions = {}): Metainfo {
  const { value, fileList } = decodeOrFail(infoBytes, 'info dictionary', false, 'top');
  if (!isDict(value)) fail('info is not a dictionary');
  const top: TopLevel = {
    trackers: [],
    webSeeds: [],
    comment: null,
    createdBy: null,
    creationDate: null,
    pieceLayers: null,
  };
  return parseInfo(Uint8Array.from(infoBytes), value, top, options, fileList);
}

function parseInfo(
  infoBytes: Uint8Array,
  info: BencodeDict,
  top: TopLevel,
  options: ParseOptions,
  fileList: FileListBytes | null,
): Metainfo {
  const sanitizeOptions = options.sanitize ?? { windows: process.platform === 'win32' };

  const pieceLength = get(info, 'piece length');
  if (typeof pieceLength !== 'number' || !Number.isSafeInteger(pieceLength) || pieceLength <= 0) {
    fail("'piece length' is not a positive integer");
  }
  if (pieceLength > MAX_PIECE_LENGTH) {
    fail(`'piece length' ${pieceLength} is over 1 GiB - 1, more than any client loads`);
  }

  // As libtorrent: only a version above 2 is unknown; anything else that is not 2
  // (absent, 1, not a number) is a v1 torrent.
  const metaVersion = get(info, 'meta version');
  const metaNumber = typeof metaVersion === 'number' ? metaVersion : -1;
  if (metaNumber > 2) fail(`unsupported 'meta version' ${metaNumber}`);
  const hasV2 = metaNumber === 2;
  if (!hasV2 && get(info, 'file tree') !== undefined) {
    fail("info has a 'file tree' but no 'meta version' 2");
  }
  if (metaNumber > 0) {
    const unsorted = firstUnsortedKey(infoBytes);
    if (unsorted !== null) {
      fail(
        `info dictionary key '${printable([unsorted])}' is out of order (BEP 52 needs sorted keys)`,
      );
    }
  }
  const pieces = get(info, 'pieces');
  const hasV1 = pieces !== undefined || !hasV2;
  if (hasV1 && !isBytes(pieces))
    fail(pieces === undefined ? "missing 'pieces'" : "'pieces' is not a string");
  if (hasV2 && (!isPowerOfTwo(pieceLength) || pieceLength < BLOCK_SIZE)) {
    fail(`'piece length' ${pieceLength} is not a power of two of at least 16 KiB (required by v2)`);
  }

  const rawName = get(info, 'name');
  const nameUtf8 = get(info, 'name.utf-8');
  const nameVariants = [nameUtf8, rawName].filter(isBytes);
  if (nameVariants.length === 0) {
    fail(rawName === undefined ? "info has no 'name'" : "'name' is not a string");
  }
  const nameBytes = preferredBytes(info, 'name');

  // node:crypto loads on first use only: a small v1 torrent is hashed without it (sha1.ts).
  const infoHash = hasV1 ? sha1(infoBytes) : null;
  const infoHashV2 = hasV2
    ? process.getBuiltinModule('node:crypto').createHash('sha256').update(infoBytes).digest()
    : null;
  // A name that sanitizes to nothing: the directory of a multi-file torrent is then named as
  // libtorrent names it (`_` for an empty name, the info-hash for `..` and the like), so both
  // clients put the data in the same place. A single file refuses such a name below.
  const nameText = nameBytes ? decodeName(nameBytes) : '';
  const name = sanitizeName(
    nameText,
    nameText === '' ? PLACEHOLDER_COMPONENT : toHex((infoHash ?? infoHashV2)!),
    sanitizeOptions,
  );

  const v1 = hasV1 ? parseV1Files(info, nameVariants, fileList, hasV2) : null;
  const v2 = hasV2 ? parseV2Files(infoBytes) : null;
  if (v1 && v2) checkHybrid(v1, v2, pieceLength);
  const layout = v1 ?? v2!;
  // A single file is written under its name: with no usable name there is nothing to call it.
  if (!layout.multiFile) {
    const fileName = v1 ? nameText : v2!.files[0].path[0];
    if (sanitizeComponent(fileName, sanitizeOptions) === null) {
      fail("'name' is empty or not usable as a file name");
    }
  }

  // The files are laid out in place (file-entry.ts `RawFiles`): offsets, then paths.
  // Offsets: v1/hybrid concatenate (padding included); v2-only aligns each non-empty file to a piece.
  const files = layout.files;
  let spaceSize = 0;
  let totalSize = 0;
  for (const file of files) {
    // v2-only: every file starts on a piece boundary, empty ones included, which is where
    // libtorrent puts them too (after the implicit padding of the file before).
    if (!v1) spaceSize = safeAdd(Math.ceil(spaceSize / pieceLength) * pieceLength, 0, 'total size');
    file.offset = spaceSize;
    spaceSize = safeAdd(spaceSize, file.length, 'total size');
    if (!file.padding) totalSize = safeAdd(totalSize, file.length, 'total size');
  }
  // v2-only: the last file is padded to a whole piece too, as libtorrent pads it (a `.pad`
  // file after it): libtorrent asks for that piece whole and must be served it whole.
  if (!v1) spaceSize = safeAdd(Math.ceil(spaceSize / pieceLength) * pieceLength, 0, 'total size');
  const pieceCount = Math.ceil(spaceSize / pieceLength);
  if (totalSize === 0) fail('the torrent has no data (its total size is zero)');
  if (v1 && isBytes(pieces)) {
    if (pieces.length % 20 !== 0) fail(`'pieces' length ${pieces.length} is not a multiple of 20`);
    if (pieces.length / 20 !== pieceCount) {
      fail(`'pieces' has ${pieces.length / 20} hashes but the files need ${pieceCount}`);
    }
  }

  const pieceLayers = new Map<string, Uint8Array>();
  // Before the paths are laid out: its messages name files by their paths in the torrent.
  if (v2) checkPieceLayers(v2.files, pieceLength, top.pieceLayers, pieceLayers);

  // Paths: padding files are never written, so they do not take names from real files.
  for (const file of files) {
    file.path = layout.multiFile
      ? sanitizePathInPlace(file.path, sanitizeOptions, name)
      : [v1 ? name : sanitizeName(file.path[0] ?? '', name, sanitizeOptions)];
  }
  const realFiles = files.filter((file) => !file.padding);
  const unique = disambiguatePaths(realFiles.map((file) => file.path));
  realFiles.forEach((file, i) => {
    // A path that kept its name comes back as the same array.
    if (unique[i] === file.path) return;
    file.renamedFrom = file.path;
    file.path = unique[i] as string[]; // a new array: disambiguatePaths copied it
  });

  // In a hybrid the v2 roots belong to the v1 list's non-padding files, in order.
  if (v1 && v2) realFiles.forEach((file, i) => (file.piecesRoot = v2.files[i].piecesRoot));
  for (const [index, target] of layout.symlinks) {
    const file = files[index];
    if (!file.padding) file.symlinkPath = sanitizeTarget(target, sanitizeOptions);
  }

  const version: TorrentVersion = v1 && v2 ? 'hybrid' : v2 ? 'v2' : 'v1';
  return {
    name,
    infoHash: infoHash ? new Uint8Array(infoHash) : null,
    infoHashV2: infoHashV2 ? new Uint8Array(infoHashV2) : null,
    version,
    multiFile: layout.multiFile,
    pieceLength,
    pieceCount,
    totalSize,
    spaceSize,
    private: get(info, 'private') === 1,
    files,
    pieces: v1 && isBytes(pieces) ? Uint8Array.from(pieces) : null,
    pieceLayers,
    trackers: top.trackers,
    webSeeds: top.webSeeds,
    comment: top.comment,
    createdBy: top.createdBy,
    creationDate: top.creationDate,
    source: optionalText(info, 'source'),
    infoBytes,
  };
}

/**
 * A symlink target's components made safe like a file's (no `..`, no separators), but an
 * empty result stays empty: a link to nowhere is skipped, not pointed at a placeholder.
 */
function sanitizeTarget(components: readonly string[], options: SanitizeOptions): string[] {
  return components.flatMap((component) => sanitizeComponent(component, options) ?? []);
}

/** A hybrid's v1 list (minus padding) and v2 tree must be the same files, aligned to pieces. */
function checkHybrid(v1: RawFiles, v2: RawFiles, pieceLength: number): void {
  // Single/multi-file may differ: a v1 `files` list of one file under `name` and a v2 tree
  // holding that one file describe the same data (the Android-x86 torrent does this, and
  // libtorrent accepts it); the v1 layout, which has the directory, is the one used.
  const real = v1.files.filter((file) => !file.padding);
  if (real.length !== v2.files.length) {
    fail(`hybrid v1 part has ${real.length} files but the v2 tree has ${v2.files.length}`);
  }
  let offset = 0;
  let realIndex = 0;
  for (const [index, file] of v1.files.entries()) {
    if (!file.padding) {
      const other = v2.files[realIndex];
      const label = printable(other.path);
      if (file.length !== other.length) fail(`hybrid v1 and v2 lengths differ for '${label}'`);
      if (!spellings(v1.rawPaths[index]).includes(spellings(v2.rawPaths[realIndex++])[0])) {
        fail(`hybrid v1 and v2 file lists differ at '${label}'`);
      }
      if (file.length > 0 && offset % pieceLength !== 0) {
        fail(`hybrid file '${label}' does not start on a piece boundary`);
      }
    }
    offset += file.length;
  }
}
