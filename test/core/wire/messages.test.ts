import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { WireDecoder } from '../../../src/core/wire/decoder.ts';
import {
  encodeMessage,
  encodePieceHeader,
  encodeRequests,
  type WireMessage,
} from '../../../src/core/wire/messages.ts';
import { FUZZ_RUNS, arbMessage, concat } from './arbitraries.ts';

function decodeAll(bytes: Uint8Array): WireMessage[] {
  const decoder = new WireDecoder();
  decoder.push(bytes);
  return [...decoder];
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('encodeMessage', () => {
  it('produces the exact bytes of each message type', () => {
    const cases: [WireMessage, string][] = [
      [{ type: 'keep-alive' }, '00000000'],
      [{ type: 'choke' }, '0000000100'],
      [{ type: 'unchoke' }, '0000000101'],
      [{ type: 'interested' }, '0000000102'],
      [{ type: 'not-interested' }, '0000000103'],
      [{ type: 'have', index: 0x01020304 }, '000000050401020304'],
      [{ type: 'bitfield', bytes: Uint8Array.of(0xff, 0x80) }, '0000000305ff80'],
      [
        { type: 'request', index: 1, begin: 0x4000, length: 0x4000 },
        '0000000d06000000010000400000004000',
      ],
      [
        { type: 'piece', index: 2, begin: 3, block: Uint8Array.of(0xaa, 0xbb) },
        '0000000b070000000200000003aabb',
      ],
      [{ type: 'cancel', index: 1, begin: 2, length: 3 }, '0000000d08000000010000000200000003'],
      [{ type: 'port', port: 6881 }, '00000003091ae1'],
      [{ type: 'suggest', index: 7 }, '000000050d00000007'],
      [{ type: 'have-all' }, '000000010e'],
      [{ type: 'have-none' }, '000000010f'],
      [{ type: 'reject', index: 1, begin: 2, length: 3 }, '0000000d10000000010000000200000003'],
      [{ type: 'allowed-fast', index: 0xffffffff }, '0000000511ffffffff'],
      [{ type: 'extended', id: 3, payload: Uint8Array.of(0x64, 0x65) }, '0000000414036465'],
    ];
    for (const [msg, expected] of cases) {
      expect(hex(encodeMessage(msg)), msg.type).toBe(expected);
      expect(decodeAll(encodeMessage(msg)), msg.type).toEqual([msg]);
    }
  });

  it('round-trips every message type through the decoder', () => {
    fc.assert(
      fc.property(arbMessage, (msg) => {
        expect(decodeAll(encodeMessage(msg))).toEqual([msg]);
      }),
      { numRuns: FUZZ_RUNS },
    );
  });

  it('encodes a piece header that prefixes the block without copying it', () => {
    const block = Uint8Array.from({ length: 100 }, (_, i) => i);
    const header = encodePieceHeader(9, 16384, block.length);
    expect(header.length).toBe(13);
    expect(concat([header, block])).toEqual(
      encodeMessage({ type: 'piece', index: 9, begin: 16384, block }),
    );
  });

  it('encodes many requests into one buffer, equal to the messages one by one', () => {
    const blocks = [
      { index: 0, begin: 0, length: 16384 },
      { index: 7, begin: 49152, length: 1000 },
      { index: 2 ** 32 - 1, begin: 16384, length: 16384 },
    ];
    const batch = encodeRequests(blocks);
    const oneByOne = concat(blocks.map((block) => encodeMessage({ type: 'request', ...block })));
    expect(batch).toEqual(oneByOne);
    expect(decodeAll(batch)).toEqual(blocks.map((block) => ({ type: 'request', ...block })));
    expect(encodeRequests([]).length).toBe(0);
    expect(() => encodeRequests([{ index: -1, begin: 0, length: 1 }])).toThrow(RangeError);
  });

  it('refuses values that do not fit the wire fields', () => {
    expect(() => encodeMessage({ type: 'have', index: -1 })).toThrow(RangeError);
    expect(() => encodeMessage({ type: 'have', index: 2 ** 32 })).toThrow(RangeError);
    expect(() => encodeMessage({ type: 'request', index: 0, begin: 0.5, length: 1 })).toThrow(
      RangeError,
    );
    expect(() => encodeMessage({ type: 'port', port: 65536 })).toThrow(RangeError);
    expect(() => encodeMessage({ type: 'extended', id: 256, payload: new Uint8Array() })).toThrow(
      RangeError,
    );
  });
});
