/**
 * The send side of one uTP connection: the bytes written and not yet cut
 * into packets, the packets in flight, the windows that limit them (LEDBAT's
 * congestion window and the peer's receive window), loss detection (selective
 * and duplicate acks, one window halving per loss event), the retransmission
 * timer and the probe of a shut peer window.
 *
 * The connection (connection.ts) owns the state machine and puts packets on
 * the wire: `transmit` adds the header, which carries the receive side's ack.
 * It decides when to flush: `sendHandshake` while our SYN is unanswered,
 * `sendWhatFits` once connected.
 */
import { Ledbat } from './ledbat.ts';
import { PacketType, type Packet } from './packet.ts';
import { RttEstimator } from './rtt.ts';
import { SendBuffer, type OutgoingPacket } from './send-buffer.ts';
import { MAX_OUTSTANDING_PACKETS, seqBefore } from './seq.ts';
import { WriteQueue } from './write-queue.ts';
import type { UtpOptions } from './options.ts';

/** Consecutive retransmission timeouts without any ack before the peer is given up for gone. */
const MAX_CONSECUTIVE_TIMEOUTS = 8;
/** Duplicate cumulative acks that signal a loss, as in TCP. */
const DUPLICATE_ACK_THRESHOLD = 3;

/** Counters for diagnostics and benchmarks. */
export interface UtpSendStats {
  packetsSent: number;
  packetsResent: number;
  timeouts: number;
  lossEvents: number;
}

/**
 * What the retransmission timer's expiry calls for: send again (what depends
 * on the connection's state), give the peer up, or nothing.
 */
export type RetransmitOutcome = 'resend' | 'gave-up' | 'none';

export class UtpSender {
  readonly stats: UtpSendStats = { packetsSent: 0, packetsResent: 0, timeouts: 0, lossEvents: 0 };
  readonly #options: UtpOptions;
  readonly #transmit: (packet: OutgoingPacket, now: number) => void;
  readonly #buffer: SendBuffer;
  readonly #ledbat: Ledbat;
  readonly #rtt = new RttEstimator();
  /** Bytes written and not yet cut into packets. */
  readonly #pending: WriteQueue;
  /** Bytes the peer said it can take. */
  #peerWindow: number;

  #finRequested = false;
  #finPacket: OutgoingPacket | undefined;

  #rtoDeadline = 0;
  #consecutiveTimeouts = 0;
  #probeDue = false;
  #zeroWindowSince = 0;
  #lastAck = -1;
  #duplicateAcks = 0;
  /** Losses before this sequence number belong to the loss event already answered. */
  #recoveryEnd: number;

  constructor(init: {
    options: UtpOptions;
    /** Our first sequence number. */
    initialSeq: number;
    /** The peer's window before it acks anything: its SYN's, or one packet. */
    peerWindow: number;
    /** Puts a packet on the wire with a fresh header. */
    transmit: (packet: OutgoingPacket, now: number) => void;
  }) {
    this.#options = init.options;
    this.#transmit = init.transmit;
    this.#pending = new WriteQueue(init.options.sendQueueBytes);
    this.#ledbat = new Ledbat({
      packetSize: init.options.packetSize,
      maxWindow: init.options.maxWindow,
    });
    this.#peerWindow = init.peerWindow;
    this.#buffer = new SendBuffer(init.initialSeq);
    this.#recoveryEnd = this.#buffer.next;
  }

  /** The congestion window, bytes. */
  get congestionWindow(): number {
    return this.#ledbat.window;
  }

  /** Smoothed round-trip time, ms. */
  get rttMs(): number {
    return this.#rtt.rtt;
  }

  /** The sequence number the next packet gets (bare STATE and RESET packets carry it). */
  get nextSeq(): number {
    return this.#buffer.next;
  }

  /** The oldest unacked sequence number: our SYN's, while connecting. */
  get oldestSeq(): number {
    return this.#buffer.oldest;
  }

  /** Our FIN went out and it and everything before it were acked. */
  get finDelivered(): boolean {
    return this.#finPacket !== undefined && this.#buffer.size === 0;
  }

  /** Since when the peer's window has been shut with data of ours waiting (0: it is not). */
  get windowShutSince(): number {
    return this.#zeroWindowSince;
  }

  /** Whether `ack` acknowledges something we sent and the peer has not acked before. */
  ackIsNews(ack: number): boolean {
    return this.#buffer.isPlausibleAck(ack);
  }

  /** Whether `ack` is one the peer sent before (a packet that came late). */
  ackIsStale(ack: number): boolean {
    return this.#buffer.isStaleAck(ack);
  }

  /** Queues written bytes; `callback` is the stream's, held back while too much waits. */
  write(chunk: Buffer, callback: (error?: Error | null) => void): void {
    this.#pending.push(chunk, callback);
  }

  /** end(): a FIN follows everything written before it. */
  requestFin(): void {
    this.#finRequested = true;
  }

  /** The connection was destroyed: nothing more is sent and no held write is acknowledged. */
  dropPending(): void {
    this.#pending.clear();
  }

  /** Queues our SYN (outgoing connections); `sendHandshake` sends it. */
  queueSyn(): void {
    this.#buffer.add(PacketType.SYN, new Uint8Array(0));
  }

  /** While our SYN is unanswered: (re)sends it, whatever the windows say. */
  sendHandshake(now: number): void {
    for (const packet of this.#buffer.waiting()) this.#send(packet, now);
    this.#armTimer(now);
  }

  /** Sends what the windows allow: retransmissions first, then new data, then the FIN. */
  sendWhatFits(now: number): void {
    for (const packet of this.#buffer.waiting()) {
      if (!this.#mayDispatch(packet.payload.length)) break;
      this.#send(packet, now);
    }
    while (this.#pending.bytes > 0 && this.#buffer.size < MAX_OUTSTANDING_PACKETS) {
      const size = Math.min(this.#pending.bytes, this.#options.packetSize);
      if (!this.#mayDispatch(size)) break;
      this.#send(this.#buffer.add(PacketType.DATA, this.#pending.take(size)), now);
    }
    if (this.#finRequested && this.#pending.bytes === 0 && this.#finPacket === undefined) {
      this.#finPacket = this.#buffer.add(PacketType.FIN, new Uint8Array(0));
      if (this.#mayDispatch(0)) this.#send(this.#finPacket, now);
    }
    this.#pending.releaseWriters();
    // A shut peer window with data waiting: note since when (it may stay shut forever).
    const stalled = this.#peerWindow === 0 && this.#hasUnsentData();
    if (!stalled) this.#zeroWindowSince = 0;
    else if (this.#zeroWindowSince === 0) this.#zeroWindowSince = now;
    this.#armTimer(now);
  }

  /**
   * The ack and window of a packet whose ack is news. Returns whether it
   * acknowledged bytes (the peer is still there and taking what we send).
   */
  onAck(packet: Packet, now: number): boolean {
    this.#peerWindow = packet.windowSize;
    const flightBefore = this.#buffer.bytesInFlight;
    const result = this.#buffer.acknowledge(packet.ack, packet.selectiveAck, now);
    for (const sample of result.rttSamples) this.#rtt.addSample(sample);
    if (result.bytesAcked > 0) {
      this.#ledbat.onAck(result.bytesAcked, packet.timestampDiff, flightBefore, now);
      this.#rtt.resetBackoff();
      this.#consecutiveTimeouts = 0;
    }
    // Three acks in a row for the same packet, with nothing new acked: the next one was lost.
    if (result.progressed || packet.ack !== this.#lastAck) {
      this.#duplicateAcks = 0;
    } else if (packet.type === PacketType.STATE && this.#buffer.size > 0) {
      if (++this.#duplicateAcks === DUPLICATE_ACK_THRESHOLD) {
        const first = this.#buffer.first();
        if (first && this.#buffer.markLost(first)) result.lost.push(first);
      }
    }
    this.#lastAck = packet.ack;
    // One halving per window of data, however many packets of it were lost.
    if (result.lost.some((lost) => !seqBefore(lost.seq, this.#recoveryEnd))) {
      this.stats.lossEvents++;
      this.#ledbat.onLoss();
      this.#recoveryEnd = this.#buffer.next;
    }
    if (result.progressed) {
      this.#rtoDeadline = this.#buffer.size > 0 ? now + this.#rtt.timeoutMs : 0;
    }
    return result.bytesAcked > 0;
  }

  /** Whether the retransmission timer has expired (see `onRetransmitTimeout`). */
  retransmitDue(now: number): boolean {
    return this.#rtoDeadline !== 0 && now >= this.#rtoDeadline;
  }

  /** The retransmission timer expired: everything outstanding is to be sent again, or the window probed. */
  onRetransmitTimeout(now: number): RetransmitOutcome {
    if (this.#buffer.size === 0) {
      // Nothing outstanding: the timer was armed to probe a shut window.
      this.#rtoDeadline = 0;
      if (this.#peerWindow === 0 && this.#hasUnsentData()) {
        this.#probeDue = true;
        this.#rtt.backOff();
        return 'resend';
      }
      return 'none';
    }
    if (++this.#consecutiveTimeouts > MAX_CONSECUTIVE_TIMEOUTS) return 'gave-up';
    this.stats.timeouts++;
    this.#ledbat.onTimeout();
    this.#rtt.backOff();
    this.#buffer.markAllForResend();
    this.#recoveryEnd = this.#buffer.next;
    this.#rtoDeadline = now + this.#rtt.timeoutMs;
    return 'resend';
  }

  #hasUnsentData(): boolean {
    return this.#pending.bytes > 0 || (this.#finRequested && this.#finPacket === undefined);
  }

  #armTimer(now: number): void {
    if (this.#rtoDeadline !== 0) return;
    const waitingForProbe = this.#peerWindow === 0 && this.#hasUnsentData();
    if (this.#buffer.size > 0 || waitingForProbe) this.#rtoDeadline = now + this.#rtt.timeoutMs;
  }

  /** Whether a packet with `size` payload bytes fits the congestion and peer windows now. */
  #mayDispatch(size: number): boolean {
    const inFlight = this.#buffer.bytesInFlight;
    if (inFlight === 0 && this.#probeDue) {
      this.#probeDue = false;
      return true;
    }
    const window = Math.min(this.#ledbat.window, this.#peerWindow);
    if (inFlight + Math.max(size, 1) <= window) return true;
    // Always let one packet go when nothing is in flight and the peer has some room.
    return inFlight === 0 && this.#peerWindow > 0;
  }

  #send(packet: OutgoingPacket, now: number): void {
    this.stats.packetsSent++;
    if (packet.transmissions > 0) this.stats.packetsResent++;
    this.#buffer.markSent(packet, now);
    this.#transmit(packet, now);
  }
}
