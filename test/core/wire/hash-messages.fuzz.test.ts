/**
 * Property tests of the BEP 52 hash message codec (hash-messages.ts). See
 * test/helpers/fuzz.ts for FUZZ_RUNS / FUZZ_SEED.
 *
 * The codec is exact (no field is dropped or clamped), so: every valid
 * message round-trips byte for byte, and any payload the decoder accepts
 * re-encodes to the very bytes it was read from. Anything else is a
 * WireProtocolError, never another exception.
 */
import { describe, expect } from 'vitest';
import fc from 'fast-check';
import { WireProtocolError } from '../../../src/core/wire/errors.ts';
import {
  decodeHashMessage,
  encodeHashMessage,
  MAX_LAYERS,
  uncleCount,
  type HashMessage,
} from '../../../src/core/wire/hash-messages.ts';
import { fuzzIt, hex, mutatedFrom } from '../../helpers/fuzz.ts';

const ID_OF = { 'hash-request': 21, hashes: 22, 'hash-reject': 23 } as const;

const arbRange = fc.record({
  piecesRoot: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  baseLayer: fc.integer({ min: 0, max: MAX_LAYERS }),
  index: fc.integer({ min: 0, max: 0xffff }),
  // Small lengths keep the generated messages small; the limits have their own tests.
  length: fc.integer({ min: 1, max: 16 }),
  proofLayers: fc.integer({ min: 0, max: 12 }),
});

const arbMessage: fc.Arbitrary<HashMessage> = fc.oneof(
  arbRange.map((range) => ({ type: 'hash-request' as const, ...range })),
  arbRange.map((range) => ({ type: 'hash-reject' as const, ...range })),
  arbRange.chain((range) =>
    fc
      .record({
        hashes: fc.uint8Array({ minLength: range.length * 32, maxLength: range.length * 32 }),
        uncles: fc.uint8Array({
          minLength: uncleCount(range) * 32,
          maxLength: uncleCount(range) * 32,
        }),
      })
      .map(({ hashes, uncles }) => ({ type: 'hashes' as const, ...range, hashes, uncles })),
  ),
);

describe('hash message codec properties', () => {
  fuzzIt(
    'round-trips: decode(encode(m)) is m',
    fc.property(arbMessage, (message) => {
      const frame = encodeHashMessage(message);
      expect(decodeHashMessage(ID_OF[message.type], frame.subarray(5))).toEqual(message);
    }),
  );

  fuzzIt(
    'anything accepted re-encodes to the same bytes; anything refused is a WireProtocolError',
    fc.property(
      fc.constantFrom(21, 22, 23),
      mutatedFrom(
        arbMessage.map((message) => encodeHashMessage(message).subarray(5)),
        120,
      ),
      (id, payload) => {
        let decoded: HashMessage;
        try {
          decoded = decodeHashMessage(id, payload);
        } catch (error) {
          expect(error).toBeInstanceOf(WireProtocolError);
          return;
        }
        expect(ID_OF[decoded.type]).toBe(id);
        expect(hex(encodeHashMessage(decoded).subarray(5))).toBe(hex(payload));
      },
    ),
  );
});
