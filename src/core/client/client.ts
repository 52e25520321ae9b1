/**
 * What one shoal process shares between its torrents: the listening port and
 * the transport that dials, the routing of incoming connections to the
 * torrent they name, and the hash pool. `download` and `seed` run one
 * torrent on a client; a daemon runs many on one (one port for all).
 *
 * A torrent joins with `add()` and leaves with `remove()` at any time; a
 * connection for a torrent the client does not run is closed after its
 * first 48 bytes.
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type { HashPool } from '../hashing/pool.ts';
import type { PeerAddress } from '../net/peer-address.ts';
import { listenTcp, tcpTransport } from '../transport/tcp.ts';
import type { IncomingStream, Listener, Transport } from '../transport/transport.ts';
import { openingInfoHash, readOpening } from './incoming.ts';

/** A torrent as the client sees it: an info-hash and a way to take on a connection. */
export interface ClientTorrent {
  /** The 20-byte info-hash peers use in the handshake. */
  readonly infoHash: Uint8Array;
  accept(stream: Duplex, address: PeerAddress, opening: Uint8Array): void;
}

export type ListenFunction = (
  port: number,
  onStream: (incoming: IncomingStream) => void,
  onError: (error: Error) => void,
) => Promise<Listener>;

export interface ClientOptions {
  /** Port to listen on; 0 picks a free one; null does not listen. */
  port: number | null;
  hashPool: HashPool;
  /** How peers are dialed (default TCP). */
  transport?: Transport;
  /** How the client listens (default TCP on every address). */
  listen?: ListenFunction;
  /** An incoming connection must name its torrent within this long (default 10 s). */
  openingTimeoutMs?: number;
  /** Most incoming connections still in their first 48 bytes (default 256). */
  maxPendingOpenings?: number;
}

interface ClientEvents {
  listening: [port: number];
  warning: [message: string];
}

export class Client extends EventEmitter<ClientEvents> {
  readonly hashPool: HashPool;
  readonly transport: Transport;
  readonly #options: ClientOptions;
  readonly #torrents = new Map<string, ClientTorrent>();
  #listener: Listener | null = null;
  #pendingOpenings = 0;
  #closed = false;

  constructor(options: ClientOptions) {
    super();
    this.#options = options;
    this.hashPool = options.hashPool;
    this.transport = options.transport ?? tcpTransport;
  }

  /** The port incoming connections reach (0 when not listening). */
  get port(): number {
    return this.#listener?.port ?? 0;
  }

  /** The torrents running, by info-hash (hex). */
  get torrents(): ReadonlyMap<string, ClientTorrent> {
    return this.#torrents;
  }

  /** Starts listening (when a port was given). Rejects with NetworkError when the port is taken. */
  async start(): Promise<void> {
    if (this.#listener || this.#options.port === null) return;
    const listen = this.#options.listen ?? listenTcp;
    this.#listener = await listen(
      this.#options.port,
      (incoming) => this.#onIncoming(incoming),
      (error) => this.emit('warning', `listener: ${error.message}`),
    );
    this.emit('listening', this.#listener.port);
  }

  add(torrent: ClientTorrent): void {
    const key = Buffer.from(torrent.infoHash).toString('hex');
    if (this.#torrents.has(key)) throw new Error(`torrent ${key} is already running`);
    this.#torrents.set(key, torrent);
  }

  remove(torrent: ClientTorrent): void {
    const key = Buffer.from(torrent.infoHash).toString('hex');
    if (this.#torrents.get(key) === torrent) this.#torrents.delete(key);
  }

  /** Stops listening; the torrents stop themselves. */
  async close(): Promise<void> {
    this.#closed = true;
    const listener = this.#listener;
    this.#listener = null;
    await listener?.close();
  }

  async #onIncoming({ stream, address }: IncomingStream): Promise<void> {
    const limit = this.#options.maxPendingOpenings ?? 256;
    if (this.#closed || this.#pendingOpenings >= limit) {
      stream.destroy();
      return;
    }
    stream.on('error', () => {});
    this.#pendingOpenings++;
    let opening: Buffer;
    try {
      opening = await readOpening(stream, this.#options.openingTimeoutMs ?? 10_000);
    } catch {
      stream.destroy();
      return;
    } finally {
      this.#pendingOpenings--;
    }
    const torrent = this.#torrents.get(openingInfoHash(opening));
    if (!torrent || this.#closed) {
      stream.destroy();
      return;
    }
    torrent.accept(stream, address, opening);
  }
}
