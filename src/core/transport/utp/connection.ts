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
 *
 * This file is the state machine (handshake, FIN and RESET, timeouts, the
 * packet header); what we send (windows, loss, retransmission, the bytes
 * written) is `UtpSender` (sender.ts), what we receive (reordering, acks,
 * the window we advertise) is `UtpReceiver` (receiver.ts).
 */
import { Duplex } from 'node:stream';
import { encodeHeader, PacketType, type Packet } from './packet.ts';
import { UtpReceiver } from './receiver.ts';
import { UtpSender, type UtpSendStats } from './sender.ts';
import { seqAdd } from './seq.ts';
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
  readonly stats: UtpSendStats;

  #state: State;
  readonly #endpoint: UtpEndpoint;
  readonly #options: UtpOptions;
  /** Windows, retransmission and the bytes written: what we send. */
  readonly #sender: UtpSender;
  /** Reordering, acks and the window we advertise: what we receive. */
  readonly #receiver: UtpReceiver;

  /** The timestamp difference we report: our clock minus the peer's on its last packet. */
  #replyMicro = 0;
  #flushScheduled = false;

  /** end()'s callback: called once the peer acked our FIN, so 'finish' means delivered. */
  #finalCallback: ((error?: Error | null) => void) | undefined;
  #readEnded = false;
  /**
   * After the peer's FIN (0 before it): the time by which something of ours
   * must be acked, `finTimeoutMs` after their FIN or the last ack since.
   */
  #finDeadline = 0;
  #finAcked = false;
  #resetReceived = false;

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
    this.remoteAddress = init.host;
    this.remotePort = init.port;
    this.remoteFamily = init.host.includes(':') ? 'IPv6' : 'IPv4';
    this.recvId = init.ids.recvId;
    this.sendId = init.ids.sendId;
    this.#createdMs = this.#lastReceivedMs = init.options.now();
    this.#sender = new UtpSender({
      options: init.options,
      initialSeq: init.initialSeq,
      peerWindow: init.syn?.windowSize ?? init.options.packetSize,
      transmit: (packet, now) => {
        const payload = packet.payload.length > 0 ? packet.payload : undefined;
        this.#transmit(this.#header(packet.type, packet.seq), payload, now);
      },
    });
    this.stats = this.#sender.stats;
    this.#connected = new Promise((resolve, reject) => {
      this.#resolveConnected = resolve;
      this.#rejectConnected = reject;
    });
    this.#connected.catch(() => {});
    if (init.syn) {
      // Incoming: our ack starts at the SYN; our first packet reuses initialSeq
      // (the STATE that answers the SYN carries it without using it up).
      this.#state = 'syn-received';
      this.#receiver = new UtpReceiver(init.options, init.syn.seq);
      this.#replyMicro = (this.#micros() - init.syn.timestamp) >>> 0;
      this.#sendState();
    } else {
      this.#state = 'syn-sent';
      this.#receiver = new UtpReceiver(init.options, 0);
      this.#sender.queueSyn();
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
    return this.#sender.congestionWindow;
  }

  /** Smoothed round-trip time, ms. */
  get rttMs(): number {
    return this.#sender.rttMs;
  }

  // ---- the stream side ----

  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    this.#sender.write(chunk, callback);
    this.#scheduleFlush();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#sender.requestFin();
    this.#finalCallback = callback;
    this.#flush();
  }

  override _read(): void {
    // The reader caught up: if our window looked (nearly) shut, say it opened.
    if (this.#state === 'connected' && this.#receiver.windowReopened(this.readableLength)) {
      this.#sendState();
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#sender.dropPending();
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
      if (packet.type !== PacketType.STATE || packet.ack !== this.#sender.oldestSeq) return;
      // The peer's STATE carries the sequence number of its first data packet.
      this.#receiver.restartAt(seqAdd(packet.seq, -1));
      this.#state = 'connected';
      this.#resolveConnected();
    }
    const ackIsNews = this.#sender.ackIsNews(packet.ack);
    // An ack of data never sent drops the packet; an old ack (the packet came late) only skips the ack.
    if (!ackIsNews && !this.#sender.ackIsStale(packet.ack)) return;
    this.#lastReceivedMs = now;
    this.#replyMicro = (this.#micros() - packet.timestamp) >>> 0;
    if (this.#state === 'syn-received') {
      this.#state = 'connected';
      this.#endpoint.established(this);
    }
    // The peer is still there and taking what we queued before its FIN: keep delivering it.
    if (ackIsNews && this.#sender.onAck(packet, now) && this.#finDeadline !== 0) {
      this.#finDeadline = now + this.#options.finTimeoutMs;
    }
    if (packet.type === PacketType.DATA || packet.type === PacketType.FIN) this.#receive(packet);
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
    const shutSince = this.#sender.windowShutSince;
    if (shutSince !== 0 && now - shutSince > this.#options.idleTimeoutMs) {
      this.destroy(connectionError('ETIMEDOUT', 'uTP peer kept its receive window shut'));
      return;
    }
    if (this.#finDeadline !== 0 && now >= this.#finDeadline && !this.#finAcked) {
      // The peer said goodbye and does not ack ours: it has most likely gone already.
      this.destroy();
      return;
    }
    if (this.#sender.retransmitDue(now)) {
      const outcome = this.#sender.onRetransmitTimeout(now);
      if (outcome === 'gave-up') {
        this.destroy(connectionError('ETIMEDOUT', 'uTP peer stopped acknowledging'));
      } else if (outcome === 'resend') {
        this.#flush();
      }
    }
    if (this.#state === 'connected' && now - this.#lastSentMs > this.#options.keepAliveMs)
      this.#sendState();
  }

  /** Sends a bare ack if no data packet carried one since it became due. */
  sendAckIfNeeded(): void {
    if (this.#receiver.ackDue && this.#state !== 'closed') this.#sendState();
  }

  // ---- internals ----

  /** A DATA or FIN packet: acked, and what is now in order handed to the reader. */
  #receive(packet: Packet): void {
    const arrival = this.#receiver.receive(packet, this.readableLength);
    if (arrival.ackDue) this.#endpoint.scheduleAck(this);
    for (const received of arrival.deliver) {
      if (received.fin) {
        this.#readEnded = true;
        this.#finDeadline = this.#options.now() + this.#options.finTimeoutMs;
        this.push(null);
        break;
      }
      if (received.payload.length > 0 && !this.destroyed) this.push(received.payload);
    }
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

  /** Sends what the state allows: only the SYN while connecting, else what fits the windows. */
  #flush(): void {
    if (this.#state === 'closed') return;
    const now = this.#options.now();
    if (this.#state === 'syn-sent') this.#sender.sendHandshake(now);
    else this.#sender.sendWhatFits(now);
  }

  #header(type: Packet['type'], seq: number): Buffer {
    return encodeHeader({
      type,
      // A SYN names the id the peer is to use for us; everything else uses the peer's.
      connectionId: type === PacketType.SYN ? this.recvId : this.sendId,
      timestamp: this.#micros(),
      timestampDiff: this.#replyMicro,
      windowSize: this.#receiver.advertise(this.readableLength),
      seq,
      ack: this.#receiver.ackNr,
      selectiveAck: this.#receiver.selectiveAck(),
    });
  }

  #sendState(): void {
    const now = this.#options.now();
    this.#transmit(this.#header(PacketType.STATE, this.#sender.nextSeq), undefined, now);
  }

  #sendReset(): void {
    const now = this.#options.now();
    this.#transmit(this.#header(PacketType.RESET, this.#sender.nextSeq), undefined, now);
  }

  #transmit(header: Buffer, payload: Uint8Array | undefined, now: number): void {
    this.#receiver.ackSent();
    this.#lastSentMs = now;
    this.#endpoint.send(header, payload, this.remoteAddress, this.remotePort);
  }

  /** Our FIN acked: everything we wrote arrived, so the writable side has finished. */
  #checkFinAcked(): void {
    if (this.#finAcked || !this.#sender.finDelivered) return;
    this.#finAcked = true;
    const callback = this.#finalCallback;
    this.#finalCallback = undefined;
    callback?.();
  }

  #close(): void {
    if (this.#state === 'closed') return;
    // The ack of the peer's FIN may still be waiting for its turn: send it before the id goes.
    if (this.#receiver.ackDue) this.#sendState();
    this.#state = 'closed';
    this.#endpoint.closed(this);
    if (!this.destroyed) this.destroy();
  }

  #micros(): number {
    return Math.floor(this.#options.now() * 1000) >>> 0;
  }
}

function connectionError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}
