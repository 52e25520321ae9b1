/**
 * Property tests of the guarded bencode decoder (src/core/bencode). See
 * test/helpers/fuzz.ts for FUZZ_RUNS / FUZZ_SEED.
 *
 * The decoder accepts exactly one spelling of each integer and string
 * (no leading zeros, no -0), but two freedoms of dictionaries that the
 * encoder does not reproduce: keys in any order (real .torrent files have
 * unsorted keys, and info-hashes are taken over the original bytes), and
 * keys that are not valid UTF-8 (decoded as the hex of their bytes, as
 * `piece layers` needs). So the canonical form is: an accepted input whose
 * dictionaries all have keys in ascending byte order, each valid UTF-8
 * without U+FFFD, re-encodes to exactly the bytes read; any accepted input
 * decodes with every key it had (no two keys merge), and re-encoding its
 * value decodes to the same value.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  BencodeError,
  decodeBencode,
  encodeBencode,
  type BencodeValue,
} from '../../../src/core/bencode/index.ts';
import { fuzzIt, hex, mutatedFrom } from '../../helpers/fuzz.ts';

const arbValue = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: 'small' },
    fc.maxSafeInteger(),
    fc.integer({ min: -1000, max: 1000 }),
    fc.uint8Array({ maxLength: 12 }),
    fc.array(tie('node'), { maxLength: 4 }),
    fc.dictionary(
      fc
        .oneof(fc.string({ maxLength: 6 }), fc.string({ maxLength: 4, unit: 'grapheme' }))
        .filter((k) => k !== '__proto__' && !k.includes('\uFFFD')),
      tie('node'),
      { maxKeys: 4 },
    ),
  ),
})).node as fc.Arbitrary<BencodeValue>;

/** Raw dictionaries with unsorted and binary keys, written byte by byte. */
const arbRawDict = fc
  .array(
    fc.tuple(
      fc.oneof(
        fc.uint8Array({ maxLength: 3 }),
        fc.constantFrom(Uint8Array.of(0xff), Buffer.from('ff'), Buffer.from('a'), Buffer.from('b')),
      ),
      fc.integer({ min: 0, max: 9 }),
    ),
    { maxLength: 4 },
  )
  .map((entries) =>
    Buffer.concat([
      Buffer.from('d'),
      ...entries.map(([key, n]) =>
        Buffer.concat([Buffer.from(`${key.length}:`), key, Buffer.from(`i${n}e`)]),
      ),
      Buffer.from('e'),
    ]),
  );

/**
 * Walks the raw bytes of an accepted value (the test's own reader, independent
 * of the decoder): whether it is canonical, and each dictionary's key count.
 */
function inspect(bytes: Uint8Array): { canonical: boolean; dictKeyCounts: number[] } {
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  let canonical = true;
  const dictKeyCounts: number[] = [];
  let pos = 0;
  const readString = (): Buffer => {
    const colon = bytes.indexOf(0x3a, pos);
    const length = Number(Buffer.from(bytes.subarray(pos, colon)).toString('latin1'));
    pos = colon + 1 + length;
    return Buffer.from(bytes.subarray(colon + 1, pos));
  };
  const walk = (): void => {
    const byte = bytes[pos]!;
    if (byte === 0x69) pos = bytes.indexOf(0x65, pos) + 1;
    else if (byte === 0x6c) {
      pos++;
      while (bytes[pos] !== 0x65) walk();
      pos++;
    } else if (byte === 0x64) {
      pos++;
      let previous: Buffer | null = null;
      let count = 0;
      while (bytes[pos] !== 0x65) {
        const key = readString();
        if (previous && Buffer.compare(previous, key) >= 0) canonical = false;
        try {
          if (utf8.decode(key).includes('\uFFFD')) canonical = false;
        } catch {
          canonical = false;
        }
        previous = key;
        count++;
        walk();
      }
      dictKeyCounts.push(count);
      pos++;
    } else readString();
  };
  walk();
  return { canonical, dictKeyCounts };
}

function dictKeyCounts(value: BencodeValue): number[] {
  if (value instanceof Uint8Array || typeof value === 'number') return [];
  if (Array.isArray(value)) return value.flatMap(dictKeyCounts);
  const counts = Object.values(value).flatMap(dictKeyCounts);
  return [...counts, Object.keys(value).length];
}

const sorted = (counts: number[]): number[] => [...counts].sort((a, b) => a - b);

describe('bencode properties', () => {
  it('regression: an integer-like key ("0") keeps its value and count though JS lists it first', () => {
    // Found by the 1 000 000-input run: d 0:de 1:0 d0:i0ee e. Object.keys puts "0" before "",
    // which once made the key-count property compare nested dictionaries out of order.
    const bytes = Buffer.from('d0:de1:0d0:i0eee', 'latin1');
    const { value } = decodeBencode(bytes);
    expect(Object.keys(value as object).sort()).toEqual(['', '0']);
    expect(sorted(dictKeyCounts(value))).toEqual([0, 1, 2]);
    expect(hex(encodeBencode(value))).toBe(hex(bytes));
  });

  it('regression: two keys that decode to the same text are refused, not merged', () => {
    // Found by the key-count property below: the key bytes "ff" and the one byte 0xFF (not
    // UTF-8, so read as its hex "ff") passed the byte-wise duplicate check and then
    // silently overwrote one another in the decoded dictionary.
    const bytes = Buffer.from('d2:ffi0e1:\xffi1ee', 'latin1');
    expect(() => decodeBencode(bytes)).toThrowError(BencodeError);
    expect(() => decodeBencode(bytes)).toThrowError(/duplicate dictionary key/);
  });

  fuzzIt(
    'round-trips: decode(encode(v)) is v, and re-encoding gives the same bytes',
    fc.property(arbValue, (value) => {
      const bytes = encodeBencode(value);
      const decoded = decodeBencode(bytes).value;
      expect(decoded).toEqual(value);
      expect(hex(encodeBencode(decoded))).toBe(hex(bytes));
    }),
  );

  fuzzIt(
    'anything accepted keeps every key, and re-encodes to the bytes read when canonical',
    fc.property(
      mutatedFrom(
        fc.oneof(
          arbValue.map((v) => encodeBencode(v)),
          arbRawDict,
        ),
        40,
      ),
      (bytes) => {
        let value: BencodeValue;
        try {
          value = decodeBencode(bytes).value;
        } catch (error) {
          expect(error).toBeInstanceOf(BencodeError);
          return;
        }
        const raw = inspect(bytes);
        // Compared as multisets: a JS object lists integer-like keys ("0") before the others,
        // so the decoded walk may visit nested dictionaries in another order than the bytes.
        expect(sorted(dictKeyCounts(value))).toEqual(sorted(raw.dictKeyCounts));
        const again = encodeBencode(value);
        if (raw.canonical) expect(hex(again)).toBe(hex(bytes));
        expect(decodeBencode(again).value).toEqual(value);
      },
    ),
  );

  fuzzIt(
    'a value followed by anything: allowTrailing stops exactly where the value ends',
    fc.property(arbValue, fc.uint8Array({ maxLength: 8 }), (value, tail) => {
      const bytes = encodeBencode(value);
      const decoded = decodeBencode(Buffer.concat([bytes, tail]), { allowTrailing: true });
      expect(decoded.end).toBe(bytes.length);
      expect(decoded.value).toEqual(value);
    }),
  );
});
