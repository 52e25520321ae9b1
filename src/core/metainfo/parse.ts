/**
 * .torrent parsing and validation for v1 (BEP 3), v2 (BEP 52) and hybrid
 * torrents. Everything here is hostile input (DESIGN.md §4): every failure is
 * an InputError with one short line saying what is wrong.
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
import {
  BencodeError,
  decodeBencode,
  defaultBencodeLimits,
  isBytes,
  isDict,
  scanBencode,
  type BencodeDict,
  type BencodeValue,
} from '../bencode/index.ts';
import { InputError } from '../errors.ts';
import {
  HASH_SIZE,
  leavesPerPiece,
  merkleRoot,
  nextPowerOfTwo,
  zeroSubtreeHash,
} from '../digest/merkle.ts';
import {
  PLACEHOLDER_COMPONENT,
  disambiguatePaths,
  sanitizeComponent,
  sanitizeName,
  sanitizePath,
  type SanitizeOptions,
} from './sanitize-path.ts';
import { sha1 } from '../digest/sha1.ts';
import { firstUnsortedKey } from './key-order.ts';
import { decodeName, decodeText, isValidUtf8, latin1Text as latin1, toHex } from './text.ts';
import type { Metainfo, TorrentFile, TorrentVersion } from './types.ts';

export const BLOCK_SIZE = 16 * 1024;
/** libtorrent's limit (INT_MAX / 2): no other client loads a torrent with longer pieces. */
export const MAX_PIECE_LENGTH = 2 ** 30 - 1;
export const MAX_FILES = 1_000_000;
/**
 * Deepest file path, v1 list or v2 tree (for v2 the bencode depth limit caps
 * it too). Real torrents stay far below; without a cap a 120 KB torrent with
 * one 40 000-component path cost minutes and gigabytes to lay out.
 */
export const MAX_PATH_DEPTH = 60;
/** Most bytes in one file's path inside the torrent (components plus separators): Linux's PATH_MAX. */
export const MAX_PATH_BYTES = 4096;
/** Largest creation date kept (9999-12-31T23:59:59Z); later ones are nonsense. */
const MAX_CREATION_DATE = 253_402_300_799;

export interface ParseOptions {
  /** Path sanitizing; by default Windows-forbidden characters are replaced only on Windows. */
  sanitize?: SanitizeOptions;
}

function fail(message: string, cause?: unknown): never {
  throw new InputError(`invalid torrent: ${message}`, cause === undefined ? undefined : { cause });
}

/** Own-property lookup: decoded dictionaries are plain objects, so `constructor` etc. must not leak in. */
function get(dict: BencodeDict, key: string): BencodeValue | undefined {
  return Object.hasOwn(dict, key) ? dict[key] : undefined;
}

/**
 * Decodes without copying (`views`): what parsing keeps of the decoded values is text or
 * explicit copies (`pieces`, piece layers, the info bytes), never a view of the caller's bytes.
 */
function decodeOrFail(bytes: Uint8Array, what: string, allowTrailing = false) {
  try {
    return decodeBencode(bytes, { allowTrailing, views: true });
  } catch (error) {
    if (error instanceof BencodeError)
      fail(`${what} is not valid bencode (${error.message})`, error);
    throw error;
  }
}

/** A file path fit for a one-line error message: no control characters, bounded length. */
function printable(components: readonly string[]): string {
  // eslint-disable-next-line no-control-regex
  const text = components.join('/').replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '?');
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function isLength(value: BencodeValue | undefined): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function safeAdd(a: number, b: number, what: string): number {
  const sum = a + b;
  if (!Number.isSafeInteger(sum)) fail(`${what} is too large`);
  return sum;
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && Number.isSafeInteger(n) && 2 ** Math.round(Math.log2(n)) === n;
}

/** Prefer the `.utf-8` variant of a string field when it is present and valid (BitComet writes both). */
function preferredBytes(dict: BencodeDict, key: string): Uint8Array | null {
  const utf8 = get(dict, `${key}.utf-8`);
  if (isBytes(utf8) && isValidUtf8(utf8)) return utf8;
  const plain = get(dict, key);
  return isBytes(plain) ? plain : null;
}

function optionalText(dict: BencodeDict, key: string): string | null {
  const bytes = preferredBytes(dict, key);
  return bytes === null ? null : decodeText(bytes);
}

/** A file as the metainfo describes it, before sanitizing. */
interface RawFile {
  /** Decoded components relative to the torrent's top directory (single-file: the file name). */
  components: string[];
  /** The raw byte spellings of the path (latin1-joined) it may be compared by in a hybrid. */
  spellings: string[];
  length: number;
  attr: string;
  padding: boolean;
  piecesRoot: Uint8Array | null;
  /** BEP 47 symlink target as decoded components (not yet sanitized); null if not a symlink. */
  symlink: string[] | null;
}

function spelling(components: readonly Uint8Array[]): string {
  return JSON.stringify(components.map(latin1));
}

/** BitComet's padding files, recognised by name anywhere in their path (as libtorrent does). */
function isLegacyPadding(components: readonly string[]): boolean {
  return components.some((component) => component.includes('_____padding_file_'));
}

function parseAttr(value: BencodeValue | undefined): string {
  return isBytes(value) ? latin1(value) : '';
}

/**
 * BEP 47 `symlink path` of an entry whose attr has `l`: its decoded components,
 * or null when it has none (then, as in libtorrent, the entry is an ordinary
 * empty file). A list holding anything but strings is refused.
 */
function parseSymlinkPath(value: BencodeValue | undefined, what: string): string[] | null {
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
function entryLength(
  attr: string,
  value: BencodeValue | number | null | undefined,
  what: string,
): number {
  if (attr.includes('l')) return 0;
  if (!isLength(value ?? undefined)) fail(`${what} has no valid 'length'`);
  return value as number;
}

// ---- v1 -------------------------------------------------------------------

/** Bytes of a path written with `/` between its components. */
function pathBytes(components: readonly Uint8Array[]): number {
  let bytes = Math.max(components.length - 1, 0);
  for (const component of components) bytes += component.length;
  return bytes;
}

/** Refuses paths no file system can hold before anything costs more than a pass over them. */
function checkPathSize(depth: number, bytes: number, what: string): void {
  if (depth > MAX_PATH_DEPTH) fail(`${what} has a path deeper than ${MAX_PATH_DEPTH}`);
  if (bytes > MAX_PATH_BYTES) fail(`${what} has a path longer than ${MAX_PATH_BYTES} bytes`);
}

function parseV1Files(
  info: BencodeDict,
  nameBytes: Uint8Array[],
): {
  files: RawFile[];
  multiFile: boolean;
} {
  const length = get(info, 'length');
  const list = get(info, 'files');
  if (length !== undefined && list !== undefined) fail("info has both 'length' and 'files'");
  if (list === undefined) {
    const attr = parseAttr(get(info, 'attr'));
    if (length === undefined && !attr.includes('l')) fail("info has neither 'length' nor 'files'");
    if (!attr.includes('l') && !isLength(length)) fail("'length' is not a non-negative integer");
    return {
      multiFile: false,
      files: [
        {
          components: [],
          spellings: nameBytes.map((bytes) => spelling([bytes])),
          length: entryLength(attr, length, 'the file'),
          attr,
          padding: attr.includes('p'),
          piecesRoot: null,
          symlink: attr.includes('l')
            ? parseSymlinkPath(get(info, 'symlink path'), 'the file')
            : null,
        },
      ],
    };
  }
  if (!Array.isArray(list)) fail("'files' is not a list");
  if (list.length === 0) fail("'files' is empty");
  if (list.length > MAX_FILES) fail(`more than ${MAX_FILES} files`);
  const files: RawFile[] = [];
  for (const [index, entry] of list.entries()) {
    if (!isDict(entry)) fail(`file ${index} is not a dictionary`);
    const attr = parseAttr(get(entry, 'attr'));
    const fileLength = entryLength(attr, get(entry, 'length'), `file ${index}`);
    const variants: Uint8Array[][] = [];
    for (const key of ['path.utf-8', 'path']) {
      const path = get(entry, key);
      if (Array.isArray(path) && path.every(isBytes)) {
        checkPathSize(path.length, pathBytes(path), `file ${index}`);
        variants.push(path);
      }
    }
    const utf8 = variants.find((v) => v.length > 0 && v.every(isValidUtf8));
    const chosen = utf8 ?? variants.find((v) => v.length > 0);
    let components: string[];
    if (chosen !== undefined) components = chosen.map(decodeName);
    // BEP 47 pad files need no path; libtorrent files them under `.pad/<length>`.
    else if (attr.includes('p')) components = ['.pad', String(fileLength)];
    else if (variants.length > 0) fail(`file ${index} has an empty 'path'`);
    else fail(`file ${index} has no valid 'path'`);
    const symlink = attr.includes('l')
      ? parseSymlinkPath(get(entry, 'symlink path'), `file ${index}`)
      : null;
    files.push({
      components,
      spellings: variants.map(spelling),
      length: fileLength,
      attr,
      padding: attr.includes('p') || isLegacyPadding(components),
      piecesRoot: null,
      symlink,
    });
  }
  return { files, multiFile: true };
}

// ---- v2 -------------------------------------------------------------------

const LETTER_D = 0x64;

/** The keys (raw bytes as latin1) and value ranges of the dictionary starting at `start`. */
function dictEntries(
  bytes: Uint8Array,
  start: number,
  what: string,
): Map<string, [number, number]> {
  if (bytes[start] !== LETTER_D) fail(`${what} is not a dictionary`);
  return scanBencode(bytes, defaultBencodeLimits, start).topLevelRanges;
}

const LETTER_E = 0x65;
const LETTER_I = 0x69;
const COLON = 0x3a;

/** The [start, end) of the data of the (already validated) byte string at `pos`, and what follows it. */
function stringAt(bytes: Uint8Array, pos: number): { start: number; end: number } {
  let colon = pos;
  while (bytes[colon] !== COLON) colon++;
  const length = Number(latin1(bytes.subarray(pos, colon)));
  return { start: colon + 1, end: colon + 1 + length };
}

/**
 * Walks the BEP 52 file tree in its byte order (the order files occupy the
 * piece space) in one iterative pass over the original bytes, which the
 * bencode scan has already validated. Names come from the raw key bytes: the
 * generic decoder turns non-UTF-8 keys into hex, which could merge two names.
 */
function parseV2Files(infoBytes: Uint8Array): { files: RawFile[]; multiFile: boolean } {
  const treeRange = scanBencode(infoBytes).topLevelRanges.get('file tree');
  if (!treeRange) fail("v2 info has no 'file tree'");
  if (infoBytes[treeRange[0]] !== LETTER_D) fail("'file tree' is not a dictionary");
  const files: RawFile[] = [];
  const stack: { keys: string[]; bytes: number; file: boolean; children: boolean }[] = [
    { keys: [], bytes: -1, file: false, children: false },
  ];
  let pos = treeRange[0] + 1;
  while (stack.length > 0) {
    const node = stack[stack.length - 1];
    if (infoBytes[pos] === LETTER_E) {
      if (node.file && node.children) fail('file tree entry is both a file and a directory');
      stack.pop();
      pos++;
      continue;
    }
    const keyRange = stringAt(infoBytes, pos);
    const key = latin1(infoBytes.subarray(keyRange.start, keyRange.end));
    pos = keyRange.end;
    if (key === '') {
      if (node.keys.length === 0) fail("'file tree' root is a file");
      if (files.length >= MAX_FILES) fail(`more than ${MAX_FILES} files`);
      const end = scanBencode(infoBytes, defaultBencodeLimits, pos).end;
      files.push(parseV2Leaf(infoBytes, pos, node.keys));
      node.file = true;
      pos = end;
      continue;
    }
    node.children = true;
    if (infoBytes[pos] !== LETTER_D) fail('file tree entry is not a dictionary');
    const bytes = node.bytes + 1 + key.length;
    checkPathSize(node.keys.length + 1, bytes, `file tree entry '${printable([key])}'`);
    stack.push({ keys: [...node.keys, key], bytes, file: false, children: false });
    pos++;
  }
  if (files.length === 0) fail("'file tree' has no files");
  // A tree holding one file at its top level is a single-file torrent.
  const multiFile = !(files.length === 1 && files[0].components.length === 1);
  return { files, multiFile };
}

/** A leaf `{length, pieces root, attr}` read straight from its validated bytes. */
function parseV2Leaf(infoBytes: Uint8Array, start: number, keys: string[]): RawFile {
  const components = keys.map((key) => decodeName(Buffer.from(key, 'latin1')));
  const label = printable(components);
  if (infoBytes[start] !== LETTER_D) fail(`file tree entry '${label}' is not a dictionary`);
  const entries = scanBencode(infoBytes, defaultBencodeLimits, start).topLevelRanges;
  const integer = (range: [number, number] | undefined) =>
    range && infoBytes[range[0]] === LETTER_I
      ? Number(latin1(infoBytes.subarray(range[0] + 1, range[1] - 1)))
      : null;
  const string = (range: [number, number] | undefined) => {
    if (!range || infoBytes[range[0]] === LETTER_I || infoBytes[range[0]] === LETTER_D) return null;
    if (infoBytes[range[0]] === 0x6c) return null; // a list
    const { start: from, end } = stringAt(infoBytes, range[0]);
    return infoBytes.subarray(from, end);
  };
  const attrBytes = string(entries.get('attr'));
  const attr = attrBytes ? latin1(attrBytes) : '';
  // v2 aligns every file to a piece itself: a pad file there can only be a mistake or a trick.
  if (attr.includes('p')) fail(`v2 file '${label}' has the padding attribute`);
  const length = entryLength(attr, integer(entries.get('length')), `file '${label}'`);
  let piecesRoot: Uint8Array | null = null;
  if (length > 0) {
    const root = string(entries.get('pieces root'));
    if (root === null || root.length !== 32) fail(`file '${label}' has no 32-byte 'pieces root'`);
    // All zeros is what a creator writes before hashing: no data can have that root.
    if (root.every((byte) => byte === 0)) fail(`file '${label}' has an all-zero 'pieces root'`);
    piecesRoot = Uint8Array.from(root);
  }
  let symlink: string[] | null = null;
  const symlinkRange = entries.get('symlink path');
  if (attr.includes('l') && symlinkRange) {
    const { value } = decodeOrFail(infoBytes.subarray(...symlinkRange), `file '${label}'`);
    symlink = parseSymlinkPath(value, `file '${label}'`);
  }
  return {
    components,
    spellings: [JSON.stringify(keys)],
    length,
    attr,
    padding: false,
    piecesRoot,
    symlink,
  };
}

/** The merkle root over a piece layer, padded to a power of two as BEP 52 specifies. */
export function pieceLayerRoot(layer: Uint8Array, pieceLength: number): Buffer {
  const pieces = Math.floor(layer.length / HASH_SIZE);
  const pad = zeroSubtreeHash(leavesPerPiece(pieceLength));
  const root = merkleRoot(layer.subarray(0, pieces * HASH_SIZE), nextPowerOfTwo(pieces), pad);
  return Buffer.from(root);
}

/** `piece layers`: raw 32-byte root -> layer bytes, read from the original bytes (keys are binary). */
function readPieceLayers(bytes: Uint8Array, range: [number, number]): Map<string, Uint8Array> {
  const layers = new Map<string, Uint8Array>();
  for (const [key, [start, end]] of dictEntries(bytes, range[0], "'piece layers'")) {
    const { value } = decodeOrFail(bytes.subarray(start, end), "'piece layers'");
    if (!isBytes(value)) fail("a 'piece layers' entry is not a string");
    if (key.length !== 32) continue;
    layers.set(Buffer.from(key, 'latin1').toString('hex'), value);
  }
  return layers;
}

// ---- common ---------------------------------------------------------------

interface TopLevel {
  trackers: string[][];
  webSeeds: string[];
  comment: string | null;
  createdBy: string | null;
  creationDate: Date | null;
  /** Raw `piece layers`, or null when the source cannot have them (magnet metadata). */
  pieceLayers: Map<string, Uint8Array> | null;
}

function urlText(value: BencodeValue): string | null {
  if (!isBytes(value)) return null;
  const text = decodeText(value).trim();
  return text === '' ? null : text;
}

/**
 * BEP 12 tiers, else the lone `announce`. Every non-empty string is kept
 * (scheme filtering belongs to the tracker client, which must refuse
 * anything but http/https/udp anyway); duplicates keep their first place.
 * A tier written as a bare string (seen in the wild) counts as one URL.
 */
export function parseTrackers(top: BencodeDict): string[][] {
  const seen = new Set<string>();
  const tiers: string[][] = [];
  const take = (items: BencodeValue[]) => {
    const tier: string[] = [];
    for (const item of items) {
      const url = urlText(item);
      if (url === null || seen.has(url)) continue;
      seen.add(url);
      tier.push(url);
    }
    if (tier.length > 0) tiers.push(tier);
  };
  const list = get(top, 'announce-list');
  if (Array.isArray(list)) {
    for (const tier of list) take(Array.isArray(tier) ? tier : [tier]);
  }
  if (tiers.length === 0) {
    const announce = get(top, 'announce');
    if (announce !== undefined) take([announce]);
  }
  return tiers;
}

/**
 * BEP 19 `url-list`: a string or a list of strings; anything else is ignored.
 * BEP 17 `httpseeds` is ignored on purpose: it is a different protocol (a
 * script answering piece requests) that shoal does not speak.
 */
export function parseWebSeeds(top: BencodeDict): string[] {
  const value = get(top, 'url-list');
  const items = Array.isArray(value) ? value : value === undefined ? [] : [value];
  const seeds: string[] = [];
  for (const item of items) {
    const url = urlText(item);
    if (url !== null && !seeds.includes(url)) seeds.push(url);
  }
  return seeds;
}

function parseCreationDate(value: BencodeValue | undefined): Date | null {
  // 0 is what several tools write for "unknown"; negative and far-future values are garbage.
  if (typeof value !== 'number' || value <= 0 || value > MAX_CREATION_DATE) return null;
  return new Date(value * 1000);
}

/** Parses a complete .torrent file. Throws InputError on anything invalid. */
export function parseTorrent(bytes: Uint8Array, options: ParseOptions = {}): Metainfo {
  const { value, topLevelRanges, end } = decodeOrFail(bytes, 'file', true);
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
  return parseInfo(bytes.slice(infoRange[0], infoRange[1]), info, top, options);
}

/**
 * Parses a bare info dictionary (metadata fetched with ut_metadata for a
 * magnet link). v2 piece layers are not part of it and stay empty.
 */
export function parseInfoDict(infoBytes: Uint8Array, options: ParseOptions = {}): Metainfo {
  const { value } = decodeOrFail(infoBytes, 'info dictionary');
  if (!isDict(value)) fail('info is not a dictionary');
  const top: TopLevel = {
    trackers: [],
    webSeeds: [],
    comment: null,
    createdBy: null,
    creationDate: null,
    pieceLayers: null,
  };
  return parseInfo(Uint8Array.from(infoBytes), value, top, options);
}

function parseInfo(
  infoBytes: Uint8Array,
  info: BencodeDict,
  top: TopLevel,
  options: ParseOptions,
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

  const v1 = hasV1 ? parseV1Files(info, nameVariants) : null;
  const v2 = hasV2 ? parseV2Files(infoBytes) : null;
  if (v1 && v2) checkHybrid(v1, v2, pieceLength);
  const layout = v1 ?? v2!;
  // A single file is written under its name: with no usable name there is nothing to call it.
  if (!layout.multiFile) {
    const fileName = v1 ? nameText : v2!.files[0].components[0];
    if (sanitizeComponent(fileName, sanitizeOptions) === null) {
      fail("'name' is empty or not usable as a file name");
    }
  }

  // Offsets: v1/hybrid concatenate (padding included); v2-only aligns each non-empty file to a piece.
  const rawFiles = layout.files;
  const offsets: number[] = [];
  let spaceSize = 0;
  let totalSize = 0;
  for (const file of rawFiles) {
    // v2-only: every file starts on a piece boundary, empty ones included, which is where
    // libtorrent puts them too (after the implicit padding of the file before).
    if (!v1) spaceSize = safeAdd(Math.ceil(spaceSize / pieceLength) * pieceLength, 0, 'total size');
    offsets.push(spaceSize);
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
  if (v2) checkPieceLayers(v2.files, pieceLength, top.pieceLayers, pieceLayers);

  // Paths: padding files are never written, so they do not take names from real files.
  const paths = rawFiles.map((file) =>
    layout.multiFile
      ? [name, ...sanitizePath(file.components, sanitizeOptions)]
      : [v1 ? name : sanitizeName(file.components[0] ?? '', name, sanitizeOptions)],
  );
  const realIndexes = rawFiles.flatMap((file, index) => (file.padding ? [] : [index]));
  const unique = disambiguatePaths(realIndexes.map((index) => paths[index]));
  const renamedFrom = new Map<number, string[]>();
  realIndexes.forEach((fileIndex, i) => {
    if (unique[i].join('/') !== paths[fileIndex].join('/'))
      renamedFrom.set(fileIndex, paths[fileIndex]);
    paths[fileIndex] = unique[i];
  });

  // In a hybrid the v2 roots belong to the v1 list's non-padding files, in order.
  const roots = v1 && v2 ? v2.files.map((file) => file.piecesRoot) : null;
  let rootIndex = 0;
  const files: TorrentFile[] = rawFiles.map((file, index) => ({
    path: paths[index],
    length: file.length,
    offset: offsets[index],
    padding: file.padding,
    attr: file.attr,
    piecesRoot: roots ? (file.padding ? null : roots[rootIndex++]) : file.piecesRoot,
    ...(renamedFrom.has(index) ? { renamedFrom: renamedFrom.get(index) } : {}),
    ...(file.symlink && !file.padding
      ? { symlinkPath: sanitizeTarget(file.symlink, sanitizeOptions) }
      : {}),
  }));

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
function checkHybrid(
  v1: { files: RawFile[] },
  v2: { files: RawFile[] },
  pieceLength: number,
): void {
  // Single/multi-file may differ: a v1 `files` list of one file under `name` and a v2 tree
  // holding that one file describe the same data (the Android-x86 torrent does this, and
  // libtorrent accepts it); the v1 layout, which has the directory, is the one used.
  const real = v1.files.filter((file) => !file.padding);
  if (real.length !== v2.files.length) {
    fail(`hybrid v1 part has ${real.length} files but the v2 tree has ${v2.files.length}`);
  }
  let offset = 0;
  let realIndex = 0;
  for (const file of v1.files) {
    if (!file.padding) {
      const other = v2.files[realIndex++];
      const label = printable(other.components);
      if (file.length !== other.length) fail(`hybrid v1 and v2 lengths differ for '${label}'`);
      if (!file.spellings.includes(other.spellings[0])) {
        fail(`hybrid v1 and v2 file lists differ at '${label}'`);
      }
      if (file.length > 0 && offset % pieceLength !== 0) {
        fail(`hybrid file '${label}' does not start on a piece boundary`);
      }
    }
    offset += file.length;
  }
}

function checkPieceLayers(
  files: RawFile[],
  pieceLength: number,
  given: Map<string, Uint8Array> | null,
  out: Map<string, Uint8Array>,
): void {
  for (const file of files) {
    if (file.length <= pieceLength || file.piecesRoot === null) continue;
    const key = toHex(file.piecesRoot);
    const layer = given?.get(key);
    const label = printable(file.components);
    // Missing: fetched from peers before downloading (see session/piece-layer-fetcher.ts).
    if (layer === undefined) continue;
    const expected = Math.ceil(file.length / pieceLength) * 32;
    if (layer.length !== expected) {
      fail(`piece layer for '${label}' is ${layer.length} bytes, expected ${expected}`);
    }
    if (!pieceLayerRoot(layer, pieceLength).equals(file.piecesRoot)) {
      fail(`piece layer for '${label}' does not match its pieces root`);
    }
    out.set(key, Uint8Array.from(layer));
  }
}
