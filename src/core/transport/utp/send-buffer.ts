/**
 * The packets we sent and the peer has not acknowledged yet, in sequence
 * order, with what retransmission needs: when each was last sent, how often,
 * and whether it is waiting to be sent again.
 *
 * Pure bookkeeping: the connection decides when to send; this decides what
 * an ack (cumulative or selective) acknowledges, which packets it shows lost,
 * and what round-trip samples it yields.
 */
import { PacketType } from './packet.ts';
import { seqAdd, seqBefore, seqDistance } from './seq.ts';

/** A packet is declared lost once this many packets sent after it were selectively acked. */
export const DUPLICATE_ACKS_BEFORE_RESEND = 3;

export interface OutgoingPacket {
  seq: number;
  type: typeof PacketType.DATA | typeof PacketType.FIN | typeof PacketType.SYN;
  payload: Uint8Array;
  /** When it was last put on the wire, ms (0: not yet). */
  sentAtMs: number;
  transmissions: number;
  /** Waiting to be sent (again): not counted as in flight. */
  needsSend: boolean;
  /**
   * Already resent as lost (selective or duplicate acks). Acks keep showing
   * the hole until that resend arrives; without this flag every one of them
   * would resend the packet again. Only the timer resends it after this.
   */
  fastResent: boolean;
}

export interface AckResult {
  /** Payload bytes newly acknowledged (a FIN or SYN counts as 1, so it moves the window). */
  bytesAcked: number;
  /** Round trips of packets sent only once (Karn's rule), ms. */
  rttSamples: number[];
  /** Packets the selective ack shows lost, newly marked for resending. */
  lost: OutgoingPacket[];
  /** True when the oldest unacked packet moved on. */
  progressed: boolean;
}

export class SendBuffer {
  /**
   * Every sequence number from `oldest` up to `next` has an entry; a packet
   * acked selectively stays as an `acked` stub until the cumulative ack
   * passes it, so the range stays contiguous.
   */
  readonly #packets = new Map<number, OutgoingPacket & { acked?: boolean }>();
  /** The sequence number the next packet gets. */
  next: number;
  /** The oldest unacknowledged sequence number (== next when nothing is outstanding). */
  oldest: number;
  /** Payload bytes sent and not yet acked or declared lost. */
  bytesInFlight = 0;
  /** Packets with `needsSend` (and not acked): lets `waiting()` skip the walk when there are none. */
  #waitingCount = 0;

  constructor(firstSeq: number) {
    this.next = firstSeq & 0xffff;
    this.oldest = this.next;
  }

  /** Packets outstanding (selectively acked ones included until the cumulative ack passes them). */
  get size(): number {
    return seqDistance(this.next, this.oldest);
  }

  /** Assigns the next sequence number to a new packet, to be sent. */
  add(type: OutgoingPacket['type'], payload: Uint8Array): OutgoingPacket {
    const packet: OutgoingPacket = {
      seq: this.next,
      type,
      payload,
      sentAtMs: 0,
      transmissions: 0,
      needsSend: true,
      fastResent: false,
    };
    this.#packets.set(packet.seq, packet);
    this.next = seqAdd(this.next, 1);
    this.#waitingCount++;
    return packet;
  }

  /** Records that `packet` was put on the wire at `nowMs`. */
  markSent(packet: OutgoingPacket, nowMs: number): void {
    if (packet.needsSend) {
      this.bytesInFlight += weight(packet);
      this.#waitingCount--;
    }
    packet.needsSend = false;
    packet.sentAtMs = nowMs;
    packet.transmissions++;
  }

  /** Packets waiting to be sent, oldest first. */
  *waiting(): Generator<OutgoingPacket> {
    if (this.#waitingCount === 0) return;
    for (let seq = this.oldest; seq !== this.next; seq = seqAdd(seq, 1)) {
      const packet = this.#packets.get(seq);
      if (packet && !packet.acked && packet.needsSend) yield packet;
    }
  }

  /** The oldest outstanding packet, if any. */
  first(): OutgoingPacket | undefined {
    return this.#packets.get(this.oldest);
  }

  /**
   * Whether `ack` acknowledges something we sent (or repeats the last
   * cumulative ack): anything else acks data never sent, and the packet
   * carrying it is ignored.
   */
  isPlausibleAck(ack: number): boolean {
    return seqDistance(ack, seqAdd(this.oldest, -1)) <= this.size;
  }

  /**
   * An ack for packets already acknowledged: a packet the network delayed or
   * reordered behind later ones. Its ack says nothing new, but the packet's
   * data is as good as any.
   */
  isStaleAck(ack: number): boolean {
    return seqBefore(ack, seqAdd(this.oldest, -1));
  }

  /** Applies a cumulative ack and an optional selective-ack bitmask. */
  acknowledge(ack: number, selectiveAck: Uint8Array | undefined, nowMs: number): AckResult {
    const result: AckResult = { bytesAcked: 0, rttSamples: [], lost: [], progressed: false };
    if (!this.isPlausibleAck(ack)) return result;
    const end = seqAdd(ack, 1);
    while (this.oldest !== this.next && seqBefore(this.oldest, end)) {
      this.#ack(this.#packets.get(this.oldest)!, nowMs, result);
      this.#packets.delete(this.oldest);
      this.oldest = seqAdd(this.oldest, 1);
      result.progressed = true;
    }
    if (selectiveAck && this.size > 0) this.#applySelectiveAck(ack, selectiveAck, nowMs, result);
    // Stubs at the front are done with.
    while (this.oldest !== this.next && this.#packets.get(this.oldest)!.acked) {
      this.#packets.delete(this.oldest);
      this.oldest = seqAdd(this.oldest, 1);
      result.progressed = true;
    }
    return result;
  }

  /** The retransmission timer expired: every outstanding packet is to be sent again. */
  markAllForResend(): void {
    for (const packet of this.#packets.values()) {
      if (!packet.acked && !packet.needsSend && packet.transmissions > 0) {
        packet.fastResent = false;
        packet.needsSend = true;
        this.bytesInFlight -= weight(packet);
        this.#waitingCount++;
      }
    }
  }

  /** Marks `packet` lost by other evidence (three duplicate cumulative acks). */
  markLost(packet: OutgoingPacket): boolean {
    if (packet.needsSend || packet.fastResent) return false;
    packet.fastResent = true;
    packet.needsSend = true;
    this.bytesInFlight -= weight(packet);
    this.#waitingCount++;
    return true;
  }

  #applySelectiveAck(ack: number, mask: Uint8Array, nowMs: number, result: AckResult): void {
    // Bits beyond what we sent would ack data never sent: only look as far as `next`.
    const span = Math.min(mask.length * 8, seqDistance(this.next, seqAdd(ack, 2)));
    let ackedAfter = 0;
    // Walk from the newest bit back, so each packet knows how many later ones arrived;
    // bit -1 is ack + 1, the packet the cumulative ack is waiting for.
    for (let bit = span - 1; bit >= -1; bit--) {
      const packet = this.#packets.get(seqAdd(ack, 2 + bit));
      const acked = bit >= 0 && (mask[bit >> 3]! & (1 << (bit & 7))) !== 0;
      if (acked) {
        ackedAfter++;
        if (packet && !packet.acked) this.#ack(packet, nowMs, result);
      } else if (
        packet &&
        !packet.acked &&
        ackedAfter >= DUPLICATE_ACKS_BEFORE_RESEND &&
        this.markLost(packet)
      ) {
        result.lost.push(packet);
      }
    }
  }

  #ack(packet: OutgoingPacket & { acked?: boolean }, nowMs: number, result: AckResult): void {
    if (packet.acked) return;
    packet.acked = true;
    if (!packet.needsSend) this.bytesInFlight -= weight(packet);
    else this.#waitingCount--;
    result.bytesAcked += weight(packet);
    if (packet.transmissions === 1) result.rttSamples.push(nowMs - packet.sentAtMs);
    packet.payload = EMPTY;
  }
}

const EMPTY = new Uint8Array(0);

function weight(packet: OutgoingPacket): number {
  return Math.max(packet.payload.length, 1);
}
