/**
 * Local Service Discovery (BEP 14): peers on the same network segment find
 * each other with no tracker and no DHT, by multicasting "I have info-hash X
 * on TCP port P" to 239.192.152.143:6771 and [ff15::efc0:988f]:6771.
 *
 * LsdService owns the UDP sockets (one per address family, shared by every
 * torrent of the process) and the limits; LsdDiscovery is the engine's peer
 * source for one torrent on top of it.
 *
 * Limits, since anyone on the segment can send anything:
 * - one announce per torrent per `minAnnounceGapMs` (BEP 14 asks for at most
 *   one a minute; we announce every 5 minutes);
 * - at most `intakePerSecond` datagrams are looked at per second, the rest
 *   are dropped unread, so a flood costs little CPU and memory;
 * - every datagram goes through the strict, bounded codec; peers pass the
 *   same address checks as tracker peers;
 * - our own announces (looped back by the kernel, or heard on two
 *   interfaces) carry our random cookie and are ignored.
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import type { PeerAddress } from '../net/peer-address.ts';
import { literalLookup } from '../net/literal-lookup.ts';
import { validatePeer } from '../net/peer-address.ts';
import type { DiscoveryContext, PeerDiscovery } from './discovery.ts';
import {
  encodeLsdAnnounce,
  LSD_GROUP_V4,
  LSD_GROUP_V6,
  LSD_PORT,
  MAX_LSD_DATAGRAM,
  parseLsdAnnounce,
} from './lsd-codec.ts';

/** One announce per torrent per 5 minutes (BEP 14 allows one a minute; LANs are quiet). */
const DEFAULT_GAP_MS = 5 * 60_000;

export interface LsdServiceOptions {
  /** Use IPv4 (239.192.152.143). Default true. */
  ipv4?: boolean;
  /** Use IPv6 (ff15::efc0:988f). Default true. */
  ipv6?: boolean;
  /** UDP port to listen and send on. Default 6771 (every BEP 14 client uses it). */
  port?: number;
  /** Least time between two announces of one torrent. Default 5 minutes. */
  minAnnounceGapMs?: number;
  /** Datagrams looked at per second; more are dropped unread. Default 50. */
  intakePerSecond?: number;
  /** Clock (tests). */
  now?: () => number;
}

export interface LsdServiceEvents {
  /** Someone announced `infoHash` (lower-case hex): the peer at `peer`. */
  peer: [infoHash: string, peer: PeerAddress];
  warning: [message: string];
}

interface Endpoint {
  socket: dgram.Socket;
  group: string;
  ipv6: boolean;
}

export class LsdService extends EventEmitter<LsdServiceEvents> {
  /** Sent with every announce; a message carrying it is ours. */
  readonly cookie = randomBytes(8).toString('hex');
  readonly #options: LsdServiceOptions;
  readonly #now: () => number;
  #endpoints: Endpoint[] = [];
  readonly #lastAnnounce = new Map<string, number>();
  #intakeWindow = 0;
  #intakeCount = 0;
  #dropped = 0;
  #stopped = false;

  constructor(options: LsdServiceOptions = {}) {
    super();
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Datagrams dropped by the intake cap so far (for tests and stats). */
  get dropped(): number {
    return this.#dropped;
  }

  /** Whether at least one address family is listening. */
  get listening(): boolean {
    return this.#endpoints.length > 0;
  }

  /**
   * Binds the sockets and joins the groups. A family that cannot (no IPv6, no
   * multicast route) is a warning: LSD is a best-effort extra.
   */
  async start(): Promise<void> {
    const families: [boolean, string][] = [
      [false, LSD_GROUP_V4],
      [true, LSD_GROUP_V6],
    ];
    for (const [ipv6, group] of families) {
      if ((ipv6 ? this.#options.ipv6 : this.#options.ipv4) === false) continue;
      try {
        this.#endpoints.push(await this.#open(ipv6, group));
      } catch (error) {
        this.emit('warning', `LSD ${ipv6 ? 'IPv6' : 'IPv4'}: ${(error as Error).message}`);
      }
    }
  }

  async #open(ipv6: boolean, group: string): Promise<Endpoint> {
    // reuseAddr: other BEP 14 clients on this machine listen on the same port.
    // literalLookup: binding '::' and sending to the group through Node's resolver would cost
    // the start the first use of its IPv6 pattern (net/literal-lookup.ts).
    const socket = dgram.createSocket({
      type: ipv6 ? 'udp6' : 'udp4',
      reuseAddr: true,
      lookup: literalLookup,
    });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(this.#options.port ?? LSD_PORT, ipv6 ? '::' : '0.0.0.0', () => {
          socket.removeListener('error', reject);
          resolve();
        });
      });
      socket.addMembership(group);
      // One network segment: routers must not carry announces further.
      socket.setMulticastTTL(1);
      // Loopback on, so several clients on one host see each other; our own
      // announces come back too and are recognised by the cookie.
      socket.setMulticastLoopback(true);
    } catch (error) {
      socket.close();
      throw error;
    }
    socket.on('error', (error) => this.emit('warning', `LSD: ${error.message}`));
    socket.on('message', (message, from) => this.#receive(message, from));
    return { socket, group, ipv6 };
  }

  /**
   * Announces `infoHash` (hex) on TCP `port`, unless it was announced less than
   * minAnnounceGapMs ago. Returns whether it was sent.
   */
  announce(infoHash: string, port: number): boolean {
    if (this.#stopped || this.#endpoints.length === 0) return false;
    const hash = infoHash.toLowerCase();
    const now = this.#now();
    const last = this.#lastAnnounce.get(hash);
    if (last !== undefined && now - last < (this.#options.minAnnounceGapMs ?? DEFAULT_GAP_MS)) {
      return false;
    }
    this.#lastAnnounce.set(hash, now);
    for (const { socket, group, ipv6 } of this.#endpoints) {
      const message = encodeLsdAnnounce({ port, infoHashes: [hash], cookie: this.cookie, ipv6 });
      socket.send(message, this.#options.port ?? LSD_PORT, group, (error) => {
        if (error && !this.#stopped) this.emit('warning', `LSD announce: ${error.message}`);
      });
    }
    return true;
  }

  /** Forget the torrent's announce time (it stopped; a restart may announce at once). */
  forget(infoHash: string): void {
    this.#lastAnnounce.delete(infoHash.toLowerCase());
  }

  #receive(message: Buffer, from: dgram.RemoteInfo): void {
    if (this.#stopped) return;
    const second = Math.floor(this.#now() / 1000);
    if (second !== this.#intakeWindow) {
      this.#intakeWindow = second;
      this.#intakeCount = 0;
    }
    if (++this.#intakeCount > (this.#options.intakePerSecond ?? 50)) {
      this.#dropped++;
      return;
    }
    if (message.length > MAX_LSD_DATAGRAM) return;
    const announce = parseLsdAnnounce(message);
    if (!announce || announce.cookie === this.cookie) return;
    // A link-local IPv6 source needs its zone (%eth0) to be dialled, which the engine's
    // peer addresses do not carry; such peers are found over IPv4 instead.
    if (from.address.includes('%')) return;
    const peer = validatePeer(from.address, announce.port);
    if (!peer) return;
    for (const infoHash of announce.infoHashes) this.emit('peer', infoHash, peer);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    const endpoints = this.#endpoints;
    this.#endpoints = [];
    await Promise.all(
      endpoints.map(({ socket }) => new Promise<void>((resolve) => socket.close(() => resolve()))),
    );
  }
}

export interface LsdDiscoveryOptions {
  /** A service shared with other torrents; absent: this source makes (and stops) its own. */
  service?: LsdService;
  /** Options for its own service. */
  serviceOptions?: LsdServiceOptions;
  /** Announce again this often. Default: just over the service's per-torrent gap (5 minutes). */
  reannounceMs?: number;
}

/** The engine's peer source for one torrent over LSD (see the top of this file). */
export class LsdDiscovery implements PeerDiscovery {
  readonly name = 'lsd';
  readonly deferrable = true;
  readonly #options: LsdDiscoveryOptions;
  readonly #ownsService: boolean;
  readonly #service: LsdService;
  #context: DiscoveryContext | null = null;
  /** The swarms announced (hex): the context's hash, then a hybrid's other one (addSwarm). */
  #swarms = new Map<string, Uint8Array>();
  #timer: NodeJS.Timeout | null = null;
  #starting: Promise<void> = Promise.resolve();
  readonly #onPeer = (infoHash: string, peer: PeerAddress) => {
    const swarm = this.#swarms.get(infoHash);
    const context = this.#context;
    if (!swarm || !context) return;
    context.addPeers([peer], 'lsd', swarm === context.infoHash ? undefined : swarm);
  };
  readonly #onWarning = (message: string) => this.#context?.warn(message);

  constructor(options: LsdDiscoveryOptions = {}) {
    this.#options = options;
    this.#ownsService = options.service === undefined;
    this.#service = options.service ?? new LsdService(options.serviceOptions);
  }

  start(context: DiscoveryContext): void {
    this.#context = context;
    this.#swarms = new Map([[Buffer.from(context.infoHash).toString('hex'), context.infoHash]]);
    this.#service.on('peer', this.#onPeer);
    if (this.#ownsService) this.#service.on('warning', this.#onWarning);
    this.#starting = (this.#ownsService ? this.#service.start() : Promise.resolve()).then(() => {
      if (!this.#context) return;
      this.#announce();
      // Just over the gap, so the timer's announce is never the one the gap refuses.
      const every = this.#options.reannounceMs ?? DEFAULT_GAP_MS + 1000;
      this.#timer = setInterval(() => this.#announce(), every);
      this.#timer.unref?.();
    });
  }

  /** A hybrid's other hash: announced beside the first, one message each (the gap is per hash). */
  addSwarm(infoHash: Uint8Array): void {
    if (!this.#context) return;
    this.#swarms.set(Buffer.from(infoHash).toString('hex'), infoHash);
    this.#announce();
  }

  requestPeers(): void {
    // The service's per-torrent gap decides whether this goes out.
    this.#announce();
  }

  async stop(): Promise<void> {
    this.#context = null;
    await this.#starting.catch(() => {});
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#service.removeListener('peer', this.#onPeer);
    this.#service.removeListener('warning', this.#onWarning);
    for (const swarm of this.#swarms.keys()) this.#service.forget(swarm);
    if (this.#ownsService) await this.#service.stop();
  }

  #announce(): void {
    const context = this.#context;
    // Without a listening port there is nothing to tell; we still hear others.
    if (!context || context.port === 0) return;
    for (const swarm of this.#swarms.keys()) this.#service.announce(swarm, context.port);
  }
}
