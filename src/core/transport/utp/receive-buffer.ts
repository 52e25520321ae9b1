/**
 * Incoming packets put back in order. Packets that arrive early wait here
 * (bounded: only within `maxAhead` packets of the next expected one, and
 * within a byte budget the caller checks), and the selective-ack bitmask
 * telling the sender which of them arrived is generated from them.
 */
import { seqAdd, seqBefore, seqDistance } from './seq.ts';

/** Selective acks cover at most this many packets past ack + 1 (a 16-byte mask). */
export const MAX_SELECTIVE_ACK_BITS = 128;

export interface ReceivedPacket {
  seq: number;
  payload: Uint8Array;
  /** The peer's FIN: the end of its stream. */
  fin: boolean;
}

export type ReceiveOutcome =
  /** Arrived in order: these packets (it and any that were waiting behind it) are now deliverable. */
  | { kind: 'in-order'; deliver: ReceivedPacket[] }
  /** Arrived early and was kept. */
  | { kind: 'buffered' }
  /** Already had it (a retransmission): ack again, deliver nothing. */
  | { kind: 'duplicate' }
  /** Too far ahead: dropped (the sender will resend it). */
  | { kind: 'out-of-window' };

export class ReceiveBuffer {
  /** The last sequence number delivered in order: what we acknowledge. */
  ackNr: number;
  /** Payload bytes held here, waiting for a gap to fill. */
  bufferedBytes = 0;
  readonly #early = new Map<number, ReceivedPacket>();
  readonly #maxAhead: number;

  constructor(ackNr: number, maxAhead: number) {
    this.ackNr = ackNr & 0xffff;
    this.#maxAhead = maxAhead;
  }

  get hasGaps(): boolean {
    return this.#early.size > 0;
  }

  /** Places one received packet (the caller has checked it fits its byte budget). */
  receive(packet: ReceivedPacket): ReceiveOutcome {
    const ahead = seqDistance(packet.seq, this.ackNr);
    if (ahead === 0 || ahead >= 0x8000) return { kind: 'duplicate' };
    if (ahead > this.#maxAhead) return { kind: 'out-of-window' };
    if (ahead > 1) {
      if (this.#early.has(packet.seq)) return { kind: 'duplicate' };
      this.#early.set(packet.seq, packet);
      this.bufferedBytes += packet.payload.length;
      return { kind: 'buffered' };
    }
    const deliver = [packet];
    this.ackNr = packet.seq;
    for (;;) {
      const next = this.#early.get(seqAdd(this.ackNr, 1));
      if (!next) break;
      this.#early.delete(next.seq);
      this.bufferedBytes -= next.payload.length;
      deliver.push(next);
      this.ackNr = next.seq;
    }
    return { kind: 'in-order', deliver };
  }

  /** Whether `seq` is beyond the last acked one and not yet here. */
  isNew(seq: number): boolean {
    return seqBefore(this.ackNr, seq) && !this.#early.has(seq);
  }

  /**
   * The selective-ack bitmask for the packets waiting here, or undefined when
   * none are. Bit i (least significant first in each byte) stands for
   * ackNr + 2 + i; the mask is a multiple of 4 bytes, as BEP 29 requires.
   */
  selectiveAck(): Uint8Array | undefined {
    if (this.#early.size === 0) return undefined;
    let highest = 0;
    for (const seq of this.#early.keys()) {
      highest = Math.max(highest, seqDistance(seq, seqAdd(this.ackNr, 2)));
    }
    const bits = Math.min(highest + 1, MAX_SELECTIVE_ACK_BITS);
    const mask = new Uint8Array(Math.ceil(bits / 32) * 4);
    for (const seq of this.#early.keys()) {
      const bit = seqDistance(seq, seqAdd(this.ackNr, 2));
      if (bit < mask.length * 8) mask[bit >> 3]! |= 1 << (bit & 7);
    }
    return mask;
  }
}
