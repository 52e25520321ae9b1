/**
 * BEP 52 requires the info dictionary of a v2 or hybrid torrent to be
 * canonical bencode: in every dictionary, keys sorted as raw byte strings.
 * libtorrent refuses a v2 info dictionary that is not ("unsorted dictionary
 * key"); a v1 one it hashes as given, and so does shoal (parse.ts).
 *
 * Pure and iterative (no recursion on hostile depth). The bytes must already
 * have passed `scanBencode`, which refuses duplicate keys, leading zeros and
 * every other malformation, so this walk only compares keys.
 */
import { COLON, LETTER_D, LETTER_E, LETTER_I, LETTER_L } from '../bencode/scan.ts';
import { latin1Text } from './text.ts';

/** The first key (as text fit for a message) that is out of order, or null when all are sorted. */
export function firstUnsortedKey(bytes: Uint8Array, start = 0): string | null {
  // One frame per open container: whether it is a dictionary, whether the next item is a key,
  // and the previous key's [start, end) in `bytes`.
  const stack: { dict: boolean; expectKey: boolean; previous: [number, number] | null }[] = [];
  let pos = start;
  do {
    const byte = bytes[pos];
    const frame = stack.at(-1);
    if (byte === LETTER_E) {
      stack.pop();
      pos++;
      finishValue(stack);
      continue;
    }
    if (byte === LETTER_D || byte === LETTER_L) {
      stack.push({ dict: byte === LETTER_D, expectKey: true, previous: null });
      pos++;
      continue;
    }
    if (byte === LETTER_I) {
      pos = bytes.indexOf(LETTER_E, pos) + 1;
      finishValue(stack);
      continue;
    }
    // A string: `<length>:<data>`.
    const colon = bytes.indexOf(COLON, pos);
    const dataStart = colon + 1;
    const dataEnd = dataStart + Number(latin1Text(bytes.subarray(pos, colon)));
    if (frame?.dict && frame.expectKey) {
      if (frame.previous && compareBytes(bytes, frame.previous, [dataStart, dataEnd]) > 0) {
        return latin1Text(bytes.subarray(dataStart, Math.min(dataEnd, dataStart + 40)));
      }
      frame.previous = [dataStart, dataEnd];
    }
    pos = dataEnd;
    finishValue(stack);
  } while (stack.length > 0);
  return null;
}

/** After a complete item: in a dictionary, a key is followed by its value and a value by a key. */
function finishValue(stack: { dict: boolean; expectKey: boolean }[]): void {
  const parent = stack.at(-1);
  if (parent?.dict) parent.expectKey = !parent.expectKey;
}

/** memcmp of two ranges of `bytes`, the shorter first when one is a prefix of the other. */
function compareBytes(bytes: Uint8Array, a: [number, number], b: [number, number]): number {
  const length = Math.min(a[1] - a[0], b[1] - b[0]);
  for (let i = 0; i < length; i++) {
    const difference = bytes[a[0] + i] - bytes[b[0] + i];
    if (difference !== 0) return difference;
  }
  return a[1] - a[0] - (b[1] - b[0]);
}
