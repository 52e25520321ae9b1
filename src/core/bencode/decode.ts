/**
 * Builds JavaScript values from bencoded bytes that `scanBencode` has already
 * proved well-formed and within the limits, without recursion.
 *
 * Memory: the bytes are copied once, and every byte string is a view into
 * that copy rather than a copy with its own ArrayBuffer (which cost about
 * twice as much per string: a torrent of millions of empty strings decoded
 * into a gigabyte). The copy keeps decoded values independent of the
 * caller's buffer, which the network code may reuse.
 */
import type { BencodeDict, BencodeValue } from './index.ts';
import { BencodeError, COLON, DIGIT_0, LETTER_D, LETTER_E, LETTER_I, LETTER_L } from './scan.ts';

const utf8 = new TextDecoder();

/**
 * A dictionary key as text. Keys that are not valid UTF-8 become hex (the
 * convention of the `bencode` package this replaces, which callers rely on).
 * A hex text can equal another key's text; decodeScanned refuses that.
 */
function keyText(bytes: Uint8Array): string {
  // Nearly every key is short ASCII: read it byte by byte instead of a TextDecoder call each
  // (a torrent of 400 000 files has 800 000 keys).
  if (bytes.length <= 64 && isAscii(bytes))
    return String.fromCharCode.apply(null, bytes as unknown as number[]);
  const text = utf8.decode(bytes);
  return text.includes('\uFFFD') ? Buffer.from(bytes).toString('hex') : text;
}

function isAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] > 0x7f) return false;
  return true;
}

type Container = { list: BencodeValue[] } | { dict: BencodeDict; key: string | null };

/** Decodes the value in `bytes[0, end)`, which must have passed `scanBencode`. */
export function decodeScanned(bytes: Uint8Array, end: number): BencodeValue {
  const data = new Uint8Array(end);
  data.set(bytes.subarray(0, end));
  const stack: Container[] = [];
  let pos = 0;
  for (;;) {
    const byte = data[pos];
    let value: BencodeValue;
    if (byte === LETTER_D) {
      stack.push({ dict: {}, key: null });
      pos++;
      continue;
    }
    if (byte === LETTER_L) {
      stack.push({ list: [] });
      pos++;
      continue;
    }
    if (byte === LETTER_E) {
      const done = stack.pop()!;
      value = 'list' in done ? done.list : done.dict;
      pos++;
    } else if (byte === LETTER_I) {
      const close = data.indexOf(LETTER_E, pos);
      value = Number(Buffer.from(data.buffer, pos + 1, close - pos - 1).toString('latin1'));
      pos = close + 1;
    } else {
      let length = 0;
      while (data[pos] !== COLON) length = length * 10 + (data[pos++] - DIGIT_0);
      const string = data.subarray(pos + 1, pos + 1 + length);
      pos += 1 + length;
      const parent = stack.at(-1);
      if (parent && 'dict' in parent && parent.key === null) {
        const key = keyText(string);
        // The scan refuses repeated key bytes; two different byte keys can still read as one
        // text (the bytes "ff" and the non-UTF-8 byte 0xFF, read as hex), and one would be lost.
        if (Object.hasOwn(parent.dict, key)) {
          throw new BencodeError(`duplicate dictionary key "${key.slice(0, 40)}" (as text)`, pos);
        }
        parent.key = key;
        continue;
      }
      value = string;
    }
    const parent = stack.at(-1);
    if (parent === undefined) return value;
    if ('list' in parent) parent.list.push(value);
    else {
      parent.dict[parent.key!] = value;
      parent.key = null;
    }
  }
}
