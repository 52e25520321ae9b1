/**
 * Property tests of the BEP 3 handshake codec (see test/helpers/fuzz.ts for
 * FUZZ_RUNS / FUZZ_SEED). decodeHandshake never throws: it answers ok,
 * need-more or invalid, and each answer is checked against the bytes here.
 */
import { describe, expect } from 'vitest';
import fc from 'fast-check';
import {
  HANDSHAKE_LENGTH,
  PROTOCOL_STRING,
  decodeHandshake,
  encodeHandshake,
  type Handshake,
} from '../../../src/core/wire/handshake.ts';
import { fuzzIt, hex, mutatedFrom } from '../../helpers/fuzz.ts';
import { concat } from './arbitraries.ts';

const arbHandshake: fc.Arbitrary<Handshake> = fc.record({
  reserved: fc.uint8Array({ minLength: 8, maxLength: 8 }),
  infoHash: fc.uint8Array({ minLength: 20, maxLength: 20 }),
  peerId: fc.uint8Array({ minLength: 20, maxLength: 20 }),
});
const arbRest = fc.uint8Array({ maxLength: 24 });
const header = Uint8Array.of(19, ...new TextEncoder().encode(PROTOCOL_STRING));

describe('handshake codec properties', () => {
  fuzzIt(
    'round-trips: decode(encode(h) + rest) gives h and rest back',
    fc.property(arbHandshake, arbRest, (handshake, rest) => {
      const result = decodeHandshake(concat([encodeHandshake(handshake), rest]));
      expect(result).toEqual({ status: 'ok', handshake, rest });
    }),
  );

  const valid = fc
    .tuple(arbHandshake, arbRest)
    .map(([handshake, rest]) => concat([encodeHandshake(handshake), rest]));

  fuzzIt(
    'anything accepted re-encodes to the bytes read; need-more and invalid say exactly why',
    fc.property(mutatedFrom(valid, 80), (bytes) => {
      const result = decodeHandshake(bytes);
      // The first index where the bytes leave the fixed 20-byte header, if any.
      const checked = Math.min(bytes.length, header.length);
      let mismatch = -1;
      for (let i = 0; i < checked && mismatch < 0; i++) if (bytes[i] !== header[i]) mismatch = i;

      if (result.status === 'ok') {
        const again = concat([encodeHandshake(result.handshake), result.rest]);
        expect(hex(again)).toBe(hex(bytes));
      } else if (result.status === 'need-more') {
        expect(mismatch).toBe(-1);
        expect(result.missing).toBe(HANDSHAKE_LENGTH - bytes.length);
        if (bytes.length >= 48) {
          expect(hex(result.reserved!)).toBe(hex(bytes.subarray(20, 28)));
          expect(hex(result.infoHash!)).toBe(hex(bytes.subarray(28, 48)));
        } else {
          expect(result.infoHash).toBeUndefined();
        }
      } else {
        expect(mismatch).toBeGreaterThanOrEqual(0);
      }
      expect(result.status === 'ok').toBe(mismatch < 0 && bytes.length >= HANDSHAKE_LENGTH);
    }),
  );

  fuzzIt(
    'returned fields are copies: changing the input afterwards changes nothing',
    fc.property(arbHandshake, (handshake) => {
      const bytes = encodeHandshake(handshake);
      const result = decodeHandshake(bytes);
      bytes.fill(0xaa);
      expect(result).toMatchObject({ status: 'ok', handshake });
    }),
  );
});
