/**
 * One uTP connection as a Node duplex byte stream (what the engine expects of
 * every transport; TCP's net.Socket is the other).
 *
 * The stream side: write() queues bytes (backpressure once `sendQueueBytes`
 * are waiting), end() sends a FIN once everything before it is sent,
 * destroy() sends a RESET. The peer's FIN ends the readable side and, as a
 * TCP socket does by default, our writable side too (BitTorrent never
 * half-closes); what we wrote before it is still delivered, but once
 * `finTimeoutMs` pass after their FIN with none of our data or our FIN
 * acked, the connection is destroyed rather than kept half-dead. Reads are
 * pushed in order; the window we advertise shrinks as the reader falls
 * behind, so a peer that respects it cannot make us buffer more than
 * `receiveWindow` bytes.
 *
 * The protocol side: `handlePacket` for each datagram the socket routes here,
 * `tick` from the socket's timer for retransmission, idle and keep-alive
 * timeouts. Sending goes through the `UtpEndpoint` the socket provides.
 */
import { Duplex } from 'node:stream';
import { Ledbat } from './ledbat.ts';
import { encodeHeader, PacketType, type Packet } from './packet.ts';
import { ReceiveBuffer } from './receive-buffer.ts';
import { RttEstimator } from './rtt.ts';
import { SendBuffer, type OutgoingPacket } from './send-buffer.ts';
import { seqAdd, seqBefore } from './seq.ts';
import { WriteQueue } from './write-queue.ts';
import type { UtpOptions } from './options.ts';

/** What a connection needs from its socket. */
export interface UtpEndpoint {
  send(header: Buffer, payload: Uint8Array | undefined, host: string, port: number): void;
  /** Ask for `connection.sendAckIfNeeded()` once the datagrams queued now are handled. */
  scheduleAck(connection: UtpConnection): void;
  /** The peer finished its handshake with us (incoming connections). */
  established(connection: UtpConnection): void;
  /** The connection is gone: forget its id. */
  closed(connection: UtpConnection): void;
}

type State =
  /** We sent a SYN and wait for the peer's STATE. */
  | 'syn-sent'
  /** We answered a SYN; the peer has not sent anything since (half-open). */
  | 'syn-received'
  | 'connected'
  | 'closed';

/** Consecutive retransmission timeouts without any ack before the peer is given up for gone. */
const MAX_CONSECUTIVE_TIMEOUTS = 8;
/** Packets outstanding at once: far below half the 16-bit sequence space, so comparisons stay sound. */
const MAX_OUTSTANDING_PACKETS = 4096;
/** Duplicate cumulative acks that signal a loss, as in TCP. */
const DUPLICATE_ACK_THRESHOLD = 3;

export interface ConnectionIds {
  /** The id on packets the peer sends us. */
  recvId: number;
  /** The id we put on packets we send. */
  sendId: number;
}

export class UtpConnection extends Duplex {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly recvId: number;
  readonly sendId: number;
  /** 'IPv4' or 'IPv6', as net.Socket reports it. */
  readonly remoteFamily: string;

  /** Counters for diagnostics and benchmarks. */
  readonly stats = { packetsSent: 0, packetsResent: 0, timeouts: 0, lossEvents: 0 };

  #state: State;
  readonly #endpoint: UtpEndpoint;
  readonly #options: UtpOptions;
  readonly #sendBuffer: SendBuffer;
  #receiveBuffer: ReceiveBuffer;
  readonly #ledbat: Ledbat;
  readonly #rtt = new RttEstimator();

  /** Bytes the peer said it can take. */
  #peerWindow: number;
  /** The timestamp difference we report: our clock minus the peer's on its last packet. */
  #replyMicro = 0;

  /** Bytes written and not yet cut into packets. */
  readonly #pending: WriteQueue;
  #flushScheduled = false;

  #finRequested = false;
  #finPacket: OutgoingPacket | undefined;
  /** end()'s callback: called once the peer acked our FIN, so 'finish' means delivered. */
  #finalCallback: ((error?: Error | null) => void) | undefined;
  #peerFinSeq: number | undefined;
  #readEnded = false;
  /**
   * After the peer's FIN (0 before it): the time by which something of ours
   * must be acked, `finTimeoutMs` after their FIN or the last ack since.
   */
  #finDeadline = 0;
  #finAcked = false;
  #resetReceived = false;

  #rtoDeadline = 0;
  #consecutiveTimeouts = 0;
  #probeDue = false;
  #zeroWindowSince = 0;
  #lastAck = -1;
  #duplicateAcks = 0;
  /** Losses before this sequence number belong to the loss event already answered. */
  #recoveryEnd: number;
  #needAck = false;
  #lastAdvertisedWindow = 0;

  readonly #createdMs: number;
  #lastReceivedMs: number;
  #lastSentMs = 0;
  readonly #connected: Promise<void>;
  #resolveConnected: () => void = () => {};
  #rejectConnected: (error: Error) => void = () => {};

  /** Use UtpSocket.connect or the socket's 'connection' event; this is the socket's constructor. */
  constructor(init: {
    endpoint: UtpEndpoint;
    options: UtpOptions;
    host: string;
    port: number;
    ids: ConnectionIds;
    /** For an incoming connection: the peer's SYN. */
    syn?: Packet;
    /** Our first sequence number (random in real use). */
    initialSeq: number;
  }) {
    super({ allowHalfOpen: false, decodeStrings: true });
    this.#endpoint = init.endpoint;
    this.#options = init.options;
    this.#pending = new WriteQueue(init.options.sendQueueBytes);
    this.remoteAddress = init.host;
    this.remotePort = init.port;
    this.remoteFamily = init.host.includes(':') ? 'IPv6' : 'IPv4';
    this.recvId = init.ids.recvId;
    this.sendId = init.ids.sendId;
    this.#createdMs = this.#lastReceivedMs = init.options.now();
    this.#ledbat = new Ledbat({
      packetSize: init.options.packetSize,
      maxWindow: init.options.maxWindow,
    });
    this.#peerWindow = init.options.packetSize;
    this.#sendBuffer = new SendBuffer(init.initialSeq);
    this.#recoveryEnd = this.#sendBuffer.next;
    this.#connected = new Promise((resolve, reject) => {
      this.#resolveConnected = resolve;
      this.#rejectConnected = reject;
    });
    this.#connected.catch(() => {});
    const maxAhead = maxPacketsAhead(init.options);
    if (init.syn) {
      // Incoming: our ack starts at the SYN; our first packet reuses initialSeq
      // (the STATE that answers the SYN carries it without using it up).
      this.#state = 'syn-received';
      this.#receiveBuffer = new ReceiveBuffer(init.syn.seq, maxAhead);
      this.#peerWindow = init.syn.windowSize;
      this.#replyMicro = (this.#micros() - init.syn.timestamp) >>> 0;
      this.#sendState();
    } else {
      this.#state = 'syn-sent';
      this.#receiveBuffer = new ReceiveBuffer(0, maxAhead);
      this.#sendBuffer.add(PacketType.SYN, new Uint8Array(0));
      this.#flush();
    }
  }

  /** Resolves once the peer answered our SYN; rejects if it never does. */
  get connected(): Promise<void> {
    return this.#connected;
  }

  get isHalfOpen(): boolean {
    return this.#state === 'syn-received';
  }

  get isClosed(): boolean {
    return this.#state === 'closed';
  }

  /** The congestion window, bytes (for diagnostics and tests). */
  get congestionWindow(): number {
    return this.#ledbat.window;
  }

  /** Smoothed round-trip time, ms. */
  get rttMs(): number {
    return this.#rtt.rtt;
  }

  // ---- the stream side ----

  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    this.#pending.push(chunk, callback);
    this.#scheduleFlush();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#finRequested = true;
    this.#finalCallback = callback;
    this.#flush();
  }

  override _read(): void {
    // The reader caught up: if our window looked (nearly) shut, say it opened,
    // or a sender that respects it waits for a timeout to probe.
    if (this.#state === 'connected' && this.#lastAdvertisedWindow < 2 * this.#options.packetSize) {
      if (this.#advertisedWindow() > this.#lastAdvertisedWindow) this.#sendState();
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#pending.clear();
    this.#finalCallback = undefined;
    // Both FINs exchanged and ours acked: a clean close. Anything else tells the peer with a RESET.
    const clean = this.#finAcked && this.#readEnded;
    if (this.#state !== 'closed') {
      if (!clean && !this.#resetReceived && this.#state !== 'syn-sent') this.#sendReset();
      this.#close();
    }
    this.#rejectConnected(error ?? new Error('uTP connection closed before it connected'));
    callback(error);
  }

  // ---- the protocol side ----

  /** One packet for this connection, decoded and routed by the socket. */
  handlePacket(packet: Packet): void {
    if (this.#state === 'closed') return;
    const now = this.#options.now();
    if (packet.type === PacketType.RESET) {
      this.#resetReceived = true;
      this.destroy(
        this.#readEnded ? undefined : connectionError('ECONNRESET', 'uTP connection reset by peer'),
      );
      return;
    }
    if (packet.type === PacketType.SYN) {
      // Our STATE answering it was lost: answer again.
      if (this.#state === 'syn-received' || this.#state === 'connected') this.#sendState();
      return;
    }
    if (this.#state === 'syn-sent') {
      if (packet.type !== PacketType.STATE || packet.ack !== this.#sendBuffer.oldest) return;
      // The peer's STATE carries the sequence number of its first data packet.
      this.#receiveBuffer = new ReceiveBuffer(
        seqAdd(packet.seq, -1),
        maxPacketsAhead(this.#options),
      );
      this.#state = 'connected';
      this.#resolveConnected();
    }
    const ackIsNews = this.#sendBuffer.isPlausibleAck(packet.ack);
    // An ack of data never sent drops the packet; an old ack (the packet came late) only skips the ack.
    if (!ackIsNews && !this.#sendBuffer.isStaleAck(packet.ack)) return;
    this.#lastReceivedMs = now;
    this.#replyMicro = (this.#micros() - packet.timestamp) >>> 0;
    if (this.#state === 'syn-received') {
      this.#state = 'connected';
      this.#endpoint.established(this);
    }
    if (ackIsNews) this.#processAck(packet, now);
    if (packet.type === PacketType.DATA || packet.type === PacketType.FIN)
      this.#processData(packet);
    this.#flush();
    this.#checkFinAcked();
  }

  /** Timers: retransmission, zero-window probe, idle and keep-alive. Called every few tens of ms. */
  tick(): void {
    if (this.#state === 'closed') return;
    const now = this.#options.now();
    const idleFor = now - this.#lastReceivedMs;
    if (this.#state === 'syn-sent' && now - this.#createdMs > this.#options.connectTimeoutMs) {
      this.destroy(connectionError('ETIMEDOUT', 'uTP connect timed out'));
      return;
    }
    if (this.#state === 'syn-received' && now - this.#createdMs > this.#options.halfOpenTimeoutMs) {
      this.#close();
      return;
    }
    if (idleFor > this.#options.idleTimeoutMs) {
      this.destroy(
        connectionError('ETIMEDOUT', 'uTP connection timed out (nothing heard from the peer)'),
      );
      return;
    }
    if (this.#zeroWindowSince !== 0 && now - this.#zeroWindowSince > this.#options.idleTimeoutMs) {
      this.destroy(connectionError('ETIMEDOUT', 'uTP peer kept its receive window shut'));
      return;
    }
    if (this.#finDeadline !== 0 && now >= this.#finDeadline && !this.#finAcked) {
      // The peer said goodbye and does not ack ours: it has most likely gone already.
      this.destroy();
      return;
    }
    if (this.#rtoDeadline !== 0 && now >= this.#rtoDeadline) this.#onRetransmitTimeout(now);
    if (this.#state === 'connected' && now - this.#lastSentMs > this.#options.keepAliveMs)
      this.#sendState();
  }

  /** Sends a bare ack if no data packet carried one since it became due. */
  sendAckIfNeeded(): void {
    if (this.#needAck && this.#state !== 'closed') this.#sendState();
  }

  // ---- internals ----

  #processAck(packet: Packet, now: number): void {
    this.#peerWindow = packet.windowSize;
    const flightBefore = this.#sendBuffer.bytesInFlight;
    const result = this.#sendBuffer.acknowledge(packet.ack, packet.selectiveAck, now);
    for (const sample of result.rttSamples) this.#rtt.addSample(sample);
    if (result.bytesAcked > 0) {
      this.#ledbat.onAck(result.bytesAcked, packet.timestampDiff, flightBefore, now);
      this.#rtt.resetBackoff();
      this.#consecutiveTimeouts = 0;
      // The peer is still there and taking what we queued before its FIN: keep delivering it.
      if (this.#finDeadline !== 0) this.#finDeadline = now + this.#options.finTimeoutMs;
    }
    // Three acks in a row for the same packet, with nothing new acked: the next one was lost.
    if (result.progressed || packet.ack !== this.#lastAck) {
      this.#duplicateAcks = 0;
    } else if (packet.type === PacketType.STATE && this.#sendBuffer.size > 0) {
      if (++this.#duplicateAcks === DUPLICATE_ACK_THRESHOLD) {
        const first = this.#sendBuffer.first();
        if (first && this.#sendBuffer.markLost(first)) result.lost.push(first);
      }
    }
    this.#lastAck = packet.ack;
    // One halving per window of data, however many packets of it were lost.
    if (result.lost.some((lost) => !seqBefore(lost.seq, this.#recoveryEnd))) {
      this.stats.lossEvents++;
      this.#ledbat.onLoss();
      this.#recoveryEnd = this.#sendBuffer.next;
    }
    if (result.progressed) {
      this.#rtoDeadline = this.#sendBuffer.size > 0 ? now + this.#rtt.timeoutMs : 0;
    }
  }

  #processData(packet: Packet): void {
    const fin = packet.type === PacketType.FIN;
    if (this.#peerFinSeq !== undefined && (fin || seqBefore(this.#peerFinSeq, packet.seq))) {
      // Nothing comes after a FIN; a repeated FIN is acked again.
      this.#needAck = true;
      this.#endpoint.scheduleAck(this);
      return;
    }
    // Bytes beyond what we advertised come from a peer ignoring our window: drop them
    // (unacked, so an honest peer that raced a shrinking window resends them).
    const held = this.readableLength + this.#receiveBuffer.bufferedBytes + packet.payload.length;
    if (
      this.#receiveBuffer.isNew(packet.seq) &&
      held > this.#options.receiveWindow + this.#options.packetSize
    ) {
      return;
    }
    const outcome = this.#receiveBuffer.receive({ seq: packet.seq, payload: packet.payload, fin });
    if (outcome.kind !== 'out-of-window') {
      this.#needAck = true;
      this.#endpoint.scheduleAck(this);
    }
    if (fin && outcome.kind !== 'out-of-window' && outcome.kind !== 'duplicate')
      this.#peerFinSeq = packet.seq;
    if (outcome.kind !== 'in-order') return;
    for (const received of outcome.deliver) {
      if (received.fin) {
        this.#readEnded = true;
        this.#finDeadline = this.#options.now() + this.#options.finTimeoutMs;
        this.push(null);
        break;
      }
      if (received.payload.length > 0 && !this.destroyed) this.push(received.payload);
    }
  }

  #onRetransmitTimeout(now: number): void {
    if (this.#sendBuffer.size === 0) {
      // Nothing outstanding: the timer was armed to probe a shut window.
      this.#rtoDeadline = 0;
      if (this.#peerWindow === 0 && this.#hasUnsentData()) {
        this.#probeDue = true;
        this.#rtt.backOff();
        this.#flush();
      }
      return;
    }
    if (++this.#consecutiveTimeouts > MAX_CONSECUTIVE_TIMEOUTS) {
      this.destroy(connectionError('ETIMEDOUT', 'uTP peer stopped acknowledging'));
      return;
    }
    this.stats.timeouts++;
    this.#ledbat.onTimeout();
    this.#rtt.backOff();
    this.#sendBuffer.markAllForResend();
    this.#recoveryEnd = this.#sendBuffer.next;
    this.#rtoDeadline = now + this.#rtt.timeoutMs;
    this.#flush();
  }

  #hasUnsentData(): boolean {
    return this.#pending.bytes > 0 || (this.#finRequested && this.#finPacket === undefined);
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    // Coalesce the writes of one turn of the event loop into full packets.
    process.nextTick(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  /** Sends what the windows allow: retransmissions first, then new data, then the FIN. */
  #flush(): void {
    if (this.#state === 'closed') return;
    const now = this.#options.now();
    if (this.#state === 'syn-sent') {
      for (const packet of this.#sendBuffer.waiting()) this.#sendPacket(packet, now);
      this.#armTimer(now);
      return;
    }
    for (const packet of this.#sendBuffer.waiting()) {
      if (!this.#mayDispatch(packet.payload.length)) break;
      this.#sendPacket(packet, now);
    }
    {
      while (this.#pending.bytes > 0 && this.#sendBuffer.size < MAX_OUTSTANDING_PACKETS) {
        const size = Math.min(this.#pending.bytes, this.#options.packetSize);
        if (!this.#mayDispatch(size)) break;
        this.#sendPacket(this.#sendBuffer.add(PacketType.DATA, this.#pending.take(size)), now);
      }
      if (this.#finRequested && this.#pending.bytes === 0 && this.#finPacket === undefined) {
        this.#finPacket = this.#sendBuffer.add(PacketType.FIN, new Uint8Array(0));
        if (this.#mayDispatch(0)) this.#sendPacket(this.#finPacket, now);
      }
      this.#pending.releaseWriters();
    }
    // A shut peer window with data waiting: note since when (it may stay shut forever).
    const stalled = this.#peerWindow === 0 && this.#hasUnsentData();
    if (!stalled) this.#zeroWindowSince = 0;
    else if (this.#zeroWindowSince === 0) this.#zeroWindowSince = now;
    this.#armTimer(now);
  }

  #armTimer(now: number): void {
    if (this.#rtoDeadline !== 0) return;
    const waitingForProbe = this.#peerWindow === 0 && this.#hasUnsentData();
    if (this.#sendBuffer.size > 0 || waitingForProbe) this.#rtoDeadline = now + this.#rtt.timeoutMs;
  }

  /** Whether a packet with `size` payload bytes fits the congestion and peer windows now. */
  #mayDispatch(size: number): boolean {
    const inFlight = this.#sendBuffer.bytesInFlight;
    if (inFlight === 0 && this.#probeDue) {
      this.#probeDue = false;
      return true;
    }
    const window = Math.min(this.#ledbat.window, this.#peerWindow);
    if (inFlight + Math.max(size, 1) <= window) return true;
    // Always let one packet go when nothing is in flight and the peer has some room.
    return inFlight === 0 && this.#peerWindow > 0;
  }

  #advertisedWindow(): number {
    const used = this.readableLength + this.#receiveBuffer.bufferedBytes;
    return Math.max(0, this.#options.receiveWindow - used);
  }

  #header(type: Packet['type'], seq: number): Buffer {
    const windowSize = this.#advertisedWindow();
    this.#lastAdvertisedWindow = windowSize;
    return encodeHeader({
      type,
      // A SYN names the id the peer is to use for us; everything else uses the peer's.
      connectionId: type === PacketType.SYN ? this.recvId : this.sendId,
      timestamp: this.#micros(),
      timestampDiff: this.#replyMicro,
      windowSize,
      seq,
      ack: this.#receiveBuffer.ackNr,
      selectiveAck: this.#receiveBuffer.selectiveAck(),
    });
  }

  #sendPacket(packet: OutgoingPacket, now: number): void {
    const header = this.#header(packet.type, packet.seq);
    this.stats.packetsSent++;
    if (packet.transmissions > 0) this.stats.packetsResent++;
    this.#sendBuffer.markSent(packet, now);
    this.#transmit(header, packet.payload.length > 0 ? packet.payload : undefined, now);
  }

  #sendState(): void {
    const now = this.#options.now();
    this.#transmit(this.#header(PacketType.STATE, this.#sendBuffer.next), undefined, now);
  }

  #sendReset(): void {
    const now = this.#options.now();
    this.#transmit(this.#header(PacketType.RESET, this.#sendBuffer.next), undefined, now);
  }

  #transmit(header: Buffer, payload: Uint8Array | undefined, now: number): void {
    this.#needAck = false;
    this.#lastSentMs = now;
    this.#endpoint.send(header, payload, this.remoteAddress, this.remotePort);
  }

  /** Our FIN acked: everything we wrote arrived, so the writable side has finished. */
  #checkFinAcked(): void {
    if (this.#finAcked || this.#finPacket === undefined || this.#sendBuffer.size > 0) return;
    this.#finAcked = true;
    const callback = this.#finalCallback;
    this.#finalCallback = undefined;
    callback?.();
  }

  #close(): void {
    if (this.#state === 'closed') return;
    // The ack of the peer's FIN may still be waiting for its turn: send it before the id goes.
    if (this.#needAck) this.#sendState();
    this.#state = 'closed';
    this.#endpoint.closed(this);
    if (!this.destroyed) this.destroy();
  }

  #micros(): number {
    return Math.floor(this.#options.now() * 1000) >>> 0;
  }
}

/**
 * How far past the next expected packet an early one may be and still be
 * kept: a full receive window of small packets, within the outstanding cap.
 */
function maxPacketsAhead(options: UtpOptions): number {
  return Math.min(Math.ceil(options.receiveWindow / 64), MAX_OUTSTANDING_PACKETS);
}

function connectionError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}
