/** The send and receive buffers: acks, selective acks, loss detection, reordering, wrap-around. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PacketType } from '../../../../src/core/transport/utp/packet.ts';
import { ReceiveBuffer } from '../../../../src/core/transport/utp/receive-buffer.ts';
import { SendBuffer } from '../../../../src/core/transport/utp/send-buffer.ts';
import { fuzzIt } from '../../../helpers/fuzz.ts';

function sendBufferWith(count: number, firstSeq = 100): SendBuffer {
  const buffer = new SendBuffer(firstSeq);
  for (let i = 0; i < count; i++)
    buffer.markSent(buffer.add(PacketType.DATA, new Uint8Array(1000)), 0);
  return buffer;
}

describe('SendBuffer', () => {
  it('frees packets up to a cumulative ack and gives round-trip samples', () => {
    const buffer = sendBufferWith(5);
    expect(buffer.bytesInFlight).toBe(5000);
    const result = buffer.acknowledge(102, undefined, 40);
    expect(result).toMatchObject({ bytesAcked: 3000, rttSamples: [40, 40, 40], progressed: true });
    expect(buffer.oldest).toBe(103);
    expect(buffer.bytesInFlight).toBe(2000);
  });

  it('ignores acks for data never sent', () => {
    const buffer = sendBufferWith(3);
    expect(buffer.isPlausibleAck(103)).toBe(false);
    expect(buffer.acknowledge(103, undefined, 1).bytesAcked).toBe(0);
    expect(buffer.acknowledge(50, undefined, 1).bytesAcked).toBe(0);
    expect(buffer.bytesInFlight).toBe(3000);
    expect(buffer.isPlausibleAck(99)).toBe(true); // "nothing yet": a duplicate ack
  });

  it('acks selectively and declares a packet lost once three later ones arrived', () => {
    const buffer = sendBufferWith(6);
    // ack 100; mask bits 0..2 are 102, 103, 104: 101 is missing with 3 after it.
    const result = buffer.acknowledge(100, Uint8Array.from([0b111, 0, 0, 0]), 5);
    expect(result.bytesAcked).toBe(4000);
    expect(result.lost.map((packet) => packet.seq)).toEqual([101]);
    expect([...buffer.waiting()].map((packet) => packet.seq)).toEqual([101]);
    // The resend arrives: the cumulative ack jumps over the selectively acked stubs.
    buffer.markSent(buffer.first()!, 6);
    const after = buffer.acknowledge(104, undefined, 7);
    expect(after.bytesAcked).toBe(1000);
    expect(after.rttSamples).toEqual([]); // Karn: a resent packet gives no sample
    expect(buffer.oldest).toBe(105);
  });

  it('does not let a selective ack reach past what was sent', () => {
    const buffer = sendBufferWith(2);
    const result = buffer.acknowledge(99, Uint8Array.from([0xff, 0xff, 0xff, 0xff]), 1);
    expect(result.bytesAcked).toBe(1000); // only seq 101 (bit 0) exists; 100 is still missing
    expect(buffer.size).toBe(2);
  });

  it('works across the 16-bit wrap', () => {
    const buffer = sendBufferWith(4, 0xfffe);
    expect(buffer.acknowledge(0x0000, undefined, 1).bytesAcked).toBe(3000);
    expect(buffer.oldest).toBe(1);
  });
});

describe('ReceiveBuffer', () => {
  it('delivers in order, holds early packets, and reports them in the selective ack', () => {
    const buffer = new ReceiveBuffer(10, 64);
    const packet = (seq: number) => ({ seq, payload: Uint8Array.of(seq), fin: false });
    expect(buffer.receive(packet(13)).kind).toBe('buffered');
    expect(buffer.receive(packet(12)).kind).toBe('buffered');
    expect(buffer.receive(packet(12)).kind).toBe('duplicate');
    // ack 10: bit 0 is 12, bit 1 is 13
    expect([...buffer.selectiveAck()!]).toEqual([0b11, 0, 0, 0]);
    const outcome = buffer.receive(packet(11));
    expect(outcome.kind === 'in-order' && outcome.deliver.map((p) => p.seq)).toEqual([11, 12, 13]);
    expect(buffer.ackNr).toBe(13);
    expect(buffer.selectiveAck()).toBeUndefined();
    expect(buffer.receive(packet(5)).kind).toBe('duplicate');
    expect(buffer.receive(packet(13 + 65)).kind).toBe('out-of-window');
  });

  fuzzIt(
    'puts any permutation of packets (with duplicates) back in order, across the wrap',
    fc.property(
      fc.integer({ min: 0, max: 0xffff }),
      fc.integer({ min: 1, max: 60 }).chain((n) =>
        fc.tuple(
          fc.constant(n),
          fc.shuffledSubarray(
            [...Array(n * 2).keys()].map((i) => i % n),
            { minLength: n * 2 },
          ),
        ),
      ),
      (start, [count, order]) => {
        const buffer = new ReceiveBuffer(start, 64);
        const delivered: number[] = [];
        for (const offset of order) {
          const seq = (start + 1 + offset) & 0xffff;
          const outcome = buffer.receive({ seq, payload: Uint8Array.of(offset), fin: false });
          if (outcome.kind === 'in-order')
            delivered.push(...outcome.deliver.map((p) => p.payload[0]!));
          const mask = buffer.selectiveAck();
          if (mask) expect(mask.length % 4).toBe(0);
        }
        expect(delivered).toEqual([...Array(count).keys()]);
        expect(buffer.bufferedBytes).toBe(0);
      },
    ),
  );
});

describe('SendBuffer fast resend', () => {
  it('resends a packet shown lost once, however many later acks still show the hole', () => {
    const buffer = sendBufferWith(10);
    const mask = (bits: number) => Uint8Array.from([bits & 0xff, bits >> 8, 0, 0]);
    expect(buffer.acknowledge(100, mask(0b111), 1).lost.map((p) => p.seq)).toEqual([101]);
    buffer.markSent(buffer.first()!, 2);
    // More packets after the hole arrive before the resend does: 101 is not lost again.
    expect(buffer.acknowledge(100, mask(0b1111), 3).lost).toEqual([]);
    expect(buffer.acknowledge(100, mask(0b11111), 4).lost).toEqual([]);
    expect([...buffer.waiting()]).toEqual([]);
    // The timer still resends it if the resend is lost too.
    buffer.markAllForResend();
    expect([...buffer.waiting()].map((p) => p.seq)).toContain(101);
  });
});
