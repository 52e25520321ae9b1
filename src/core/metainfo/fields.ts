/**
 * Reading fields of hostile metainfo (DESIGN.md §4): the one way to fail
 * (an InputError with one short line), own-property lookups, guarded
 * decoding, and text fit for an error message. Shared by the v1 and v2 file
 * parsers and the validation in parse.ts.
 */
import {
  BencodeError,
  decodeBencode,
  isBytes,
  type BencodeDict,
  type BencodeValue,
} from '../bencode/index.ts';
import { InputError } from '../errors.ts';
import { decodeText, isValidUtf8 } from './text.ts';

export function fail(message: string, cause?: unknown): never {
  throw new InputError(`invalid torrent: ${message}`, cause === undefined ? undefined : { cause });
}

/** Own-property lookup: decoded dictionaries are plain objects, so `constructor` etc. must not leak in. */
export function get(dict: BencodeDict, key: string): BencodeValue | undefined {
  return Object.hasOwn(dict, key) ? dict[key] : undefined;
}

/** A v1 `files` list left undecoded: its [start, end) in `bytes`, for files-v1-list.ts. */
export interface FileListBytes {
  bytes: Uint8Array;
  range: [number, number];
}

/**
 * Decodes without copying (`views`): what parsing keeps of the decoded values is text or
 * explicit copies (`pieces`, piece layers, the info bytes), never a view of the caller's bytes.
 *
 * `filesIn` leaves the v1 `files` list of the info dictionary (the top-level one, or the one
 * under `info`) out of the decoded value, returned as `fileList` to be read from the bytes: an
 * object per file, a list and views per path cost a 400 000-file torrent most of its parse time
 * and memory. Only when every key is ASCII: then the raw reader sees exactly the keys the
 * decoder would (a non-ASCII key can decode to `length`, or two to one text, which the decoder
 * refuses), and otherwise the list is decoded as before.
 */
export function decodeOrFail(
  bytes: Uint8Array,
  what: string,
  allowTrailing = false,
  filesIn: 'top' | 'info' | null = null,
) {
  try {
    const decoded = decodeBencode(bytes, {
      allowTrailing,
      views: true,
      nestedKey: filesIn === 'info' ? 'info' : undefined,
      skip: (scan) => {
        if (filesIn === null || !scan.asciiKeys) return null;
        const ranges = filesIn === 'info' ? scan.nestedRanges : scan.topLevelRanges;
        return ranges.get('files') ?? null;
      },
    });
    const fileList: FileListBytes | null = decoded.skipped
      ? { bytes, range: decoded.skipped }
      : null;
    return { ...decoded, fileList };
  } catch (error) {
    if (error instanceof BencodeError)
      fail(`${what} is not valid bencode (${error.message})`, error);
    throw error;
  }
}

/** A file path fit for a one-line error message: no control characters, bounded length. */
export function printable(components: readonly string[]): string {
  // eslint-disable-next-line no-control-regex
  const text = components.join('/').replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '?');
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export function isLength(value: BencodeValue | undefined): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Prefer the `.utf-8` variant of a string field when it is present and valid (BitComet writes both). */
export function preferredBytes(dict: BencodeDict, key: string): Uint8Array | null {
  const utf8 = get(dict, `${key}.utf-8`);
  if (isBytes(utf8) && isValidUtf8(utf8)) return utf8;
  const plain = get(dict, key);
  return isBytes(plain) ? plain : null;
}

export function optionalText(dict: BencodeDict, key: string): string | null {
  const bytes = preferredBytes(dict, key);
  return bytes === null ? null : decodeText(bytes);
}
