/**
 * The v1 `files` list read straight from the bytes the bencode scan has
 * validated, as files-v2.ts reads the v2 tree: no decoded dictionary, list
 * and byte views per file, only the few strings each file keeps. A
 * 400 000-file torrent spent most of its parse time and memory building
 * (and collecting) those objects.
 *
 * It must accept and refuse exactly what the decoded-object reader
 * (`parseV1FileEntries` in files-v1.ts) does, with the same messages;
 * test/core/metainfo/files-v1-list.fuzz.test.ts compares the two. It is used
 * only when every key in the torrent is ASCII (fields.ts `decodeOrFail`), so
 * a key's bytes are its text.
 */
import { decodeScanned } from '../bencode/decode.ts';
import { COLON, DIGIT_0, LETTER_D, LETTER_E, LETTER_I, LETTER_L, MINUS } from '../bencode/scan.ts';
import { isBytes } from '../bencode/index.ts';
import {
  MAX_FILES,
  checkPathSize,
  entryLength,
  isLegacyPadding,
  parseSymlinkPath,
  rawFile,
  type RawFiles,
} from './file-entry.ts';
import { fail } from './fields.ts';
import { decodeName, isValidUtf8 } from './text.ts';
import { InputError } from '../errors.ts';

/** The entry keys read (`ListReader.knownKey`'s answers), in KEY_BYTES' order. */
const LENGTH = 0;
const PATH = 1;
const PATH_UTF8 = 2;
const ATTR = 3;
const SYMLINK_PATH = 4;

/** `pathVariant`'s answer for a value that is not a list of strings. */
const NOT_A_PATH = -1;

/** Reads the validated bytes of one list; `bytes` must have passed scanBencode. */
class ListReader {
  readonly bytes: Uint8Array;
  /** The same memory as a Buffer, for its native latin1 slicing (no view per string). */
  private readonly buffer: Buffer;
  /** `internedName`'s table: ASCII names and where the bytes of each start. */
  private readonly interned = new Array<string | undefined>(INTERN_SLOTS);
  private readonly internedAt = new Int32Array(INTERN_SLOTS);

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  isString(pos: number): boolean {
    const byte = this.bytes[pos];
    return byte >= DIGIT_0 && byte <= DIGIT_0 + 9;
  }

  /** Where the data of the string at `pos` starts (after the colon). */
  stringStart(pos: number): number {
    const { bytes } = this;
    while (bytes[pos] !== COLON) pos++;
    return pos + 1;
  }

  /** The length of the string at `pos`. */
  stringLength(pos: number): number {
    const { bytes } = this;
    let length = 0;
    while (bytes[pos] !== COLON) length = length * 10 + (bytes[pos++] - DIGIT_0);
    return length;
  }

  /** The offset just past the value at `pos`, without building it. */
  skip(pos: number): number {
    const { bytes } = this;
    let depth = 0;
    do {
      const byte = bytes[pos];
      if (byte === LETTER_D || byte === LETTER_L) {
        depth++;
        pos++;
      } else if (byte === LETTER_E) {
        depth--;
        pos++;
      } else if (byte === LETTER_I) pos = this.integerEnd(pos) + 1;
      else {
        const length = this.stringLength(pos);
        pos = this.stringStart(pos) + length;
      }
    } while (depth > 0);
    return pos;
  }

  /**
   * The offset of the `e` closing the integer at `pos`. A loop, not `indexOf`: Buffer's goes
   * through a JavaScript wrapper and a native call, which cost more than the few digits.
   */
  private integerEnd(pos: number): number {
    const { bytes } = this;
    while (bytes[pos] !== LETTER_E) pos++;
    return pos;
  }

  /** The integer at `pos` (canonical and safe: the scan checked), or null if it is not one. */
  integer(pos: number): number | null {
    const { bytes } = this;
    if (bytes[pos] !== LETTER_I) return null;
    const close = this.integerEnd(pos);
    const negative = bytes[pos + 1] === MINUS;
    // 16 digits may round when summed: Number() reads those exactly as the decoder does.
    if (close - pos - 1 > 15) return Number(this.buffer.toString('latin1', pos + 1, close));
    let value = 0;
    for (let i = negative ? pos + 2 : pos + 1; i < close; i++)
      value = value * 10 + (bytes[i] - DIGIT_0);
    return negative ? -value : value;
  }

  /** The bytes of the string at `pos` as latin1 text. */
  latin1(pos: number): string {
    const start = this.stringStart(pos);
    return this.buffer.toString('latin1', start, start + this.stringLength(pos));
  }

  /** The string at `pos` as a file name (decodeName), without a view for ASCII ones. */
  name(pos: number): string {
    const start = this.stringStart(pos);
    const end = start + this.stringLength(pos);
    const { bytes } = this;
    for (let i = start; i < end; i++)
      if (bytes[i] > 0x7f) return decodeName(bytes.subarray(start, end));
    return this.buffer.toString('latin1', start, end);
  }

  /**
   * `name`, the same string each time for the same bytes, for the directory components every
   * file repeats: a 400 000-file torrent in 1000 directories makes 1000 strings, not 400 000
   * (fewer to allocate and keep, and the path checks hash each one once). A small table keyed
   * by a hash of the bytes; a slot holds the last name that hashed there.
   */
  internedName(pos: number): string {
    const start = this.stringStart(pos);
    const end = start + this.stringLength(pos);
    const { bytes } = this;
    if (end - start > INTERN_MAX_BYTES) return this.name(pos);
    let hash = 0x811c9dc5;
    for (let i = start; i < end; i++) {
      if (bytes[i] > 0x7f) return this.name(pos);
      hash = Math.imul(hash ^ bytes[i], 0x01000193);
    }
    const slot = hash & (INTERN_SLOTS - 1);
    const known = this.interned[slot];
    if (known !== undefined && known.length === end - start) {
      const from = this.internedAt[slot];
      let same = true;
      for (let i = 0; i < known.length && same; i++) same = bytes[from + i] === bytes[start + i];
      if (same) return known;
    }
    const text = this.buffer.toString('latin1', start, end);
    this.interned[slot] = text;
    this.internedAt[slot] = start;
    return text;
  }

  /** The string at `pos` is valid UTF-8. */
  isUtf8(pos: number): boolean {
    const start = this.stringStart(pos);
    const end = start + this.stringLength(pos);
    const { bytes } = this;
    for (let i = start; i < end; i++)
      if (bytes[i] > 0x7f) return isValidUtf8(bytes.subarray(start, end));
    return true;
  }

  /** The offset of the first item of the list at `pos`; items run until a byte `e`. */
  firstItem(pos: number): number {
    return pos + 1;
  }

  atEnd(pos: number): boolean {
    return this.bytes[pos] === LETTER_E;
  }

  /** The key string at `pos` as one of the known entry keys (its index in KEY_BYTES), or -1. */
  knownKey(pos: number): number {
    const length = this.stringLength(pos);
    const start = this.stringStart(pos);
    for (let k = 0; k < KEY_BYTES.length; k++) {
      if (KEY_BYTES[k].length === length && this.equals(start, KEY_BYTES[k])) return k;
    }
    return -1;
  }

  private equals(start: number, key: Uint8Array): boolean {
    for (let i = 0; i < key.length; i++) if (this.bytes[start + i] !== key[i]) return false;
    return true;
  }

  /** The value at `pos` as the generic decoder builds it (for what is rare: symlinks, hybrids). */
  decoded(pos: number) {
    return decodeScanned(this.bytes, this.skip(pos), { views: true, start: pos });
  }
}

/** `ListReader.internedName`: slots (a power of two), and the longest name worth the hashing. */
const INTERN_SLOTS = 4096;
const INTERN_MAX_BYTES = 64;

/** The entry keys read, as bytes (keys are compared without making a string of each). */
const KEY_BYTES = ['length', 'path', 'path.utf-8', 'attr', 'symlink path'].map((key) =>
  Buffer.from(key, 'latin1'),
);

/**
 * The files of the list at `start` of `bytes`. `keepRawPaths`: also keep each path's raw
 * spellings (as byte views), which only a hybrid's check against its v2 tree needs.
 */
export function readV1FileList(bytes: Uint8Array, start: number, keepRawPaths: boolean): RawFiles {
  const reader = new ListReader(bytes);
  if (bytes[start] !== LETTER_L) fail("'files' is not a list");
  if (bytes[start + 1] === LETTER_E) fail("'files' is empty");
  const out: RawFiles = { files: [], rawPaths: [], symlinks: new Map() };
  const { files } = out;
  let pos = start + 1;
  try {
    while (bytes[pos] !== LETTER_E) {
      if (files.length === MAX_FILES) fail(`more than ${MAX_FILES} files`);
      pos = readEntry(reader, pos, out, keepRawPaths);
    }
  } catch (error) {
    // The decoded reader refuses a list over the limit before looking at any entry.
    if (error instanceof InputError && files.length < MAX_FILES) {
      let count = files.length;
      for (; bytes[pos] !== LETTER_E; pos = reader.skip(pos)) {
        if (++count > MAX_FILES) fail(`more than ${MAX_FILES} files`);
      }
    }
    throw error;
  }
  return out;
}

/** Reads the entry at `pos` into `out`; returns the offset after it. */
function readEntry(reader: ListReader, pos: number, out: RawFiles, keepRawPaths: boolean): number {
  const { bytes } = reader;
  const index = out.files.length;
  if (bytes[pos] !== LETTER_D) fail(`file ${index} is not a dictionary`);
  // Where each known key's value starts, -1 when absent: locals, not an object per entry.
  let lengthAt = -1;
  let pathAt = -1;
  let pathUtf8At = -1;
  let attrAt = -1;
  let symlinkPathAt = -1;
  pos++;
  while (bytes[pos] !== LETTER_E) {
    const key = reader.knownKey(pos);
    pos = reader.stringStart(pos) + reader.stringLength(pos);
    if (key === LENGTH) lengthAt = pos;
    else if (key === PATH) pathAt = pos;
    else if (key === PATH_UTF8) pathUtf8At = pos;
    else if (key === ATTR) attrAt = pos;
    else if (key === SYMLINK_PATH) symlinkPathAt = pos;
    pos = reader.skip(pos);
  }
  const end = pos + 1;

  const attr = attrAt >= 0 && reader.isString(attrAt) ? reader.latin1(attrAt) : '';
  const fileLength = entryLength(attr, lengthAt >= 0 ? reader.integer(lengthAt) : null, index);
  // `path.utf-8` first, as the decoded reader tries them: the first non-empty one that is all
  // UTF-8, else the first non-empty one. With one non-empty variant (nearly every torrent has
  // only `path`) that one is chosen either way, so its names are not checked for UTF-8.
  const utf8Count = pathUtf8At >= 0 ? pathVariant(reader, pathUtf8At, index) : NOT_A_PATH;
  const plainCount = pathAt >= 0 ? pathVariant(reader, pathAt, index) : NOT_A_PATH;
  const utf8Usable = utf8Count > 0;
  const plainUsable = plainCount > 0;
  const chosen =
    utf8Usable && (!plainUsable || allUtf8(reader, pathUtf8At))
      ? pathUtf8At
      : plainUsable && (!utf8Usable || allUtf8(reader, pathAt))
        ? pathAt
        : utf8Usable
          ? pathUtf8At
          : -1;
  let components: string[];
  if (chosen >= 0) {
    const count = chosen === pathAt ? plainCount : utf8Count;
    // Sized up front (an array grown by push from empty reserves room for 17), with one slot
    // more than the path needs, then cut to the path: V8 keeps that slot as spare capacity,
    // so parse.ts puts the torrent's name in front in place (sanitize-path.ts
    // `sanitizePathInPlace`) instead of copying the path into a second array per file.
    components = new Array<string>(count + 1);
    let item = reader.firstItem(chosen);
    const last = count - 1;
    for (let i = 0; i < last; i++, item = reader.skip(item))
      components[i] = reader.internedName(item);
    components[last] = reader.name(item);
    components.length = count;
  }
  // BEP 47 pad files need no path; libtorrent files them under `.pad/<length>`.
  else if (attr.includes('p')) components = ['.pad', String(fileLength)];
  else if (utf8Count !== NOT_A_PATH || plainCount !== NOT_A_PATH)
    fail(`file ${index} has an empty 'path'`);
  else fail(`file ${index} has no valid 'path'`);
  const symlink = attr.includes('l')
    ? parseSymlinkPath(
        symlinkPathAt >= 0 ? reader.decoded(symlinkPathAt) : undefined,
        `file ${index}`,
      )
    : null;
  if (symlink !== null) out.symlinks.set(index, symlink);
  if (keepRawPaths) {
    const variants: Uint8Array[][] = [];
    if (utf8Count !== NOT_A_PATH) variants.push(rawPath(reader, pathUtf8At));
    if (plainCount !== NOT_A_PATH) variants.push(rawPath(reader, pathAt));
    out.rawPaths.push(variants);
  }
  const padding = attr.includes('p') || isLegacyPadding(components);
  out.files.push(rawFile(components, fileLength, attr, padding, null));
  return end;
}

/** How many items the list at `pos` has if every one is a string (its size checked), else NOT_A_PATH. */
function pathVariant(reader: ListReader, pos: number, index: number): number {
  if (reader.bytes[pos] !== LETTER_L) return NOT_A_PATH;
  let count = 0;
  let size = 0;
  for (let item = reader.firstItem(pos); !reader.atEnd(item); item = reader.skip(item)) {
    if (!reader.isString(item)) return NOT_A_PATH;
    size += reader.stringLength(item);
    count++;
  }
  // Components plus the `/` between them, as file-entry.ts `pathBytes` counts.
  checkPathSize(count, size + Math.max(count - 1, 0), index);
  return count;
}

function rawPath(reader: ListReader, list: number): Uint8Array[] {
  const value = reader.decoded(list);
  return Array.isArray(value) ? value.filter(isBytes) : [];
}

function allUtf8(reader: ListReader, list: number): boolean {
  for (let item = reader.firstItem(list); !reader.atEnd(item); item = reader.skip(item))
    if (!reader.isUtf8(item)) return false;
  return true;
}
