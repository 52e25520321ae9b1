/**
 * shoal decodes bencode with its own guarded decoder (src/core/bencode: a
 * strict scan, then values built as views of one copy of the input, or of
 * the input itself with `views: true`, the zero-copy mode .torrent parsing
 * uses). Three references, on every input, valid or not:
 * - accept/refuse: the plain recursive specification in strict-spec.ts, under
 *   the default limits and under small random ones (so the depth, token and
 *   value limits are reached too); a repeated key refused as such;
 * - values: the `bencode` package decodes every accepted input to the same
 *   value (byte strings equal byte for byte, keys, integers);
 * - the two modes: `views` and the copying default agree on everything,
 *   errors included.
 */
import bencode from 'bencode';
import fc from 'fast-check';
import { describe, expect } from 'vitest';
import {
  decodeBencode,
  type BencodeLimits,
  type BencodeValue,
  type DecodeOptions,
} from '../../../src/core/bencode/index.ts';
import { fuzzIt, hex, mutatedFrom } from '../../helpers/fuzz.ts';
import { SPEC_DEFAULTS, specAccepts, type SpecLimits } from './strict-spec.ts';

/** Values the reference encoder writes: strings, integers, lists, dictionaries. */
const arbValue = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: 'small' },
    fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
    fc.constantFrom(2 ** 53 - 1, -(2 ** 53 - 1), 999_999_999_999_999, 0),
    fc.uint8Array({ maxLength: 12 }),
    fc.array(tie('node'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 5 }), tie('node'), { maxKeys: 4 }),
  ),
})).node;

/**
 * Keys written byte by byte: any order, repeats, not always UTF-8 (as `piece layers`), and the
 * spellings that read as one text (`ff` and the byte 0xFF as hex; a leading BOM dropped).
 */
const arbKey = fc.oneof(
  fc.uint8Array({ maxLength: 4 }),
  fc.constantFrom(
    Uint8Array.from([0x66, 0x66]),
    Uint8Array.from([0xff]),
    Uint8Array.from([0x61]),
    Uint8Array.from([0xef, 0xbb, 0xbf, 0x61]),
    Uint8Array.from(Buffer.from('__proto__')),
  ),
);

const arbRawDict = fc
  .array(fc.tuple(arbKey, arbValue), { maxLength: 6 })
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
    // A dictionary inside a list inside a dictionary: keys out of order below the top level.
    arbRawDict.map((bytes) =>
      Uint8Array.from(Buffer.from(`d1:al${bytes.toString('latin1')}ee`, 'latin1')),
    ),
  ),
);

const arbLimits: fc.Arbitrary<SpecLimits> = fc.record({
  maxDepth: fc.integer({ min: 1, max: 6 }),
  maxTokens: fc.integer({ min: 1, max: 40 }),
  freeValues: fc.integer({ min: 0, max: 8 }),
  bytesPerValue: fc.integer({ min: 1, max: 8 }),
});

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

type Outcome =
  | { ok: true; value: BencodeValue; end: number; ranges: [string, [number, number]][] }
  | { ok: false; error: string };

function ours(bytes: Uint8Array, options: DecodeOptions): Outcome {
  try {
    const decoded = decodeBencode(bytes, options);
    return {
      ok: true,
      value: normalise(decoded.value),
      end: decoded.end,
      ranges: [...decoded.topLevelRanges],
    };
  } catch (error) {
    return { ok: false, error: String(error) };
  }
}

/** Decodes both ways, checks the modes agree and the spec's accept/refuse; returns the outcome. */
function check(bytes: Uint8Array, limits: SpecLimits): Outcome {
  const options = { limits: limits satisfies BencodeLimits };
  const copied = ours(bytes, options);
  const viewed = ours(bytes, { ...options, views: true });
  expect(viewed).toEqual(copied);
  const spec = specAccepts(bytes, limits);
  expect({ input: hex(bytes), accepted: copied.ok }).toEqual({
    input: hex(bytes),
    accepted: spec.accepted,
  });
  if (copied.ok && spec.accepted) expect(copied.ranges).toEqual([...spec.ranges]);
  // A repeated key is the scan's to find (in byte order, before anything after it), not left
  // to the later check of keys that only read as the same text.
  if (!copied.ok && !spec.accepted && spec.reason === 'repeated key')
    expect(copied.error).toMatch(/duplicate dictionary key "[^"]*" at byte/);
  return copied;
}

describe('shoal decoder against the specification and the bencode package', () => {
  fuzzIt(
    'every input: accepted exactly when the specification accepts it, and then decoded as the reference does',
    fc.property(arbInput, (bytes) => {
      const outcome = check(bytes, SPEC_DEFAULTS);
      if (outcome.ok) expect(outcome.value).toEqual(reference(bytes));
    }),
  );

  fuzzIt(
    'under small limits too: depth, token and value limits refuse exactly what the specification refuses',
    fc.property(arbInput, arbLimits, (bytes, limits) => {
      check(bytes, limits);
    }),
  );

  fuzzIt(
    'every value the reference encoder writes, shoal accepts and decodes the same way',
    fc.property(arbValue, (value) => {
      const bytes = Uint8Array.from(bencode.encode(value));
      const outcome = check(bytes, SPEC_DEFAULTS);
      expect(outcome.ok && outcome.value).toEqual(reference(bytes));
    }),
  );
});
