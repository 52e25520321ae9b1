import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  checkMetadataSize,
  decodeUtMetadata,
  encodeUtMetadata,
  MAX_METADATA_SIZE,
  METADATA_PIECE_SIZE,
  metadataPieceCount,
  metadataPieceLength,
} from '../../../src/core/metadata/ut-metadata-codec.ts';
import { WireProtocolError } from '../../../src/core/wire/errors.ts';
import { numRuns as FUZZ_RUNS } from '../../helpers/fuzz.ts';

const text = (s: string) => new TextEncoder().encode(s);
const latin1 = (b: Uint8Array) => Buffer.from(b).toString('latin1');

describe('ut_metadata codec', () => {
  it('encodes requests, rejects and data as BEP 9 shows them', () => {
    expect(latin1(encodeUtMetadata({ type: 'request', piece: 0 }))).toBe(
      'd8:msg_typei0e5:piecei0ee',
    );
    expect(latin1(encodeUtMetadata({ type: 'reject', piece: 3 }))).toBe(
      'd8:msg_typei2e5:piecei3ee',
    );
    const data = encodeUtMetadata({ type: 'data', piece: 0, totalSize: 5, data: text('hello') });
    expect(latin1(data)).toBe('d8:msg_typei1e5:piecei0e10:total_sizei5eehello');
  });

  it('decodes a data message with its trailing bytes', () => {
    const decoded = decodeUtMetadata(text('d8:msg_typei1e5:piecei1e10:total_sizei16390eeabcdef'));
    expect(decoded).toMatchObject({ type: 'data', piece: 1, totalSize: 16390 });
    expect(latin1((decoded as { data: Uint8Array }).data)).toBe('abcdef');
  });

  it('ignores unknown message types and extra keys', () => {
    expect(decodeUtMetadata(text('d8:msg_typei7e5:piecei0ee'))).toEqual({
      type: 'unknown',
      msgType: 7,
    });
    expect(decodeUtMetadata(text('d8:msg_typei0e5:piecei2e1:xi5ee'))).toEqual({
      type: 'request',
      piece: 2,
    });
  });

  it('refuses sizes over the cap, pieces out of range and wrong piece lengths', () => {
    const bad = (s: string, metadataSize?: number) =>
      expect(() => decodeUtMetadata(text(s), { metadataSize })).toThrow(WireProtocolError);
    bad(`d8:msg_typei1e5:piecei0e10:total_sizei${MAX_METADATA_SIZE + 1}ee`);
    bad('d8:msg_typei1e5:piecei1e10:total_sizei5eehello'); // piece 1 of a 5-byte dict
    bad('d8:msg_typei1e5:piecei0e10:total_sizei5eehell'); // short
    bad('d8:msg_typei1e5:piecei0e10:total_sizei5eehello!'); // long
    bad('d8:msg_typei1e5:piecei0e10:total_sizei6eehello!', 5); // differs from announced
    bad('d8:msg_typei0e5:piecei9ee', 16384); // request past the end
    bad('d8:msg_typei0e5:piecei-1ee');
    bad('d8:msg_typei0ee'); // no piece
    bad('d5:piecei0ee'); // no msg_type
    bad('li1ee');
    bad('d8:msg_typei0e5:piecei0eexyz'); // trailing bytes on a request
    bad('d8:msg_type');
    bad(`d1:x600:${'a'.repeat(600)}8:msg_typei0e5:piecei0ee`); // oversized dictionary
    // A middle piece must be exactly 16 KiB.
    const middle = new Uint8Array(METADATA_PIECE_SIZE - 1);
    const head = text(`d8:msg_typei1e5:piecei0e10:total_sizei${3 * METADATA_PIECE_SIZE}ee`);
    expect(() => decodeUtMetadata(Buffer.concat([head, middle]))).toThrow(WireProtocolError);
  });

  it('checks announced sizes', () => {
    expect(checkMetadataSize(1)).toBe(1);
    expect(() => checkMetadataSize(0)).toThrow(WireProtocolError);
    expect(() => checkMetadataSize(MAX_METADATA_SIZE + 1)).toThrow(WireProtocolError);
    expect(() => checkMetadataSize(1.5)).toThrow(WireProtocolError);
  });

  it('piece maths', () => {
    expect(metadataPieceCount(1)).toBe(1);
    expect(metadataPieceCount(METADATA_PIECE_SIZE)).toBe(1);
    expect(metadataPieceCount(METADATA_PIECE_SIZE + 1)).toBe(2);
    expect(metadataPieceLength(METADATA_PIECE_SIZE + 1, 1)).toBe(1);
  });

  it('round-trips every valid message', () => {
    const arbData = fc.integer({ min: 1, max: 4 * METADATA_PIECE_SIZE }).chain((totalSize) =>
      fc.integer({ min: 0, max: metadataPieceCount(totalSize) - 1 }).map((piece) => ({
        type: 'data' as const,
        piece,
        totalSize,
        data: new Uint8Array(metadataPieceLength(totalSize, piece)).fill(piece & 0xff),
      })),
    );
    const arb = fc.oneof(
      fc.integer({ min: 0, max: 1023 }).map((piece) => ({ type: 'request' as const, piece })),
      fc.integer({ min: 0, max: 1023 }).map((piece) => ({ type: 'reject' as const, piece })),
      arbData,
    );
    fc.assert(
      fc.property(arb, (message) => {
        const decoded = decodeUtMetadata(encodeUtMetadata(message));
        expect(decoded).toEqual(message);
      }),
      { numRuns: FUZZ_RUNS },
    );
  });

  it('never throws anything but WireProtocolError on garbage, and whatever it accepts is in range', () => {
    const prefix = fc.constantFrom(
      'd8:msg_typei1e5:piecei0e10:total_sizei',
      'd8:msg_typei0e5:piecei',
      'd8:msg_typei',
      'd',
      '',
    );
    fc.assert(
      fc.property(
        prefix,
        fc.uint8Array({ maxLength: 200 }),
        fc.option(fc.integer({ min: 1, max: 100_000 })),
        (p, tail, size) => {
          const payload = Buffer.concat([text(p), tail]);
          try {
            const m = decodeUtMetadata(payload, size === null ? {} : { metadataSize: size });
            if (m.type === 'data') {
              expect(m.totalSize).toBeLessThanOrEqual(MAX_METADATA_SIZE);
              expect(m.data.length).toBe(metadataPieceLength(m.totalSize, m.piece));
            }
          } catch (error) {
            expect(error).toBeInstanceOf(WireProtocolError);
          }
        },
      ),
      { numRuns: FUZZ_RUNS },
    );
  });
});
