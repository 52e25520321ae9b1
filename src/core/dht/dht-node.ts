/**
 * One DHT node (BEP 5, through bittorrent-dht): one UDP socket, one routing
 * table, any number of info-hashes looked up and announced through it. A
 * client running many torrents (the daemon) owns one and every torrent's DHT
 * discovery uses it; a discovery given none makes its own (`shoal download`).
 *
 * It starts once (the cached routing table is read first, see dht-cache.ts),
 * hands each 'peer' the library reports to whoever listens for that
 * info-hash, and at destroy() saves its routing table and closes its socket,
 * within a bounded time. Network errors are warnings, never thrown.
 *
 * bittorrent-dht and what it requires load only when a node starts (15-25 ms
 * of a download's start, docs/PERFORMANCE.md "First byte"): a download starts
 * its DHT beside its tracker announce, so the load runs while the tracker
 * answers instead of before the first event, and --no-dht never loads it.
 */
import type DHT from 'bittorrent-dht';
import type { DhtOptions } from 'bittorrent-dht';
import { validatePeer, type PeerAddress } from '../net/peer-address.ts';
import { dhtCachePath, readDhtCache, writeDhtCache } from './dht-cache.ts';

export interface DhtNodeOptions {
  /**
   * Bootstrap nodes as `host:port` (`--dht-bootstrap`), replacing the
   * library's routers. Absent: the library's defaults. Empty: none (a cached
   * routing table is then the only way in).
   */
  bootstrap?: string[];
  /** UDP port (`--dht-port`); 0 picks any free port. Default 0. */
  port?: number;
  /** Address to bind (tests use 127.0.0.1). Default: all IPv4 addresses. */
  host?: string;
  /** Routing table cache file; null disables it. Default: dhtCachePath(). */
  cacheFile?: string | null;
  /** Most nodes written to / read from the cache. Default 300. */
  maxCachedNodes?: number;
  /** Bound on destroy(). Default 2 s. */
  stopTimeoutMs?: number;
}

export class DhtNode {
  readonly #options: DhtNodeOptions;
  readonly #warn: (message: string) => void;
  #dht: DHT | null = null;
  #starting: Promise<void> | null = null;
  #destroyed = false;
  /** Who wants the peers of each info-hash (hex). */
  readonly #peerListeners = new Map<string, Set<(peer: PeerAddress) => void>>();
  readonly #nodeListeners = new Set<() => void>();

  /** `warn` gets each DHT failure (the node never throws them). */
  constructor(options: DhtNodeOptions, warn: (message: string) => void) {
    this.#options = options;
    this.#warn = warn;
  }

  /** Nodes in the routing table. */
  get nodeCount(): number {
    return this.#dht?.nodes.toArray().length ?? 0;
  }

  /** The UDP port, once listening. */
  get port(): number | null {
    return this.#dht?.listening ? this.#dht.address().port : null;
  }

  /** Can look up now: listening, not destroyed. */
  get usable(): boolean {
    const dht = this.#dht;
    return dht !== null && !this.#destroyed && !dht.destroyed && dht.listening;
  }

  /** Starts the node (once; later calls share the first). Never rejects: failures are warnings. */
  start(): Promise<void> {
    this.#starting ??= this.#start().catch((error: unknown) => {
      this.#warn(`DHT: ${(error as Error).message}`);
    });
    return this.#starting;
  }

  /** Calls `ready` once the routing table has been filled (at once when it is). */
  whenReady(ready: () => void): void {
    const dht = this.#dht;
    if (!dht || this.#destroyed) return;
    if (dht.ready) ready();
    else dht.once('ready', ready);
  }

  /** Hands `listener` every valid peer reported for `infoHash`; returns the unsubscribe. */
  onPeer(infoHash: Uint8Array, listener: (peer: PeerAddress) => void): () => void {
    const key = Buffer.from(infoHash).toString('hex');
    let set = this.#peerListeners.get(key);
    if (!set) this.#peerListeners.set(key, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.#peerListeners.delete(key);
    };
  }

  /** Calls `listener` each time a node joins the routing table; returns the unsubscribe. */
  onNode(listener: () => void): () => void {
    this.#nodeListeners.add(listener);
    return () => this.#nodeListeners.delete(listener);
  }

  /** A get_peers lookup; `done` gets the number of nodes visited (0: nobody answered). */
  lookup(infoHash: Uint8Array, done: (error: Error | null, visited: number) => void): void {
    const dht = this.#dht;
    if (!dht || !this.usable) return done(null, 0);
    dht.lookup(Buffer.from(infoHash), (error, visited) => done(error ?? null, visited ?? 1));
  }

  /** announce_peer of `port` for `infoHash` to the nodes closest to it. */
  announce(infoHash: Uint8Array, port: number, done: (error: Error | null) => void): void {
    const dht = this.#dht;
    if (!dht || !this.usable) return done(null);
    dht.announce(Buffer.from(infoHash), port, (error) => done(error ?? null));
  }

  /** Saves the routing table and closes the socket (bounded; safe to call twice). */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    const bound = this.#options.stopTimeoutMs ?? 2000;
    await withTimeout(this.#starting ?? Promise.resolve(), bound);
    const dht = this.#dht;
    this.#dht = null;
    this.#peerListeners.clear();
    this.#nodeListeners.clear();
    if (!dht) return;
    const cacheFile = this.#cacheFile();
    const nodes = dht.toJSON().nodes.slice(0, this.#options.maxCachedNodes ?? 300);
    const saving =
      cacheFile && nodes.length > 0
        ? writeDhtCache(cacheFile, { nodeId: dht.nodeId.toString('hex'), nodes }).catch(
            (error: unknown) =>
              this.#warn(`DHT: cannot save routing table: ${(error as Error).message}`),
          )
        : Promise.resolve();
    const destroyed = new Promise<void>((resolve) => dht.destroy(() => resolve()));
    await withTimeout(Promise.all([saving, destroyed]), bound);
  }

  async #start(): Promise<void> {
    const cacheFile = this.#cacheFile();
    const cache = cacheFile
      ? await readDhtCache(cacheFile, this.#options.maxCachedNodes)
      : { nodeId: null, nodes: [] };
    if (this.#destroyed) return;

    const dhtOptions: DhtOptions = {};
    if (cache.nodeId) dhtOptions.nodeId = cache.nodeId;
    if (this.#options.bootstrap !== undefined) {
      const nodes = ipv4Nodes(this.#options.bootstrap, (node) =>
        this.#warn(
          `DHT: skipping bootstrap node ${node}: the DHT runs over IPv4 only (no BEP 32 in bittorrent-dht)`,
        ),
      );
      dhtOptions.bootstrap = nodes.length > 0 ? nodes : false;
    }
    const { default: Dht } = await import('bittorrent-dht');
    if (this.#destroyed) return;
    const dht = new Dht(dhtOptions);
    this.#dht = dht;
    dht.on('error', (error) => this.#warn(`DHT: ${error.message}`));
    dht.on('warning', () => {
      // Malformed packets from strangers: routine on the open DHT.
    });
    dht.on('peer', (peer, infoHash) => {
      if (!Buffer.isBuffer(infoHash)) return;
      const listeners = this.#peerListeners.get(infoHash.toString('hex'));
      if (!listeners) return;
      const valid = validatePeer(peer.host, peer.port);
      if (valid) for (const listener of listeners) listener(valid);
    });
    dht.on('node', () => {
      for (const listener of this.#nodeListeners) listener();
    });

    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      dht.once('error', onError);
      const onListening = () => {
        dht.removeListener('error', onError);
        resolve();
      };
      if (this.#options.host) dht.listen(this.#options.port ?? 0, this.#options.host, onListening);
      else dht.listen(this.#options.port ?? 0, onListening);
    });
    if (this.#destroyed) return;
    // Cached nodes are pinged and join the table when they answer. Only once bound: a query
    // sent earlier would bind the socket to a random port and make listen() fail.
    for (const node of cache.nodes) dht.addNode({ host: node.host, port: node.port });
  }

  #cacheFile(): string | null {
    return this.#options.cacheFile === undefined ? dhtCachePath() : this.#options.cacheFile;
  }
}

/**
 * The IPv4 (or host name) entries of a `host:port` list. bittorrent-dht
 * speaks IPv4 only: its socket is udp4 and its compact node and peer lists
 * are the 6-byte kind, with no BEP 32 `nodes6`/`want`. Handed an IPv6 node it
 * would split `::1:6881` at the first colon and bootstrap from nothing,
 * silently; so each one is reported (as `[v6]:port`) and left out.
 */
export function ipv4Nodes(nodes: readonly string[], skipped: (node: string) => void): string[] {
  return nodes.filter((node) => {
    const colon = node.lastIndexOf(':');
    const host = node.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
    if (!host.includes(':')) return true;
    skipped(`[${host}]${node.slice(colon)}`);
    return false;
  });
}

function withTimeout(promise: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    void promise.then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      () => {
        clearTimeout(timer);
        resolve();
      },
    );
  });
}
