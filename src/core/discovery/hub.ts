/**
 * A torrent's peer sources, started once and kept for the torrent's whole
 * life. A magnet download starts them to fetch the metadata and then hands
 * them, still running, to the download session: trackers are not announced
 * to twice and the DHT lookup is not started over. Whoever consumes the
 * peers (the metadata fetch, then the session) attaches as the target.
 */
import type { PeerAddress } from '../net/peer-address.ts';
import type {
  DiscoveryContext,
  DiscoveryStats,
  PeerDiscovery,
  TransferStats,
} from './discovery.ts';

/** Who receives what the sources find, and what they report to trackers. */
export interface DiscoveryTarget {
  stats(): TransferStats;
  /** `infoHash`: the swarm they were found in (the hub's first, or one joined later). */
  addPeers(peers: PeerAddress[], source: string, infoHash?: Uint8Array): void;
  warn(message: string): void;
}

export class DiscoveryHub {
  readonly discoveries: readonly PeerDiscovery[];
  #target: DiscoveryTarget | null = null;
  #started = false;
  #stopped: Promise<void> | null = null;
  #context: DiscoveryContext | null = null;
  /** Deferrable sources not started yet (see start's `deferSlow`). */
  #deferred: PeerDiscovery[] = [];
  /** The torrent's other swarms (a hybrid's second hash, see joinSwarms), hex. */
  readonly #otherSwarms = new Map<string, Uint8Array>();

  constructor(discoveries: readonly PeerDiscovery[]) {
    this.discoveries = discoveries;
  }

  get started(): boolean {
    return this.#started;
  }

  /** Sends what the sources find to `target` from now on. */
  attach(target: DiscoveryTarget): void {
    this.#target = target;
  }

  /**
   * Starts every source once; `port` is the one peers reach us on (0: not
   * listening). With `deferSlow`, deferrable sources (the DHT, LSD) wait for
   * startDeferred() when another source can find peers: their start-up
   * (tens of milliseconds of the main thread, docs/PERFORMANCE.md "First
   * byte (2026-12-07)") would otherwise run between the tracker's answer
   * and the first piece.
   */
  start(infoHash: Uint8Array, peerId: Uint8Array, port: number, deferSlow = false): void {
    if (this.#started) return;
    this.#started = true;
    // Joined before the start (see joinSwarms): the swarm started in is no other swarm.
    this.#otherSwarms.delete(Buffer.from(infoHash).toString('hex'));
    const context: DiscoveryContext = {
      infoHash,
      peerId,
      port,
      // Before a target attaches, a positive `left` keeps trackers from taking us for a seed.
      stats: () => this.#target?.stats() ?? { uploaded: 0, downloaded: 0, left: 16 * 1024 },
      // Always with the swarm: the hub may have started in another than the target's first
      // (a btmh-only magnet's v2 swarm; the download's first hash is then the v1 one).
      addPeers: (peers, source, swarm) => this.#target?.addPeers(peers, source, swarm ?? infoHash),
      warn: (message) => this.#target?.warn(message),
    };
    this.#context = context;
    const finders = this.discoveries.filter((d) => !d.deferrable && d.canFindPeers);
    const deferring = deferSlow && finders.length > 0;
    this.#deferred = deferring ? this.discoveries.filter((d) => d.deferrable) : [];
    // Held back for the sources that can find peers: once each has come up
    // empty (the only tracker is dead), waiting for a piece or a tick gains nothing.
    const hopeful = new Set(finders);
    for (const discovery of this.discoveries) {
      if (this.#deferred.includes(discovery)) continue;
      const foundNothing = () => {
        if (hopeful.delete(discovery) && hopeful.size === 0) this.startDeferred();
      };
      this.#startOne(discovery, { ...context, foundNothing });
    }
  }

  /** Starts the sources start() deferred (idempotent; nothing after stop()). */
  startDeferred(): void {
    const context = this.#context;
    const deferred = this.#deferred.splice(0);
    if (!context || this.#stopped) return;
    for (const discovery of deferred) this.#startOne(discovery, context);
  }

  #running(): PeerDiscovery[] {
    return this.discoveries.filter((discovery) => !this.#deferred.includes(discovery));
  }

  /**
   * Every source also finds peers in these swarms from now on (and those that
   * start later too): a hybrid's two hashes (BEP 52), known at start from a
   * .torrent or a magnet with both, or only once a magnet's metadata arrived.
   * Hashes already in use are ignored, so callers may pass all of them.
   */
  joinSwarms(infoHashes: readonly Uint8Array[]): void {
    for (const infoHash of infoHashes) {
      const key = Buffer.from(infoHash).toString('hex');
      const own = this.#context && Buffer.compare(this.#context.infoHash, infoHash) === 0;
      if (own || this.#otherSwarms.has(key)) continue;
      this.#otherSwarms.set(key, infoHash);
      if (!this.#started || this.#stopped) continue;
      for (const discovery of this.#running()) this.#addSwarm(discovery, infoHash);
    }
  }

  #startOne(discovery: PeerDiscovery, context: DiscoveryContext): void {
    try {
      discovery.start(context);
    } catch (error) {
      this.#target?.warn(`${discovery.name}: ${(error as Error).message}`);
      return;
    }
    for (const infoHash of this.#otherSwarms.values()) this.#addSwarm(discovery, infoHash);
  }

  #addSwarm(discovery: PeerDiscovery, infoHash: Uint8Array): void {
    try {
      discovery.addSwarm?.(infoHash);
    } catch (error) {
      this.#target?.warn(`${discovery.name}: ${(error as Error).message}`);
    }
  }

  requestPeers(): void {
    for (const discovery of this.#running()) discovery.requestPeers?.();
  }

  completed(): void {
    for (const discovery of this.#running()) discovery.completed?.();
  }

  /** See PeerDiscovery.haveChanged. */
  haveChanged(): void {
    for (const discovery of this.#running()) discovery.haveChanged?.();
  }

  stats(): DiscoveryStats {
    return Object.assign({}, ...this.discoveries.map((discovery) => discovery.stats?.() ?? {}));
  }

  /** Stops every source, each bounded by `boundMs`; warnings go to the target. Idempotent. */
  stop(boundMs = 3000): Promise<void> {
    // A source never started has nothing to stop.
    const running = this.#running();
    this.#deferred = [];
    this.#stopped ??= Promise.all(
      running.map((discovery) =>
        withTimeout(
          Promise.resolve()
            .then(() => discovery.stop())
            .catch((error: unknown) =>
              this.#target?.warn(`${discovery.name}: ${(error as Error).message}`),
            ),
          boundMs,
        ),
      ),
    ).then(() => {});
    return this.#stopped;
  }
}

function withTimeout(promise: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    void promise.finally(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
