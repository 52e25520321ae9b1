/**
 * The mainline DHT (BEP 5) as a peer source, through bittorrent-dht. Every
 * byte from the network goes through the library; what it hands back is
 * filtered again here (valid ports, usable addresses) before the engine sees
 * it. DHT failures are warnings, never fatal: trackers or given peers may
 * still work.
 *
 * It looks up and announces one torrent's info-hash through a DHT node
 * (core/dht/dht-node.ts): the client's shared node when the caller gives one
 * (the daemon: one node, one UDP socket for all its torrents), else a node of
 * its own for its lifetime (`shoal download`, `seed`). The node keeps its
 * routing table between runs in the user's cache directory.
 */
import { DhtNode, type DhtNodeOptions } from '../dht/dht-node.ts';
import type { PeerAddress } from '../net/peer-address.ts';
import type { DiscoveryContext, DiscoveryStats, PeerDiscovery } from './discovery.ts';

// Where they lived before the node moved to core/dht; their tests still import them from here.
export { dhtCachePath, readDhtCache, writeDhtCache, type DhtCache } from '../dht/dht-cache.ts';
export { ipv4Nodes } from '../dht/dht-node.ts';

/** The node's own options apply only when the discovery makes its own node (no `node` given). */
export interface DhtDiscoveryOptions extends DhtNodeOptions {
  /**
   * The shared node to use (a client's, see Client.dhtNode), asked for at
   * start; absent, the discovery runs a node of its own.
   */
  node?: () => DhtNode;
  /** Repeat the lookup (and announce) this often while running. Default 5 minutes. */
  relookupIntervalMs?: number;
  /** Least time between two lookups started by requestPeers(). Default 15 s. */
  minLookupGapMs?: number;
  /** Announce our listening port (context.port > 0). Default true. */
  announce?: boolean;
}

export class DhtDiscovery implements PeerDiscovery {
  readonly name = 'dht';
  readonly deferrable = true;
  readonly #options: DhtDiscoveryOptions;
  /** The node in use: the shared one, or our own (made at start, destroyed at stop). */
  #node: DhtNode | null = null;
  #ownsNode = false;
  #unsubscribe: (() => void)[] = [];
  #context: DiscoveryContext | null = null;
  #timer: NodeJS.Timeout | null = null;
  #lookupRunning = false;
  /** The last lookup reached no node at all. */
  #emptyLookup = false;
  #lastLookupAt = 0;
  #stopped = false;
  #pending: PeerAddress[] = [];
  #flushScheduled = false;

  constructor(options: DhtDiscoveryOptions = {}) {
    this.#options = options;
  }

  /** Nodes in the routing table (for progress and tests). */
  get nodeCount(): number {
    return this.#node?.nodeCount ?? 0;
  }

  stats(): DiscoveryStats {
    return { dhtNodes: this.nodeCount };
  }

  /** The UDP port the DHT listens on, once listening (for tests and `--dht-port 0`). */
  get port(): number | null {
    return this.#node?.port ?? null;
  }

  start(context: DiscoveryContext): void {
    this.#context = context;
    this.#stopped = false;
    let shared: DhtNode | undefined;
    try {
      shared = this.#options.node?.();
    } catch (error) {
      // The client is closing: this torrent is about to stop too.
      context.warn(`DHT: ${(error as Error).message}`);
      return;
    }
    const node = shared ?? new DhtNode(this.#options, context.warn);
    this.#node = node;
    this.#ownsNode = !shared;
    this.#unsubscribe = [
      node.onPeer(context.infoHash, (peer) => this.#report(peer)),
      // A lookup that ran before any node answered (cache only, slow routers) found nothing:
      // run it again as soon as the routing table has someone to ask.
      node.onNode(() => {
        if (this.#emptyLookup && !this.#lookupRunning) this.#lookup(true);
      }),
    ];
    void node.start().then(() => {
      if (this.#stopped) return;
      node.whenReady(() => {
        if (this.#stopped) return;
        this.#lookup(true);
        this.#timer = setInterval(
          () => this.#lookup(true),
          this.#options.relookupIntervalMs ?? 5 * 60_000,
        );
      });
    });
  }

  requestPeers(): void {
    this.#lookup(false);
  }

  completed(): void {
    // Seeding: keep announcing on the same schedule; nothing changes for the DHT.
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
    const node = this.#node;
    this.#node = null;
    // A shared node lives on for the client's other torrents; only our own one goes.
    if (node && this.#ownsNode) await node.destroy();
  }

  /** Starts a lookup (plus an announce when we listen), unless one is running or, on request, ran just now. */
  #lookup(scheduled: boolean): void {
    const node = this.#node;
    const context = this.#context;
    if (!node || !context || this.#stopped || !node.usable) return;
    const now = Date.now();
    if (this.#lookupRunning) return;
    if (!scheduled && now - this.#lastLookupAt < (this.#options.minLookupGapMs ?? 15_000)) return;
    this.#lookupRunning = true;
    this.#lastLookupAt = now;
    const done = (error: Error | null, visited = 1) => {
      this.#lookupRunning = false;
      this.#emptyLookup = visited === 0;
      if (error && !this.#stopped) context.warn(`DHT: ${error.message}`);
    };
    const infoHash = context.infoHash;
    if (this.#options.announce !== false && context.port > 0) {
      // announce() runs a get_peers lookup first, which reports peers as it goes.
      node.lookup(infoHash, (error, visited) => {
        if (error || this.#stopped || !node.usable || visited === 0) return done(error, visited);
        node.announce(infoHash, context.port, (announceError) => done(announceError));
      });
    } else {
      node.lookup(infoHash, (error, visited) => done(error, visited));
    }
  }

  /** Peers arrive one 'peer' event at a time: hand them to the engine in batches. */
  #report(peer: PeerAddress): void {
    this.#pending.push(peer);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      const peers = this.#pending;
      this.#pending = [];
      if (!this.#stopped && peers.length > 0) this.#context?.addPeers(peers, 'dht');
    });
  }
}
