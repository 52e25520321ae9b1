/**
 * What one shoal process shares between its torrents: the listening port and
 * the transport that dials, the routing of incoming connections to the
 * torrent they name, and the hash pool. `download` and `seed` run one
 * torrent on a client; a daemon runs many on one (one port for all).
 *
 * A torrent joins with `add()` and leaves with `remove()` at any time; a
 * connection for a torrent the client does not run is closed after its
 * first 48 bytes (or, encrypted, once its SKEY names no torrent we run).
 *
 * The client also owns at most one DHT node (`dhtNode()`), made when the
 * first torrent wants the DHT and destroyed with the client: one UDP socket
 * and one routing table however many torrents look up their peers there.
 *
 * How peers are reached is the client's choice, not the torrents':
 * `transports` (TCP, uTP or both, on one port number) and `encryption` (MSE
 * policy, both directions); see dialer.ts and listen.ts.
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { DhtNode, type DhtNodeOptions } from '../dht/dht-node.ts';
import type { HashPool } from '../hashing/pool.ts';
import type { PeerAddress } from '../net/peer-address.ts';
import {
  secureIncoming,
  SkeyIndex,
  type EncryptionPolicy,
  type SecuredConnection,
} from '../transport/mse/index.ts';
import type { IncomingStream, Listener, Transport } from '../transport/transport.ts';
import type { UtpSocket } from '../transport/utp/socket.ts';
import { listenUtp } from '../transport/utp/utp-transport.ts';
import { clientTransport, type TransportChoice } from './dialer.ts';
import { openingInfoHash, readOpening } from './incoming.ts';
import { listenForPeers } from './listen.ts';

/** A torrent as the client sees it: an info-hash and a way to take on a connection. */
export interface ClientTorrent {
  /** The 20-byte info-hash peers use in the handshake. */
  readonly infoHash: Uint8Array;
  /**
   * Every 20-byte hash peers may name the torrent by (a hybrid has two, see
   * swarm-hashes.ts); without it, `infoHash` alone. A connection naming any
   * of them is routed here, its opening telling which one it used.
   */
  readonly infoHashes?: readonly Uint8Array[];
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
  /** TCP, uTP or both, for dialing and listening (default TCP). */
  transports?: TransportChoice;
  /** MSE both ways: prefer, require or off (default off). */
  encryption?: EncryptionPolicy;
  /** How peers are dialed, replacing `transports` and `encryption` when dialing (tests). */
  transport?: Transport;
  /** How the client listens, replacing `transports` when listening (tests). */
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
  readonly #options: ClientOptions;
  readonly #torrents = new Map<string, ClientTorrent>();
  /** The SKEY (info-hash) of every torrent, for incoming MSE connections. */
  readonly #skeys = new SkeyIndex();
  #encryption: EncryptionPolicy;
  /** The dialing transport for each encryption policy used so far (see `transport`). */
  readonly #transports = new Map<EncryptionPolicy, Transport>();
  #listener: Listener | null = null;
  /** The UDP socket uTP dials from: the listening one, or one of its own when not listening. */
  #utpSocket: UtpSocket | null = null;
  #dialOnlySocket: Promise<UtpSocket> | null = null;
  #pendingOpenings = 0;
  #closed = false;
  #dht: DhtNode | null = null;

  constructor(options: ClientOptions) {
    super();
    this.#options = options;
    this.hashPool = options.hashPool;
    this.#encryption = options.encryption ?? 'off';
  }

  /** How peers are dialed now: with the encryption policy in force (it may change, see below). */
  get transport(): Transport {
    if (this.#options.transport) return this.#options.transport;
    let transport = this.#transports.get(this.#encryption);
    if (!transport) {
      transport = clientTransport({
        transport: this.#options.transports ?? 'tcp',
        encryption: this.#encryption,
        utpSocket: () => this.#socketForUtp(),
      });
      this.#transports.set(this.#encryption, transport);
    }
    return transport;
  }

  get encryption(): EncryptionPolicy {
    return this.#encryption;
  }

  /**
   * Changes the MSE policy (the daemon's session-set `encryption`): incoming
   * connections follow it at once, dials made from now on too; connections
   * already open stay as they are.
   */
  set encryption(policy: EncryptionPolicy) {
    this.#encryption = policy;
  }

  /** The port incoming connections reach (0 when not listening). */
  get port(): number {
    return this.#listener?.port ?? 0;
  }

  /** The torrents running, by info-hash (hex): a hybrid is there under both of its hashes. */
  get torrents(): ReadonlyMap<string, ClientTorrent> {
    return this.#torrents;
  }

  /** Starts listening (when a port was given). Rejects with NetworkError when the port is taken. */
  async start(): Promise<void> {
    if (this.#listener || this.#options.port === null) return;
    const onStream = (incoming: IncomingStream) => void this.#onIncoming(incoming);
    const onError = (error: Error) => this.emit('warning', `listener: ${error.message}`);
    if (this.#options.listen) {
      this.#listener = await this.#options.listen(this.#options.port, onStream, onError);
    } else {
      const listener = await listenForPeers(
        this.#options.transports ?? 'tcp',
        this.#options.port,
        onStream,
        onError,
      );
      this.#utpSocket = listener.utpSocket;
      this.#listener = listener;
    }
    this.emit('listening', this.#listener.port);
  }

  /** Routes connections naming any of the torrent's hashes to it (all or none: one taken refuses). */
  add(torrent: ClientTorrent): void {
    const hashes = hashesOf(torrent);
    for (const hash of hashes) {
      const key = Buffer.from(hash).toString('hex');
      if (this.#torrents.has(key)) throw new Error(`torrent ${key} is already running`);
    }
    for (const hash of hashes) {
      this.#torrents.set(Buffer.from(hash).toString('hex'), torrent);
      this.#skeys.add(hash);
    }
  }

  remove(torrent: ClientTorrent): void {
    for (const hash of hashesOf(torrent)) {
      const key = Buffer.from(hash).toString('hex');
      if (this.#torrents.get(key) !== torrent) continue;
      this.#torrents.delete(key);
      this.#skeys.delete(hash);
    }
  }

  /**
   * The client's DHT node, made (and started) on the first call with these
   * options; later calls get the same node whatever options they pass.
   */
  dhtNode(options: DhtNodeOptions): DhtNode {
    if (this.#closed) throw new Error('client is closed');
    if (!this.#dht) {
      this.#dht = new DhtNode(options, (message) => this.emit('warning', message));
      void this.#dht.start();
    }
    return this.#dht;
  }

  /** The DHT node, if a torrent has asked for one (for stats). */
  get dht(): DhtNode | null {
    return this.#dht;
  }

  /** Stops listening and the DHT node; the torrents stop themselves. */
  async close(): Promise<void> {
    this.#closed = true;
    const dht = this.#dht;
    this.#dht = null;
    const listener = this.#listener;
    this.#listener = null;
    this.#utpSocket = null;
    const dialOnly = this.#dialOnlySocket;
    this.#dialOnlySocket = null;
    await Promise.all([
      listener?.close(),
      dialOnly?.then((socket) => socket.close()),
      dht?.destroy(),
    ]);
  }

  /** The listening UDP socket, or (not listening for uTP) one bound on any free port, once. */
  #socketForUtp(): Promise<UtpSocket> {
    if (this.#utpSocket) return Promise.resolve(this.#utpSocket);
    if (this.#closed) return Promise.reject(new Error('client is closed'));
    this.#dialOnlySocket ??= listenUtp(
      0,
      ({ stream }) => stream.destroy(), // not listening: nobody takes incoming connections
      (error) => this.emit('warning', `uTP: ${error.message}`),
    ).then((listener) => listener.socket);
    return this.#dialOnlySocket;
  }

  async #onIncoming({ stream, address }: IncomingStream): Promise<void> {
    const limit = this.#options.maxPendingOpenings ?? 256;
    if (this.#closed || this.#pendingOpenings >= limit) {
      stream.destroy();
      return;
    }
    stream.on('error', () => {});
    this.#pendingOpenings++;
    const timeoutMs = this.#options.openingTimeoutMs ?? 10_000;
    let secured: SecuredConnection | null = null;
    let opening: Buffer;
    try {
      // Plaintext or MSE, told apart by the first bytes (secureIncoming); `require` refuses plaintext.
      secured = await secureIncoming(stream, {
        policy: this.#encryption,
        lookup: this.#skeys.lookup,
        timeoutMs,
      });
      opening = await readOpening(secured.stream, timeoutMs, secured.received);
    } catch {
      secured?.stream.destroy();
      stream.destroy();
      return;
    } finally {
      this.#pendingOpenings--;
    }
    const infoHash = openingInfoHash(opening);
    const torrent = this.#torrents.get(infoHash);
    // Inside MSE, the handshake must name the torrent the SKEY named (libtorrent checks this too).
    const skeyMismatch = secured.skey && Buffer.from(secured.skey).toString('hex') !== infoHash;
    if (!torrent || this.#closed || skeyMismatch) {
      secured.stream.destroy();
      return;
    }
    torrent.accept(secured.stream, address, opening);
  }
}

function hashesOf(torrent: ClientTorrent): readonly Uint8Array[] {
  return torrent.infoHashes && torrent.infoHashes.length > 0
    ? torrent.infoHashes
    : [torrent.infoHash];
}
