/**
 * The client a session runs on: the one it was given (a daemon's, shared
 * with other torrents, started and closed by its owner) or one of its own,
 * made when the session joins and closed when it leaves. The session's peer
 * pool is built before either exists, so it dials through `transport`,
 * which reaches the client once there is one.
 */
import type { Duplex } from 'node:stream';
import { Client, type ClientTorrent } from '../client/client.ts';
import type { HashPool } from '../hashing/pool.ts';
import type { Transport } from '../transport/transport.ts';

export interface SessionClientOptions {
  /** A client to run on; without one the session makes its own. */
  client?: Client;
  /** Our own client's port: 0 picks a free one, null does not listen. */
  port?: number | null;
  hashPool: HashPool;
  warn: (message: string) => void;
  listening: (port: number) => void;
}

export class SessionClient {
  readonly #options: SessionClientOptions;
  #client: Client | null;
  readonly #owned: boolean;
  /** How the peer pool dials. */
  readonly transport: Transport;

  constructor(options: SessionClientOptions) {
    this.#options = options;
    this.#client = options.client ?? null;
    this.#owned = !options.client;
    this.transport = options.client?.transport ?? {
      name: 'unset',
      dial: (address, dialOptions) => this.#dial(address, dialOptions),
    };
  }

  /** The port peers reach us on (0 when not listening, or before joining). */
  get port(): number {
    return this.#client?.port ?? 0;
  }

  /** Joins the client we were given, or makes one of our own (listening when a port was given). */
  async join(torrent: ClientTorrent): Promise<void> {
    const options = this.#options;
    if (!this.#client) {
      this.#client = new Client({ port: options.port ?? 0, hashPool: options.hashPool });
      this.#client.on('warning', options.warn);
      this.#client.on('listening', options.listening);
    }
    if (this.#owned && options.port !== null) await this.#client.start();
    // A client we were given was started by its owner: say where it listens all the same.
    else if (this.#client.port) options.listening(this.#client.port);
    this.#client.add(torrent);
  }

  /** Stops routing connections to the torrent; harmless before joining. */
  leave(torrent: ClientTorrent): void {
    this.#client?.remove(torrent);
  }

  /** Closes our own client; one we were given stays open for its owner. */
  async close(): Promise<void> {
    if (this.#owned) await this.#client?.close();
  }

  #dial(...args: Parameters<Transport['dial']>): Promise<Duplex> {
    if (!this.#client) return Promise.reject(new Error('not connected to a client yet'));
    return this.#client.transport.dial(...args);
  }
}
