/**
 * Builds JavaScript values from bencoded bytes that `scanBencode` has already
 * proved well-formed and within the limits, without recursion.
 *
 * Every byte string is a view (subarray) of one buffer rather than a copy
 * with its own ArrayBuffer (which cost about twice as much per string: a
 * torrent of millions of empty strings decoded into a gigabyte). By default
 * that buffer is a copy of the input, which keeps decoded values independent
 * of the caller's buffer (the network code reuses its buffers); `views: true`
 * skips the copy for callers that own their bytes and keep nothing that
 * points into them (parsing a .torrent read from a file).
 *
 * Large torrents are mostly dictionary keys (a torrent of 400 000 files has
 * 800 000 of them, nearly all `length` and `path`): a key whose bytes equal the
 * last key of the same length reuses that key's text, so most keys cost a
 * comparison of a few bytes and no allocation.
 */
import type { BencodeDict, BencodeValue } from './index.ts';
import { BencodeError, COLON, DIGIT_0, LETTER_D, LETTER_E, LETTER_I, LETTER_L } from './scan.ts';

const utf8 = new TextDecoder();
const MINUS = 0x2d;
/** Keys up to this many bytes go through the per-length cache and the ASCII fast path. */
const SHORT_KEY = 64;

/**
 * Dictionary keys as text. Keys that are not valid UTF-8 become hex (the
 * convention of the `bencode` package this replaces, which callers rely on).
 * A hex text can equal another key's text; decodeScanned refuses that.
 */
class KeyTexts {
  /** By key length: where the last short ASCII key of that length starts, and its text. */
  private readonly lastStart: number[] = new Array<number>(SHORT_KEY + 1).fill(-1);
  private readonly lastText: string[] = new Array<string>(SHORT_KEY + 1).fill('');

  private readonly data: Uint8Array;

  constructor(data: Uint8Array) {
    this.data = data;
  }

  text(start: number, end: number): string {
    const { data } = this;
    const length = end - start;
    if (length > SHORT_KEY) return fullText(data.subarray(start, end));
    const cached = this.lastStart[length];
    if (cached >= 0 && sameBytes(data, start, cached, length)) return this.lastText[length];
    let text = '';
    for (let i = start; i < end; i++) {
      if (data[i] > 0x7f) return fullText(data.subarray(start, end));
      text += String.fromCharCode(data[i]);
    }
    this.lastStart[length] = start;
    this.lastText[length] = text;
    return text;
  }
}

function fullText(bytes: Uint8Array): string {
  const text = utf8.decode(bytes);
  return text.includes('\uFFFD') ? Buffer.from(bytes).toString('hex') : text;
}

function sameBytes(data: Uint8Array, a: number, b: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (data[a + i] !== data[b + i]) return false;
  return true;
}

/** The integer `i...e` at `pos` (already checked: canonical, at most 16 digits, safe). */
function integerAt(data: Uint8Array, pos: number, close: number): number {
  const negative = data[pos + 1] === MINUS;
  const first = negative ? pos + 2 : pos + 1;
  // Up to 15 digits the sum is exact; a 16th could round, so those go through Number().
  if (close - first > 15) return Number(Buffer.from(data.subarray(pos + 1, close)).toString());
  let value = 0;
  for (let i = first; i < close; i++) value = value * 10 + (data[i] - DIGIT_0);
  return negative ? -value : value;
}

export interface BuildOptions {
  /** Byte strings are views of `bytes` itself, not of a copy. Default false. */
  views?: boolean;
  /** Where the value starts (default 0); offsets, in errors too, stay those of `bytes`. */
  start?: number;
  /**
   * The [start, end) of one value inside to leave out, key and all: its reader reads it from
   * the bytes itself (a .torrent's `files` list, without an object per file).
   */
  skip?: readonly [number, number];
}

/** Decodes the value in `bytes[start, end)`, which must have passed `scanBencode`. */
export function decodeScanned(
  bytes: Uint8Array,
  end: number,
  options: BuildOptions = {},
): BencodeValue {
  // A plain Uint8Array either way: a Buffer's subarray costs several times more.
  const data = options.views
    ? new Uint8Array(bytes.buffer, bytes.byteOffset, end)
    : Uint8Array.from(bytes.subarray(0, end));
  const keys = new KeyTexts(data);
  // The open lists and dictionaries, innermost last, and for each dictionary the key
  // waiting for its value (null when the next string is a key; unused for lists).
  const open: (BencodeValue[] | BencodeDict)[] = [];
  const pendingKey: (string | null)[] = [];
  let pos = options.start ?? 0;
  const [skipStart, skipEnd] = options.skip ?? [-1, -1];
  for (;;) {
    if (pos === skipStart) {
      // A value position (a range never starts at a key): drop the key that waited for it.
      pos = skipEnd;
      pendingKey[pendingKey.length - 1] = null;
      continue;
    }
    const byte = data[pos];
    let value: BencodeValue;
    if (byte === LETTER_D || byte === LETTER_L) {
      open.push(byte === LETTER_D ? {} : []);
      pendingKey.push(null);
      pos++;
      continue;
    }
    if (byte === LETTER_E) {
      value = open.pop()!;
      pendingKey.pop();
      pos++;
    } else if (byte === LETTER_I) {
      const close = data.indexOf(LETTER_E, pos);
      value = integerAt(data, pos, close);
      pos = close + 1;
    } else {
      let length = 0;
      while (data[pos] !== COLON) length = length * 10 + (data[pos++] - DIGIT_0);
      const start = pos + 1;
      pos = start + length;
      const inner = open.length - 1;
      const parent = open[inner];
      if (parent !== undefined && !Array.isArray(parent) && pendingKey[inner] === null) {
        const key = keys.text(start, pos);
        // The scan refuses repeated key bytes; two different byte keys can still read as one
        // text (the bytes "ff" and the non-UTF-8 byte 0xFF, read as hex), and one would be lost.
        if (Object.hasOwn(parent, key)) {
          throw new BencodeError(`duplicate dictionary key "${key.slice(0, 40)}" (as text)`, pos);
        }
        pendingKey[inner] = key;
        continue;
      }
      value = data.subarray(start, pos);
    }
    const depth = open.length - 1;
    if (depth < 0) return value;
    const parent = open[depth];
    if (Array.isArray(parent)) parent.push(value);
    else {
      parent[pendingKey[depth]!] = value;
      pendingKey[depth] = null;
    }
  }
}
