/**
 * One connection to a peer over any transport (a duplex byte stream: TCP,
 * in-memory, later encrypted or uTP): the BitTorrent handshake, then framed
 * wire messages in both directions. It knows nothing of pieces or policy; the
 * peer and the torrent session drive it. All protocol violations end the
 * connection with a reason (the session decides whether to blame the peer);
 * an exception thrown by whoever handles a message is not the peer's fault
 * and is not caught here.
 *
 * Peers are identified by address AND port (`host:port`), never by IP alone:
 * honest and hostile peers can share an address behind NAT or on loopback.
 */
import { sameBytes } from '../bytes.ts';
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { WireDecoder, type WireDecoderLimits } from '../wire/decoder.ts';
import { decodeHandshake, encodeHandshake, HANDSHAKE_LENGTH } from '../wire/handshake.ts';
import {
  encodeMessage,
  encodePieceHeader,
  encodeRequests,
  type BlockRef,
  type WireMessage,
} from '../wire/messages.ts';
import { addressKey, type PeerAddress } from '../net/peer-address.ts';
import type { Transport } from '../transport/transport.ts';
import { RateMeter } from './rate-meter.ts';
import { ReadBudget } from './read-budget.ts';

export interface HandshakeInfo {
  infoHash: Uint8Array;
  peerId: Uint8Array;
  reserved: Uint8Array;
}

export interface PeerConnectionOptions {
  /** Our handshake. */
  local: HandshakeInfo;
  /** Accepts or refuses the remote handshake (wrong torrent, ourselves, duplicates). */
  acceptRemote: (remote: HandshakeInfo) => string | null;
  handshakeTimeoutMs?: number;
  decoderLimits?: Partial<WireDecoderLimits>;
}

interface PeerConnectionEvents {
  /** The handshake completed in both directions; messages may now flow. */
  ready: [remote: HandshakeInfo];
  message: [message: WireMessage];
  /** The socket asked us to stop writing for a while (upload backpressure) and is writable again. */
  drain: [];
  close: [reason: string];
}

/**
 * Shared by every connection: see read-budget.ts. 1 MiB: a 256 KiB budget
 * cut the first write's delay further but made a 200-file download ~15%
 * slower; from 1 MiB up throughput is as without a budget.
 */
const READ_BUDGET = new ReadBudget(1024 * 1024);

export class PeerConnection extends EventEmitter<PeerConnectionEvents> {
  readonly address: PeerAddress;
  readonly key: string;
  readonly outgoing: boolean;
  readonly downloaded = new RateMeter();
  readonly uploaded = new RateMeter();
  remote: HandshakeInfo | null = null;
  readonly #socket: Duplex;
  /** True while this tick's writes are being held (see #batchWrites). */
  #corked = false;
  readonly #options: PeerConnectionOptions;
  readonly #decoder: WireDecoder;
  #handshakeBuffer: Buffer = Buffer.alloc(0);
  #sentHandshake = false;
  #closed = false;
  #handshakeTimer: NodeJS.Timeout | null = null;
  lastReceivedAt = Date.now();
  lastSentAt = Date.now();
  /** Paused by our owner (rate limit); the read budget must not resume it. */
  #pausedByOwner = false;
  /** Paused until the next turn of the event loop (read budget spent). */
  #pausedForTurn = false;

  private constructor(
    socket: Duplex,
    address: PeerAddress,
    outgoing: boolean,
    options: PeerConnectionOptions,
  ) {
    super();
    this.#socket = socket;
    this.address = address;
    this.key = addressKey(address);
    this.outgoing = outgoing;
    this.#options = options;
    this.#decoder = new WireDecoder(options.decoderLimits);
    // A dialed stream's reads come through the transport's onData (see dial); an accepted one's here.
    if (!outgoing) {
      socket.on('data', (chunk: Buffer) => this.#onData(chunk));
      // Whoever read the opening to route the stream left it paused.
      socket.resume();
    }
    socket.on('error', (error) => this.close(error.message));
    socket.on('close', () => this.close('connection closed by peer'));
    socket.on('drain', () => this.emit('drain'));
    this.#handshakeTimer = setTimeout(
      () => this.close('handshake timed out'),
      options.handshakeTimeoutMs ?? 10_000,
    );
  }

  /**
   * Dials a peer over `transport`, our handshake going out with the connection
   * (inside the MSE handshake when it is encrypted, which saves a round trip
   * before the peer's handshake and bitfield arrive).
   * Rejects with the reason when the connection cannot be made.
   */
  static async dial(
    transport: Transport,
    address: PeerAddress,
    options: PeerConnectionOptions & { connectTimeoutMs?: number },
  ): Promise<PeerConnection> {
    let connection: PeerConnection | null = null;
    // Bytes that arrive before the caller has had a turn to listen (the peer may speak first):
    // held, copied (a transport's chunk is only valid during its callback), then replayed in order.
    let early: Buffer[] | null = [];
    const stream = await transport.dial(address, {
      timeoutMs: options.connectTimeoutMs ?? 5_000,
      infoHash: options.local.infoHash,
      initialPayload: encodeHandshake(options.local),
      onData: (chunk) => {
        if (early) early.push(Buffer.from(chunk));
        else connection!.#onData(chunk);
      },
    });
    const dialed = new PeerConnection(stream, address, true, options);
    connection = dialed;
    dialed.#sentHandshake = true; // the transport sent it (initialPayload)
    setImmediate(() => {
      const held = early!;
      early = null;
      for (const chunk of held) if (!dialed.closed) dialed.#onData(chunk);
    });
    return connection;
  }

  /**
   * Wraps an accepted stream: we answer once the remote handshake names our
   * torrent. `opening` is what was already read from it (a client reads up to
   * the info-hash to find the torrent).
   */
  static accept(
    stream: Duplex,
    address: PeerAddress,
    options: PeerConnectionOptions,
    opening?: Uint8Array,
  ): PeerConnection {
    const connection = new PeerConnection(stream, address, false, options);
    if (opening && opening.length > 0) connection.#onData(Buffer.from(opening));
    return connection;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** True when the socket's buffer is full: hold back uploads until 'drain'. */
  get congested(): boolean {
    return this.#socket.writableNeedDrain;
  }

  send(message: WireMessage): void {
    if (this.#closed) return;
    this.#batchWrites();
    this.#socket.write(encodeMessage(message));
    this.lastSentAt = Date.now();
  }

  /** Sends `request` messages for `blocks`, all in one buffer. */
  sendRequests(blocks: readonly BlockRef[]): void {
    if (this.#closed || blocks.length === 0) return;
    this.#batchWrites();
    this.#socket.write(encodeRequests(blocks));
    this.lastSentAt = Date.now();
  }

  /**
   * Sends a piece message without copying the block into a new buffer.
   * `written` runs once the socket is done with `block` (written, or the
   * connection closed): until then the block's bytes must not change.
   */
  sendBlock(index: number, begin: number, block: Uint8Array, written?: () => void): void {
    if (this.#closed) {
      written?.();
      return;
    }
    this.#batchWrites();
    this.#socket.write(encodePieceHeader(index, begin, block.length));
    this.#socket.write(block, written && (() => written()));
    this.uploaded.add(block.length);
    this.lastSentAt = Date.now();
  }

  /**
   * Holds this tick's messages and sends them in one system call when the
   * tick ends. A write is expensive next to a 17-byte request (on loopback the
   * kernel delivers to the receiver inside the sender's call), and a busy
   * download sends requests, haves and cancels by the dozen per tick.
   */
  #batchWrites(): void {
    if (this.#corked) return;
    this.#corked = true;
    this.#socket.cork();
    process.nextTick(() => {
      this.#corked = false;
      this.#socket.uncork();
    });
  }

  setDecoderLimits(limits: Partial<WireDecoderLimits>): void {
    this.#decoder.setLimits(limits);
  }

  pause(): void {
    this.#pausedByOwner = true;
    this.#socket.pause();
  }

  resume(): void {
    this.#pausedByOwner = false;
    if (!this.#pausedForTurn) this.#socket.resume();
  }

  close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#handshakeTimer) clearTimeout(this.#handshakeTimer);
    this.#socket.destroy();
    this.emit('close', reason);
  }

  #sendHandshake(): void {
    if (this.#sentHandshake || this.#closed) return;
    this.#sentHandshake = true;
    this.#socket.write(encodeHandshake(this.#options.local));
  }

  /** Stops reading for the rest of this turn; this chunk is still decoded. */
  #pauseForTurn(): void {
    this.#pausedForTurn = true;
    this.#socket.pause();
    READ_BUDGET.resumeNextTurn(() => {
      this.#pausedForTurn = false;
      if (!this.#pausedByOwner && !this.#closed) this.#socket.resume();
    });
  }

  #onData(chunk: Buffer): void {
    if (this.#closed) return;
    this.lastReceivedAt = Date.now();
    if (READ_BUDGET.spend(chunk.length) && !this.#pausedForTurn) this.#pauseForTurn();
    if (!this.remote) {
      // Always a copy: the chunk may be the shared read buffer, reused by the next read.
      this.#handshakeBuffer = Buffer.concat([this.#handshakeBuffer, chunk]);
      const result = decodeHandshake(this.#handshakeBuffer);
      if (result.status === 'need-more') {
        // Some clients wait for our handshake before sending their peer id: answer once the info-hash is in.
        if (result.infoHash && !this.#sentHandshake) {
          if (!sameBytes(result.infoHash, this.#options.local.infoHash))
            this.close('handshake for another torrent');
          else this.#sendHandshake();
        }
        return;
      }
      if (result.status === 'invalid') {
        // Typically an encrypted (MSE) handshake: such clients retry in plaintext.
        this.close(`not a BitTorrent handshake (${result.reason})`);
        return;
      }
      const remote = {
        infoHash: result.handshake.infoHash,
        peerId: result.handshake.peerId,
        reserved: result.handshake.reserved,
      };
      const refusal = this.#options.acceptRemote(remote);
      if (refusal) {
        this.close(refusal);
        return;
      }
      this.remote = remote;
      if (this.#handshakeTimer) clearTimeout(this.#handshakeTimer);
      this.#handshakeTimer = null;
      this.#sendHandshake();
      const rest = this.#handshakeBuffer.subarray(HANDSHAKE_LENGTH);
      this.#handshakeBuffer = Buffer.alloc(0);
      this.emit('ready', remote);
      if (rest.length === 0 || this.#closed) return;
      chunk = rest;
    }
    this.#decoder.push(chunk);
    for (;;) {
      let message: WireMessage | null;
      try {
        message = this.#decoder.next();
      } catch (error) {
        this.close(`protocol error: ${(error as Error).message}`);
        return;
      }
      if (!message) return;
      if (message.type === 'piece') this.downloaded.add(message.block.length);
      // Not inside the try: a handler's exception is an engine bug, not the peer's doing.
      this.emit('message', message);
      if (this.#closed) return;
    }
  }
}
