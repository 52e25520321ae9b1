/**
 * shoal decodes bencode with its own decoder (src/core/bencode/decode.ts:
 * views into one copy, no recursion), built for memory on huge torrents; the
 * `bencode` package stays the reference. Differential property: on every input
 * shoal accepts, the reference decodes the same value (byte strings equal
 * byte for byte, dictionary keys equal, integers equal). Inputs shoal refuses
 * are the guarded decoder's business (limits, canonical integers, duplicate
 * keys), tested in bencode.fuzz.test.ts.
 */
import bencode from 'bencode';
import fc from 'fast-check';
import { describe, expect } from 'vitest';
import { decodeBencode, type BencodeValue } from '../../../src/core/bencode/index.ts';
import { fuzzIt, mutatedFrom } from '../../helpers/fuzz.ts';

/** Values the reference encoder writes: strings, integers, lists, dictionaries. */
const arbValue = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: 'small' },
    fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
    fc.uint8Array({ maxLength: 12 }),
    fc.array(tie('node'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 5 }), tie('node'), { maxKeys: 4 }),
  ),
})).node;

/** Dictionaries written byte by byte: keys in any order and not always UTF-8 (as `piece layers`). */
const arbRawDict = fc
  .array(fc.tuple(fc.uint8Array({ maxLength: 4 }), arbValue), { maxLength: 4 })
  .map((entries) =>
    Buffer.concat([
      Buffer.from('d'),
      ...entries.map(([key, value]) =>
        Buffer.concat([Buffer.from(`${key.length}:`), key, Buffer.from(bencode.encode(value))]),
      ),
      Buffer.from('e'),
    ]),
  );

const arbInput = mutatedFrom(
  fc.oneof(
    arbValue.map((value) => Uint8Array.from(bencode.encode(value))),
    arbRawDict.map((bytes) => Uint8Array.from(bytes)),
  ),
);

/**
 * The reference's value in shoal's shape: dictionary keys come back from
 * `bencode` as text when they are UTF-8 and as hex otherwise, as in shoal.
 */
function normalise(value: unknown): BencodeValue {
  if (typeof value === 'number') return value;
  if (value instanceof Uint8Array) return Uint8Array.from(value);
  if (Array.isArray(value)) return value.map(normalise);
  const dict: Record<string, BencodeValue> = {};
  for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
    dict[key] = normalise(inner);
  }
  return dict;
}

function reference(bytes: Uint8Array): BencodeValue {
  return normalise(bencode.decode(Buffer.from(bytes)));
}

function ours(bytes: Uint8Array): BencodeValue | null {
  try {
    return normalise(decodeBencode(bytes).value);
  } catch {
    return null;
  }
}

describe('shoal decoder against the bencode package', () => {
  fuzzIt(
    'every input shoal accepts decodes to the same value with the reference decoder',
    fc.property(arbInput, (bytes) => {
      const mine = ours(bytes);
      if (mine === null) return;
      expect(mine).toEqual(reference(bytes));
    }),
  );

  fuzzIt(
    'every value the reference encoder writes, shoal accepts and decodes the same way',
    fc.property(arbValue, (value) => {
      const bytes = Uint8Array.from(bencode.encode(value));
      expect(ours(bytes)).toEqual(reference(bytes));
    }),
  );
});
