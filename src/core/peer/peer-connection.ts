/**
 * One TCP connection to a peer: the BitTorrent handshake, then framed wire
 * messages in both directions. It knows nothing of pieces or policy; the
 * torrent session drives it. All protocol violations end the connection with
 * a reason (the session decides whether to blame the peer).
 *
 * Peers are identified by address AND port (`host:port`), never by IP alone:
 * honest and hostile peers can share an address behind NAT or on loopback.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
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
 * Where outgoing connections read: one buffer for all of them. Node otherwise
 * allocates a fresh 64 KiB buffer for every read, which at download speed is
 * gigabytes of short-lived memory to allocate, track and collect. Sharing one
 * is safe because a read's bytes are decoded to the end, synchronously, before
 * the next read, and whatever outlives that is copied: the handshake bytes,
 * bitfields and extension payloads (by the decoder), blocks (into the piece
 * buffers). Accepted sockets cannot take `onread`, so they read the usual way.
 */
const SHARED_READ_BUFFER = Buffer.allocUnsafe(256 * 1024);

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
  readonly #socket: net.Socket;
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
    socket: net.Socket,
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
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (error) => this.close(error.message));
    socket.on('close', () => this.close('connection closed by peer'));
    socket.on('drain', () => this.emit('drain'));
    this.#handshakeTimer = setTimeout(
      () => this.close('handshake timed out'),
      options.handshakeTimeoutMs ?? 10_000,
    );
  }

  /** Dials a peer and sends our handshake as soon as the socket connects. */
  static connect(
    address: PeerAddress,
    options: PeerConnectionOptions & { connectTimeoutMs?: number },
  ): PeerConnection {
    let connection: PeerConnection | null = null;
    const socket = net.connect({
      host: address.host,
      port: address.port,
      // Read into one reused buffer instead of a new one per read (see SHARED_READ_BUFFER).
      onread: {
        buffer: SHARED_READ_BUFFER,
        callback: (bytes) => {
          if (connection) connection.#onData(SHARED_READ_BUFFER.subarray(0, bytes));
          return true;
        },
      },
    });
    connection = new PeerConnection(socket, address, true, options);
    const dialed = connection;
    socket.setTimeout(options.connectTimeoutMs ?? 5_000, () => {
      if (!dialed.remote) dialed.close('connection timed out');
    });
    socket.once('connect', () => {
      socket.setTimeout(0);
      dialed.#sendHandshake();
    });
    return dialed;
  }

  /** Wraps an accepted socket: we answer once the remote handshake names our torrent. */
  static accept(socket: net.Socket, options: PeerConnectionOptions): PeerConnection {
    const address = { host: socket.remoteAddress ?? '?', port: socket.remotePort ?? 0 };
    return new PeerConnection(
      socket,
      address.host.startsWith('::ffff:') ? { ...address, host: address.host.slice(7) } : address,
      false,
      options,
    );
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
    try {
      for (let message = this.#decoder.next(); message; message = this.#decoder.next()) {
        if (message.type === 'piece') this.downloaded.add(message.block.length);
        this.emit('message', message);
        if (this.#closed) return;
      }
    } catch (error) {
      this.close(`protocol error: ${(error as Error).message}`);
    }
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
