/**
 * Property tests of the BEP 9 ut_metadata codec. See test/helpers/fuzz.ts
 * for FUZZ_RUNS / FUZZ_SEED.
 *
 * Canonical form: the decoder reads only `msg_type`, `piece` and (for data)
 * `total_size`, in any key order, and ignores other keys. So for an accepted
 * payload, encode(decode(x)) carries the same message and the same trailing
 * data bytes, and equals x byte for byte exactly when x's dictionary holds
 * those keys and no others. Unknown message types (BEP 9: ignore them) have
 * no encoding; they must carry the integer msg_type the payload had.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeBencode, encodeBencode } from '../../../src/core/bencode/index.ts';
import {
  decodeUtMetadata,
  encodeUtMetadata,
  MAX_METADATA_SIZE,
  METADATA_PIECE_SIZE,
  metadataPieceCount,
  metadataPieceLength,
  type UtMetadataMessage,
} from '../../../src/core/metadata/ut-metadata-codec.ts';
import { WireProtocolError } from '../../../src/core/wire/errors.ts';
import { fuzzIt, hex, mutatedFrom } from '../../helpers/fuzz.ts';

/** Total sizes near piece boundaries and small ones, so data stays cheap to generate. */
const arbTotalSize = fc.oneof(
  fc.integer({ min: 1, max: 3 * METADATA_PIECE_SIZE }),
  fc.integer({ min: 1, max: MAX_METADATA_SIZE }),
);

const arbData: fc.Arbitrary<UtMetadataMessage> = arbTotalSize
  .chain((totalSize) =>
    fc.record({
      totalSize: fc.constant(totalSize),
      // The last piece mostly: it is the short one (and the only one for big sizes, so data stays small).
      piece: fc.oneof(
        fc.constant(metadataPieceCount(totalSize) - 1),
        fc.integer({ min: 0, max: metadataPieceCount(totalSize) - 1 }),
      ),
    }),
  )
  .filter(({ totalSize, piece }) => metadataPieceLength(totalSize, piece) <= 2048)
  .chain(({ totalSize, piece }) =>
    fc
      .uint8Array({
        minLength: metadataPieceLength(totalSize, piece),
        maxLength: metadataPieceLength(totalSize, piece),
      })
      .map((data): UtMetadataMessage => ({ type: 'data', piece, totalSize, data })),
  );

const arbMessage: fc.Arbitrary<UtMetadataMessage> = fc.oneof(
  fc
    .integer({ min: 0, max: metadataPieceCount(MAX_METADATA_SIZE) - 1 })
    .map((piece): UtMetadataMessage => ({ type: 'request', piece })),
  fc
    .integer({ min: 0, max: metadataPieceCount(MAX_METADATA_SIZE) - 1 })
    .map((piece): UtMetadataMessage => ({ type: 'reject', piece })),
  arbData,
);

/** Dictionaries with the known keys in any order, extra keys, other types, then raw bytes. */
const arbOddPayload = fc
  .record({
    dict: fc.dictionary(
      fc.constantFrom('msg_type', 'piece', 'total_size', 'x', 'msg_typ'),
      fc.oneof(
        fc.integer({ min: -2, max: 4 }),
        fc.integer({ min: 0, max: 2 * METADATA_PIECE_SIZE }),
        fc.uint8Array({ maxLength: 4 }),
      ),
      { maxKeys: 5 },
    ),
    tail: fc.uint8Array({ maxLength: 40 }),
  })
  .map(({ dict, tail }) => Uint8Array.from([...encodeBencode(dict), ...tail]));

describe('ut_metadata codec properties', () => {
  it('regression: a request past the largest metadata is refused, not accepted unencodable', () => {
    // Found by the re-encoding property below: without a known metadata size the decoder took
    // any piece index, but no metadata has piece 1100 (16 MiB is 1024 pieces) and the encoder
    // threw RangeError on it.
    const bytes = new TextEncoder().encode('d8:msg_typei0e5:piecei1100ee');
    expect(() => decodeUtMetadata(bytes)).toThrow(WireProtocolError);
    const last = new TextEncoder().encode('d8:msg_typei0e5:piecei1023ee');
    expect(decodeUtMetadata(last)).toEqual({ type: 'request', piece: 1023 });
  });

  fuzzIt(
    'round-trips: decode(encode(m)) is m, and re-encoding gives the same bytes',
    fc.property(arbMessage, (message) => {
      const bytes = encodeUtMetadata(message);
      const decoded = decodeUtMetadata(bytes);
      expect(decoded).toEqual(message);
      expect(hex(encodeUtMetadata(decoded))).toBe(hex(bytes));
    }),
  );

  fuzzIt(
    'anything accepted re-encodes to the same message, and to the same bytes when canonical',
    fc.property(
      mutatedFrom(fc.oneof(arbMessage.map(encodeUtMetadata), arbOddPayload), 80),
      fc.option(fc.integer({ min: 1, max: 3 * METADATA_PIECE_SIZE })),
      (bytes, metadataSize) => {
        const options = metadataSize === null ? {} : { metadataSize };
        let message: UtMetadataMessage;
        try {
          message = decodeUtMetadata(bytes, options);
        } catch (error) {
          expect(error).toBeInstanceOf(WireProtocolError);
          expect((error as WireProtocolError).code).toBe('bad-extension');
          return;
        }
        const { value, end } = decodeBencode(bytes, { allowTrailing: true });
        const dict = value as Record<string, unknown>;
        if (message.type === 'unknown') {
          expect(dict['msg_type']).toBe(message.msgType);
          return;
        }
        const again = encodeUtMetadata(message);
        expect(decodeUtMetadata(again, options)).toEqual(message);
        // The data (if any) is exactly the bytes after the dictionary.
        const data = message.type === 'data' ? message.data : new Uint8Array(0);
        expect(hex(data)).toBe(hex(bytes.subarray(end)));
        const known = message.type === 'data' ? 'msg_type,piece,total_size' : 'msg_type,piece';
        if (Object.keys(dict).sort().join() === known) {
          // Canonical unless the keys were out of order: bencode has one spelling per value.
          const sorted = Object.keys(dict).join() === known;
          expect(hex(again) === hex(bytes)).toBe(sorted);
        }
      },
    ),
  );
});
