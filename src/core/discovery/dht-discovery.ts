/**
 * The mainline DHT (BEP 5) as a peer source, through bittorrent-dht. Every
 * byte from the network goes through the library; what it hands back is
 * filtered again here (valid ports, usable addresses) before the engine sees
 * it. DHT failures are warnings, never fatal: trackers or given peers may
 * still work.
 *
 * It looks up and announces one torrent's info-hash (a hybrid's two, see
 * addSwarm) through a DHT node
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
  /** The hashes looked up: the context's, then a hybrid's other one (addSwarm). */
  readonly #swarms: Uint8Array[] = [];
  #timer: NodeJS.Timeout | null = null;
  /** Swarms (hex) whose lookup is running. */
  readonly #lookupsRunning = new Set<string>();
  /** The last lookup reached no node at all. */
  #emptyLookup = false;
  #lastLookupAt = 0;
  #stopped = false;
  /** Peers found and not yet handed over, by swarm (hex). */
  readonly #pending = new Map<string, { infoHash: Uint8Array; peers: PeerAddress[] }>();
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
    this.#swarms.splice(0, this.#swarms.length, context.infoHash);
    this.#unsubscribe = [
      node.onPeer(context.infoHash, (peer) => this.#report(peer, context.infoHash)),
      // A lookup that ran before any node answered (cache only, slow routers) found nothing:
      // run it again as soon as the routing table has someone to ask.
      node.onNode(() => {
        if (this.#emptyLookup && this.#lookupsRunning.size === 0) this.#lookup(true);
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

  /** A hybrid's other hash: looked up and announced beside the first, on the same schedule. */
  addSwarm(infoHash: Uint8Array): void {
    const node = this.#node;
    if (!node || this.#stopped) return;
    this.#swarms.push(infoHash);
    this.#unsubscribe.push(node.onPeer(infoHash, (peer) => this.#report(peer, infoHash)));
    // Before the node is ready the first scheduled lookup covers it; after, it starts now.
    if (this.#timer) this.#lookupOne(infoHash);
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

  /** Starts a lookup of every swarm (see #lookupOne), unless, on request, one ran just now. */
  #lookup(scheduled: boolean): void {
    const now = Date.now();
    if (!scheduled && now - this.#lastLookupAt < (this.#options.minLookupGapMs ?? 15_000)) return;
    this.#lastLookupAt = now;
    for (const infoHash of this.#swarms) this.#lookupOne(infoHash);
  }

  /** Starts a lookup of `infoHash` (plus an announce when we listen), unless one is running. */
  #lookupOne(infoHash: Uint8Array): void {
    const node = this.#node;
    const context = this.#context;
    if (!node || !context || this.#stopped || !node.usable) return;
    const key = Buffer.from(infoHash).toString('hex');
    if (this.#lookupsRunning.has(key)) return;
    this.#lookupsRunning.add(key);
    const done = (error: Error | null, visited = 1) => {
      this.#lookupsRunning.delete(key);
      this.#emptyLookup = visited === 0;
      if (error && !this.#stopped) context.warn(`DHT: ${error.message}`);
    };
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

  /** Peers arrive one 'peer' event at a time: hand them to the engine in batches, by swarm. */
  #report(peer: PeerAddress, infoHash: Uint8Array): void {
    const key = Buffer.from(infoHash).toString('hex');
    const pending = this.#pending.get(key);
    if (pending) pending.peers.push(peer);
    else this.#pending.set(key, { infoHash, peers: [peer] });
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      const context = this.#context;
      const batches = [...this.#pending.values()];
      this.#pending.clear();
      if (this.#stopped || !context) return;
      for (const { infoHash: swarm, peers } of batches) {
        // Peers of the context's own swarm are reported as ever; the other swarm's say so.
        context.addPeers(peers, 'dht', swarm === context.infoHash ? undefined : swarm);
      }
    });
  }
}
