/**
 * A uTP endpoint over one UDP socket: outgoing connections (`connect`),
 * incoming ones (the 'connection' event), and the demultiplexing of
 * datagrams to them by (address, port, connection id).
 *
 * Two ways to run it:
 * - sharing a UDP socket with the DHT, as libtorrent does: `new UtpSocket(udp)`,
 *   and the socket's owner passes each datagram to `handleDatagram`, which
 *   says whether it was uTP (else it is the DHT's);
 * - on a socket of its own: `await UtpSocket.listen({ port, host })`.
 *
 * Hostile input stays bounded: malformed datagrams and unknown connection
 * ids are dropped (the latter answered with a RESET, never amplified), SYNs
 * beyond `maxHalfOpen` unanswered connections or `maxConnections` in all are
 * dropped, and every connection has idle and retransmission limits.
 */
import dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { literalLookup } from '../../net/literal-lookup.ts';
import { UtpConnection, type UtpEndpoint } from './connection.ts';
import { defaultUtpOptions, type UtpOptions } from './options.ts';
import { decodePacket, encodeHeader, looksLikeUtp, PacketType, type Packet } from './packet.ts';

/** How often connection timers are checked: well under the 500 ms minimum retransmission timeout. */
const TICK_MS = 50;

export interface UtpSocketEvents {
  connection: [UtpConnection];
  error: [Error];
}

export class UtpSocket extends EventEmitter<UtpSocketEvents> {
  readonly #udp: dgram.Socket;
  readonly #ownsSocket: boolean;
  readonly #options: UtpOptions;
  readonly #connections = new Map<string, UtpConnection>();
  /** Incoming connections answered but not yet confirmed by a second packet from the peer. */
  readonly #halfOpen = new Set<UtpConnection>();
  #family: string | undefined;
  #ticker: NodeJS.Timeout | undefined;
  readonly #needAck = new Set<UtpConnection>();
  #ackScheduled = false;
  #closed = false;
  readonly #endpoint: UtpEndpoint;

  /**
   * uTP over `udp`, a socket someone else reads: pass its datagrams to
   * `handleDatagram`. (`UtpSocket.listen` makes a socket of its own instead.)
   */
  constructor(udp: dgram.Socket, options: Partial<UtpOptions> = {}, ownsSocket = false) {
    super();
    this.#udp = udp;
    this.#ownsSocket = ownsSocket;
    this.#options = { ...defaultUtpOptions, ...options };
    this.#endpoint = {
      send: (header, payload, host, port) => this.#send(header, payload, host, port),
      scheduleAck: (connection) => this.#scheduleAck(connection),
      established: (connection) => {
        this.#halfOpen.delete(connection);
        this.emit('connection', connection);
      },
      closed: (connection) => this.#forget(connection),
    };
  }

  /** A UtpSocket on a UDP socket of its own, bound to `host` (default 127.0.0.1) and `port` (0: any). */
  static async listen(
    options: { port?: number; host?: string } & Partial<UtpOptions> = {},
  ): Promise<UtpSocket> {
    const host = options.host ?? '127.0.0.1';
    // Any IPv6 literal has a colon and no IPv4 address or host name has one: net.isIPv6 would
    // compile Node's IPv6 pattern, 10-20 ms on the way to a download's first byte.
    const udp = dgram.createSocket({
      type: host.includes(':') ? 'udp6' : 'udp4',
      lookup: literalLookup,
    });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(options.port ?? 0, host, () => {
        udp.off('error', reject);
        resolve();
      });
    });
    // A full window arriving in one burst overflows the default receive buffer
    // (about 200 KiB) and reads as loss; ask for more (the kernel caps it at rmem_max).
    for (const set of [udp.setRecvBufferSize, udp.setSendBufferSize]) {
      try {
        set.call(udp, 4 * 1024 * 1024);
      } catch {
        // not allowed here: the default works, only slower
      }
    }
    const socket = new UtpSocket(udp, options, true);
    udp.on('message', (message, rinfo) => socket.handleDatagram(message, rinfo));
    udp.on('error', (error) => socket.emit('error', error));
    return socket;
  }

  /** The UDP port (for a socket that is bound). */
  get port(): number {
    return this.#udp.address().port;
  }

  /** Connections open now, all states. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Incoming connections answered and not yet confirmed by the peer. */
  get halfOpenCount(): number {
    return this.#halfOpen.size;
  }

  /**
   * One datagram from the UDP socket. Returns true when it was uTP (handled,
   * or dropped as malformed), false when it is someone else's (the DHT's).
   */
  handleDatagram(message: Uint8Array, rinfo: { address: string; port: number }): boolean {
    if (!looksLikeUtp(message) || this.#closed) return looksLikeUtp(message);
    const decoded = decodePacket(message);
    if (!decoded.ok) return true;
    const packet = decoded.packet;
    const host = unmapIPv4(rinfo.address);
    const connection = this.#connections.get(key(host, rinfo.port, packet.connectionId));
    if (packet.type === PacketType.SYN) {
      // A repeated SYN finds the connection it made, under its id + 1.
      const existing = this.#connections.get(
        key(host, rinfo.port, (packet.connectionId + 1) & 0xffff),
      );
      if (existing) existing.handlePacket(packet);
      else this.#accept(packet, host, rinfo.port);
    } else if (connection) {
      connection.handlePacket(packet);
    } else if (packet.type !== PacketType.RESET) {
      this.#sendResetFor(packet, host, rinfo.port);
    }
    return true;
  }

  /** Opens a uTP connection to host:port; rejects on timeout, reset or socket close. */
  connect(
    host: string,
    port: number,
    options: { timeoutMs?: number } = {},
  ): Promise<UtpConnection> {
    if (this.#closed) return Promise.reject(new Error('uTP socket is closed'));
    const plain = unmapIPv4(host);
    const recvId = this.#freeId(plain, port);
    if (recvId === undefined) return Promise.reject(new Error('no free uTP connection id'));
    const connection = new UtpConnection({
      endpoint: this.#endpoint,
      options: {
        ...this.#options,
        connectTimeoutMs: options.timeoutMs ?? this.#options.connectTimeoutMs,
      },
      host: plain,
      port,
      ids: { recvId, sendId: (recvId + 1) & 0xffff },
      initialSeq: randomInt(0x10000),
    });
    this.#register(connection);
    // Until the caller holds the stream, an error would have no listener.
    const swallow = () => {};
    connection.on('error', swallow);
    return connection.connected.then(
      () => {
        connection.off('error', swallow);
        return connection;
      },
      (error: Error) => {
        connection.destroy();
        throw error;
      },
    );
  }

  /** Resets every connection and, if it owns its UDP socket, closes that. */
  async close(): Promise<void> {
    if (this.#closed) return;
    for (const connection of [...this.#connections.values()]) connection.destroy();
    this.#closed = true;
    this.#connections.clear();
    this.#halfOpen.clear();
    this.#stopTicker();
    if (this.#ownsSocket) await new Promise<void>((resolve) => this.#udp.close(() => resolve()));
  }

  #accept(syn: Packet, host: string, port: number): void {
    if (
      this.#halfOpen.size >= this.#options.maxHalfOpen ||
      this.#connections.size >= this.#options.maxConnections
    ) {
      return; // a SYN flood, or simply full: the peer retries or gives up
    }
    const connection = new UtpConnection({
      endpoint: this.#endpoint,
      options: this.#options,
      host,
      port,
      ids: { recvId: (syn.connectionId + 1) & 0xffff, sendId: syn.connectionId },
      syn,
      initialSeq: randomInt(0x10000),
    });
    this.#halfOpen.add(connection);
    this.#register(connection);
  }

  #register(connection: UtpConnection): void {
    this.#connections.set(
      key(connection.remoteAddress, connection.remotePort, connection.recvId),
      connection,
    );
    this.#ticker ??= setInterval(() => this.#tick(), TICK_MS).unref();
  }

  #forget(connection: UtpConnection): void {
    const id = key(connection.remoteAddress, connection.remotePort, connection.recvId);
    if (this.#connections.get(id) !== connection) return;
    this.#connections.delete(id);
    this.#halfOpen.delete(connection);
    this.#needAck.delete(connection);
    if (this.#connections.size === 0) this.#stopTicker();
  }

  #tick(): void {
    for (const connection of [...this.#connections.values()]) connection.tick();
  }

  #stopTicker(): void {
    if (this.#ticker) clearInterval(this.#ticker);
    this.#ticker = undefined;
  }

  #freeId(host: string, port: number): number | undefined {
    for (let attempt = 0; attempt < 64; attempt++) {
      const id = randomInt(0x10000);
      // The peer will send to id; our SYN names it, and a SYN from the peer would use id - 1.
      if (!this.#connections.has(key(host, port, id))) return id;
    }
    return undefined;
  }

  #scheduleAck(connection: UtpConnection): void {
    this.#needAck.add(connection);
    if (this.#ackScheduled) return;
    this.#ackScheduled = true;
    // After the datagrams already queued are read: one ack for a burst of them.
    setImmediate(() => {
      this.#ackScheduled = false;
      const due = [...this.#needAck];
      this.#needAck.clear();
      for (const each of due) each.sendAckIfNeeded();
    });
  }

  #sendResetFor(packet: Packet, host: string, port: number): void {
    const header = encodeHeader({
      type: PacketType.RESET,
      connectionId: packet.connectionId,
      timestamp: Math.floor(this.#options.now() * 1000) >>> 0,
      timestampDiff: 0,
      windowSize: 0,
      seq: 0,
      ack: packet.seq,
    });
    this.#send(header, undefined, host, port);
  }

  #send(header: Buffer, payload: Uint8Array | undefined, host: string, port: number): void {
    if (this.#closed && this.#ownsSocket) return;
    try {
      this.#family ??= this.#udp.address().family;
      const address = this.#family === 'IPv6' && net.isIPv4(host) ? `::ffff:${host}` : host;
      this.#udp.send(payload ? [header, payload] : header, port, address, ignoreSendError);
    } catch {
      // The UDP socket is closed: the connections are being torn down anyway.
    }
  }
}

function ignoreSendError(): void {
  // A datagram that cannot be sent is a lost packet; retransmission deals with it.
}

function key(host: string, port: number, id: number): string {
  return `${host}|${port}|${id}`;
}

/** An IPv4 peer on a dual-stack socket shows as ::ffff:a.b.c.d: key it by its IPv4 form. */
function unmapIPv4(address: string): string {
  return address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
}
