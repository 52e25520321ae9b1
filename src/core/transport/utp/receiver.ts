/**
 * The receive side of one uTP connection: packets put back in order, the
 * peer's FIN, whether an ack is due, and the window we advertise.
 *
 * The window is what we still take: `receiveWindow` less what we hold, the
 * bytes the reader has not read yet (the stream's `readableLength`, which the
 * connection passes in) and the early packets waiting for a gap. A peer that
 * ignores it has the excess dropped, so it cannot make us hold more than
 * `receiveWindow` bytes.
 */
import type { Packet } from './packet.ts';
import { PacketType } from './packet.ts';
import { ReceiveBuffer, type ReceivedPacket } from './receive-buffer.ts';
import { MAX_OUTSTANDING_PACKETS, seqBefore } from './seq.ts';
import type { UtpOptions } from './options.ts';

/** What one DATA or FIN packet brought. */
export interface Arrival {
  /** An ack is due: the connection asks its socket for one. */
  ackDue: boolean;
  /** Now in order, for the reader; a FIN among them ends the stream. */
  deliver: readonly ReceivedPacket[];
}

// Shared answers for the packets that deliver nothing, so only in-order data allocates.
const NOTHING: Arrival = { ackDue: false, deliver: [] };
const ACK_ONLY: Arrival = { ackDue: true, deliver: [] };

export class UtpReceiver {
  readonly #options: UtpOptions;
  #buffer: ReceiveBuffer;
  #peerFinSeq: number | undefined;
  #ackDue = false;
  #lastAdvertisedWindow = 0;

  /** `lastSeq`: the sequence number just before the peer's first data packet. */
  constructor(options: UtpOptions, lastSeq: number) {
    this.#options = options;
    this.#buffer = new ReceiveBuffer(lastSeq, maxPacketsAhead(options));
  }

  /** Starts over at `lastSeq`: the peer's answer to our SYN names its first data packet. */
  restartAt(lastSeq: number): void {
    this.#buffer = new ReceiveBuffer(lastSeq, maxPacketsAhead(this.#options));
  }

  /** The last sequence number received in order: what we acknowledge. */
  get ackNr(): number {
    return this.#buffer.ackNr;
  }

  /** Received data wants acking and no packet of ours has carried the ack since. */
  get ackDue(): boolean {
    return this.#ackDue;
  }

  /** A packet of ours carried the ack. */
  ackSent(): void {
    this.#ackDue = false;
  }

  /** The selective-ack mask for the early packets held (undefined when none are). */
  selectiveAck(): Uint8Array | undefined {
    return this.#buffer.selectiveAck();
  }

  /** The window for a packet going out now (remembered, to notice when it reopens). */
  advertise(readableLength: number): number {
    this.#lastAdvertisedWindow = this.#window(readableLength);
    return this.#lastAdvertisedWindow;
  }

  /**
   * The reader caught up: whether the window we last advertised looked (nearly)
   * shut and is now wider, so the peer must be told or it waits for a timeout to probe.
   */
  windowReopened(readableLength: number): boolean {
    const last = this.#lastAdvertisedWindow;
    return last < 2 * this.#options.packetSize && this.#window(readableLength) > last;
  }

  /** One DATA or FIN packet from the peer. */
  receive(packet: Packet, readableLength: number): Arrival {
    const fin = packet.type === PacketType.FIN;
    if (this.#peerFinSeq !== undefined && (fin || seqBefore(this.#peerFinSeq, packet.seq))) {
      // Nothing comes after a FIN; a repeated FIN is acked again.
      this.#ackDue = true;
      return ACK_ONLY;
    }
    // Bytes beyond what we advertised come from a peer ignoring our window: drop them
    // (unacked, so an honest peer that raced a shrinking window resends them).
    const held = readableLength + this.#buffer.bufferedBytes + packet.payload.length;
    if (
      this.#buffer.isNew(packet.seq) &&
      held > this.#options.receiveWindow + this.#options.packetSize
    ) {
      return NOTHING;
    }
    const outcome = this.#buffer.receive({ seq: packet.seq, payload: packet.payload, fin });
    if (outcome.kind === 'out-of-window') return NOTHING;
    this.#ackDue = true;
    if (fin && outcome.kind !== 'duplicate') this.#peerFinSeq = packet.seq;
    return outcome.kind === 'in-order' ? { ackDue: true, deliver: outcome.deliver } : ACK_ONLY;
  }

  #window(readableLength: number): number {
    const used = readableLength + this.#buffer.bufferedBytes;
    return Math.max(0, this.#options.receiveWindow - used);
  }
}

/**
 * How far past the next expected packet an early one may be and still be
 * kept: a full receive window of small packets, within the outstanding cap.
 */
function maxPacketsAhead(options: UtpOptions): number {
  return Math.min(Math.ceil(options.receiveWindow / 64), MAX_OUTSTANDING_PACKETS);
}
