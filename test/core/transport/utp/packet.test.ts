/** The BEP 29 packet codec: every type, the extension chain, selective acks, and hostile bytes. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodePacket,
  encodePacket,
  EXTENSION_SELECTIVE_ACK,
  HEADER_LENGTH,
  looksLikeUtp,
  PacketType,
  type Packet,
} from '../../../../src/core/transport/utp/packet.ts';
import { fuzzIt, hex, mutatedFrom } from '../../../helpers/fuzz.ts';

const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });

const arbPacket: fc.Arbitrary<Packet> = fc
  .record({
    type: fc.constantFrom(...Object.values(PacketType)),
    connectionId: u16,
    timestamp: u32,
    timestampDiff: u32,
    windowSize: u32,
    seq: u16,
    ack: u16,
    selectiveAck: fc.option(
      fc
        .integer({ min: 1, max: 8 })
        .chain((words) => fc.uint8Array({ minLength: words * 4, maxLength: words * 4 })),
      { nil: undefined },
    ),
    otherExtensions: fc.option(
      fc.array(
        fc.record({
          type: fc.integer({ min: 2, max: 255 }),
          data: fc.uint8Array({ maxLength: 40 }),
        }),
        { minLength: 1, maxLength: 3 },
      ),
      { nil: undefined },
    ),
    payload: fc.uint8Array({ maxLength: 200 }),
  })
  .map((packet) => {
    const out: Packet = {
      ...packet,
      payload: packet.type === PacketType.DATA ? packet.payload : new Uint8Array(0),
    };
    if (out.selectiveAck === undefined) delete out.selectiveAck;
    if (out.otherExtensions === undefined) delete out.otherExtensions;
    return out;
  });

/** A packet's fields with byte arrays as hex, so equality ignores Buffer vs Uint8Array. */
function plain(packet: Packet): Record<string, unknown> {
  return {
    ...packet,
    selectiveAck: packet.selectiveAck && hex(packet.selectiveAck),
    otherExtensions: packet.otherExtensions?.map((extension) => ({
      ...extension,
      data: hex(extension.data),
    })),
    payload: hex(packet.payload),
  };
}

describe('uTP packet codec', () => {
  it('encodes a header exactly as BEP 29 lays it out', () => {
    const bytes = encodePacket({
      type: PacketType.DATA,
      connectionId: 0x1234,
      timestamp: 0x01020304,
      timestampDiff: 0x05060708,
      windowSize: 0x000a0000,
      seq: 0xfffe,
      ack: 0x0102,
      selectiveAck: Uint8Array.from([0x05, 0, 0, 0x80]),
      payload: Buffer.from('hi'),
    });
    expect(bytes.toString('hex')).toBe(
      // type 0 ver 1 | ext 1 | conn id | ts | ts diff | wnd | seq | ack
      '01011234' +
        '01020304' +
        '05060708' +
        '000a0000' +
        'fffe0102' +
        // next ext 0, length 4, mask; then the payload
        '0004' +
        '05000080' +
        '6869',
    );
  });

  it('decodes each of the five packet types', () => {
    for (const type of Object.values(PacketType)) {
      const decoded = decodePacket(
        encodePacket({
          type,
          connectionId: 7,
          timestamp: 1,
          timestampDiff: 2,
          windowSize: 3,
          seq: 4,
          ack: 5,
          payload: new Uint8Array(0),
        }),
      );
      expect(decoded.ok && decoded.packet.type).toBe(type);
    }
  });

  it('rejects what is not a well-formed packet, saying why', () => {
    const valid = encodePacket({
      type: PacketType.STATE,
      connectionId: 1,
      timestamp: 0,
      timestampDiff: 0,
      windowSize: 0,
      seq: 0,
      ack: 0,
      payload: new Uint8Array(0),
    });
    const cases: [string, Uint8Array][] = [
      ['short', valid.subarray(0, HEADER_LENGTH - 1)],
      ['version 2', Buffer.concat([Buffer.from([0x22]), valid.subarray(1)])],
      ['type 5', Buffer.concat([Buffer.from([0x51]), valid.subarray(1)])],
      [
        'extension cut short',
        Buffer.concat([Buffer.from([0x21, EXTENSION_SELECTIVE_ACK]), valid.subarray(2)]),
      ],
      [
        'selective ack of 0 bytes',
        Buffer.concat([
          Buffer.from([0x21, EXTENSION_SELECTIVE_ACK]),
          valid.subarray(2),
          Buffer.from([0, 0]),
        ]),
      ],
      ['a STATE with a payload', Buffer.concat([valid, Buffer.from('x')])],
    ];
    for (const [name, bytes] of cases) {
      const decoded = decodePacket(bytes);
      expect(decoded.ok, name).toBe(false);
      if (!decoded.ok) expect(decoded.reason.length, name).toBeGreaterThan(0);
    }
  });

  it('accepts selective acks of any length, as libtorrent sends them (BEP 29 says multiples of 4)', () => {
    // Seen from libtorrent 2.0: a STATE whose mask is 1 byte, another whose mask is 77.
    for (const length of [1, 3, 77]) {
      const header = encodePacket({
        type: PacketType.STATE,
        connectionId: 1,
        timestamp: 0,
        timestampDiff: 0,
        windowSize: 0,
        seq: 0,
        ack: 0,
        payload: new Uint8Array(0),
      });
      header[1] = EXTENSION_SELECTIVE_ACK;
      const mask = Buffer.alloc(length, 0xff);
      const decoded = decodePacket(Buffer.concat([header, Buffer.from([0, length]), mask]));
      expect(decoded.ok).toBe(true);
      if (decoded.ok) expect(hex(decoded.packet.selectiveAck!)).toBe(mask.toString('hex'));
    }
  });

  it('tells uTP from the DHT on a shared socket by the first byte', () => {
    const ping = Buffer.from('d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe');
    expect(looksLikeUtp(ping)).toBe(false);
    const syn = encodePacket({
      type: PacketType.SYN,
      connectionId: 1,
      timestamp: 0,
      timestampDiff: 0,
      windowSize: 0,
      seq: 1,
      ack: 0,
      payload: new Uint8Array(0),
    });
    expect(looksLikeUtp(syn)).toBe(true);
  });

  fuzzIt(
    'round-trips every packet',
    fc.property(arbPacket, (packet) => {
      const decoded = decodePacket(encodePacket(packet));
      expect(decoded.ok).toBe(true);
      if (decoded.ok) expect(plain(decoded.packet)).toEqual(plain(packet));
    }),
  );

  fuzzIt(
    'never throws on mutated or random bytes, and what it accepts re-encodes to the same packet',
    fc.property(
      mutatedFrom(
        arbPacket.map((packet) => new Uint8Array(encodePacket(packet))),
        300,
      ),
      (bytes) => {
        const decoded = decodePacket(bytes);
        if (!decoded.ok) return;
        const again = decodePacket(encodePacket(decoded.packet));
        expect(again.ok).toBe(true);
        if (again.ok) expect(plain(again.packet)).toEqual(plain(decoded.packet));
      },
    ),
  );
});
