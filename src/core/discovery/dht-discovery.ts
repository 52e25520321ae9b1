/**
 * The mainline DHT (BEP 5) as a peer source, through bittorrent-dht. Every
 * byte from the network goes through the library; what it hands back is
 * filtered again here (valid ports, usable addresses) before the engine sees
 * it. DHT failures are warnings, never fatal: trackers or given peers may
 * still work.
 *
 * The routing table (node addresses plus our node id) is kept between runs
 * in the user's cache directory, so a second run finds peers without waiting
 * for the bootstrap routers. A missing or corrupt cache is ignored; the file
 * is replaced atomically (write, then rename).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import DHT, { type DhtOptions } from 'bittorrent-dht';
import type { PeerAddress } from '../net/peer-address.ts';
import type { DiscoveryContext, DiscoveryStats, PeerDiscovery } from './discovery.ts';
import { validatePeer } from '../net/peer-address.ts';

export interface DhtDiscoveryOptions {
  /**
   * Bootstrap nodes as `host:port` (`--dht-bootstrap`), replacing the
   * library's routers. Absent: the library's defaults. Empty: none (a cached
   * routing table is then the only way in).
   */
  bootstrap?: string[];
  /** UDP port of the DHT node (`--dht-port`); 0 picks any free port. Default 0. */
  port?: number;
  /** Address to bind (tests use 127.0.0.1). Default: all IPv4 addresses. */
  host?: string;
  /** Routing table cache file; null disables it. Default: dhtCachePath(). */
  cacheFile?: string | null;
  /** Repeat the lookup (and announce) this often while running. Default 5 minutes. */
  relookupIntervalMs?: number;
  /** Least time between two lookups started by requestPeers(). Default 15 s. */
  minLookupGapMs?: number;
  /** Announce our listening port (context.port > 0). Default true. */
  announce?: boolean;
  /** Bound on stop(). Default 2 s. */
  stopTimeoutMs?: number;
  /** Most nodes written to / read from the cache. Default 300. */
  maxCachedNodes?: number;
}

/** `$XDG_CACHE_HOME/shoal/dht.json`, or `~/.cache/shoal/dht.json`. */
export function dhtCachePath(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  // XDG says relative values are invalid and must be ignored.
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.cache');
  return path.join(base, 'shoal', 'dht.json');
}

export interface DhtCache {
  nodeId: string | null;
  nodes: PeerAddress[];
}

/** Reads the cache; anything missing, unreadable or malformed yields an empty cache. */
export async function readDhtCache(file: string, maxNodes = 300): Promise<DhtCache> {
  const empty: DhtCache = { nodeId: null, nodes: [] };
  let data: unknown;
  try {
    const text = await readFile(file, 'utf8');
    if (text.length > 1024 * 1024) return empty;
    data = JSON.parse(text);
  } catch {
    return empty;
  }
  if (typeof data !== 'object' || data === null) return empty;
  const record = data as { nodeId?: unknown; nodes?: unknown };
  const nodeId =
    typeof record.nodeId === 'string' && /^[0-9a-f]{40}$/.test(record.nodeId)
      ? record.nodeId
      : null;
  const nodes: PeerAddress[] = [];
  if (Array.isArray(record.nodes)) {
    for (const node of record.nodes as unknown[]) {
      if (nodes.length >= maxNodes) break;
      if (typeof node !== 'object' || node === null) continue;
      const { host, port } = node as { host?: unknown; port?: unknown };
      if (typeof host !== 'string' || typeof port !== 'number') continue;
      const valid = validatePeer(host, port);
      // bittorrent-dht speaks IPv4 only.
      if (valid && !valid.host.includes(':')) nodes.push(valid);
    }
  }
  return { nodeId, nodes };
}

/** Writes the cache atomically: a crash leaves either the old file or the new one. */
export async function writeDhtCache(file: string, cache: DhtCache): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(temporary, JSON.stringify({ version: 1, ...cache }) + '\n', { mode: 0o600 });
  await rename(temporary, file);
}

export class DhtDiscovery implements PeerDiscovery {
  readonly name = 'dht';
  readonly #options: DhtDiscoveryOptions;
  #dht: DHT | null = null;
  #context: DiscoveryContext | null = null;
  #timer: NodeJS.Timeout | null = null;
  #starting: Promise<void> | null = null;
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
    return this.#dht?.nodes.toArray().length ?? 0;
  }

  stats(): DiscoveryStats {
    return { dhtNodes: this.nodeCount };
  }

  /** The UDP port the DHT listens on, once listening (for tests and `--dht-port 0`). */
  get port(): number | null {
    return this.#dht?.listening ? this.#dht.address().port : null;
  }

  start(context: DiscoveryContext): void {
    this.#context = context;
    this.#stopped = false;
    this.#starting = this.#start(context).catch((error: unknown) => {
      context.warn(`DHT: ${(error as Error).message}`);
    });
  }

  async #start(context: DiscoveryContext): Promise<void> {
    const cacheFile = this.#cacheFile();
    const cache = cacheFile
      ? await readDhtCache(cacheFile, this.#options.maxCachedNodes)
      : { nodeId: null, nodes: [] };
    if (this.#stopped) return;

    const dhtOptions: DhtOptions = {};
    if (cache.nodeId) dhtOptions.nodeId = cache.nodeId;
    if (this.#options.bootstrap !== undefined) {
      const nodes = ipv4Nodes(this.#options.bootstrap, (node) =>
        context.warn(
          `DHT: skipping bootstrap node ${node}: the DHT runs over IPv4 only (no BEP 32 in bittorrent-dht)`,
        ),
      );
      dhtOptions.bootstrap = nodes.length > 0 ? nodes : false;
    }
    const dht = new DHT(dhtOptions);
    this.#dht = dht;
    dht.on('error', (error) => context.warn(`DHT: ${error.message}`));
    dht.on('warning', () => {
      // Malformed packets from strangers: routine on the open DHT.
    });
    const wanted = Buffer.from(context.infoHash);
    dht.on('peer', (peer, infoHash) => {
      if (!Buffer.isBuffer(infoHash) || !infoHash.equals(wanted)) return;
      const valid = validatePeer(peer.host, peer.port);
      if (valid) this.#report(valid);
    });
    // A lookup that ran before any node answered (cache only, slow routers) found nothing:
    // run it again as soon as the routing table has someone to ask.
    dht.on('node', () => {
      if (this.#emptyLookup && !this.#lookupRunning) this.#lookup(true);
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
    if (this.#stopped) return;
    // Cached nodes are pinged and join the table when they answer. Only once bound: a query
    // sent earlier would bind the socket to a random port and make listen() fail.
    for (const node of cache.nodes) dht.addNode({ host: node.host, port: node.port });
    const begin = () => {
      if (this.#stopped) return;
      this.#lookup(true);
      this.#timer = setInterval(
        () => this.#lookup(true),
        this.#options.relookupIntervalMs ?? 5 * 60_000,
      );
    };
    if (dht.ready) begin();
    else dht.once('ready', begin);
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
    const bound = this.#options.stopTimeoutMs ?? 2000;
    await withTimeout(this.#starting ?? Promise.resolve(), bound);
    const dht = this.#dht;
    this.#dht = null;
    if (!dht) return;
    const cacheFile = this.#cacheFile();
    const nodes = dht.toJSON().nodes.slice(0, this.#options.maxCachedNodes ?? 300);
    const saving =
      cacheFile && nodes.length > 0
        ? writeDhtCache(cacheFile, { nodeId: dht.nodeId.toString('hex'), nodes }).catch(
            (error: unknown) =>
              this.#context?.warn(`DHT: cannot save routing table: ${(error as Error).message}`),
          )
        : Promise.resolve();
    const destroyed = new Promise<void>((resolve) => dht.destroy(() => resolve()));
    await withTimeout(Promise.all([saving, destroyed]), bound);
  }

  /** Starts a lookup (plus an announce when we listen), unless one is running or, on request, ran just now. */
  #lookup(scheduled: boolean): void {
    const dht = this.#dht;
    const context = this.#context;
    if (!dht || !context || this.#stopped || dht.destroyed || !dht.listening) return;
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
    const infoHash = Buffer.from(context.infoHash);
    if (this.#options.announce !== false && context.port > 0) {
      // announce() runs a get_peers lookup first, which reports peers as it goes.
      dht.lookup(infoHash, (error, visited) => {
        if (error || this.#stopped || dht.destroyed || visited === 0) return done(error, visited);
        dht.announce(infoHash, context.port, (announceError) => done(announceError ?? null));
      });
    } else {
      dht.lookup(infoHash, (error, visited) => done(error ?? null, visited));
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
