/**
 * The tracker's memory: which peers announced which torrent, and when. Pure:
 * no I/O, time is passed in. Bounded by three caps (peers per torrent, peers
 * overall, torrents) and by expiry: a peer not heard from within `peerTtlMs`
 * is forgotten at the next `expire` call.
 *
 * A torrent whose last peer left (stopped or expired) keeps only its
 * `completed` count, in a separate capped table, because that count is what
 * a publisher's `--seed-until 'completed>=N'` polls after the fleet is gone.
 * When the table is full the torrent that went idle first is forgotten.
 *
 * Keys are latin1 strings of raw bytes, which Maps hash cheaply: a torrent by
 * its 20-byte info-hash, a peer by its compact address (4 or 16 address bytes
 * and 2 port bytes, as BEP 23 / BEP 7 send it). A peer is one address and
 * port, as opentracker counts them: a client that announces again from the
 * same address and port updates its entry, whatever its peer id.
 */

export type AnnounceEvent = 'started' | 'completed' | 'stopped' | undefined;

export interface StoredPeer {
  /** Compact address: 6 latin1 characters for IPv4, 18 for IPv6. */
  readonly address: string;
  /** 20-byte peer id as latin1 (for non-compact answers). */
  peerId: string;
  seeder: boolean;
  lastSeen: number;
  /** Position in its swarm's list for its family (swap-remove keeps removal O(1)). */
  index: number;
}

interface Swarm {
  readonly byAddress: Map<string, StoredPeer>;
  readonly v4: StoredPeer[];
  readonly v6: StoredPeer[];
  seeders: number;
  /** Peers that announced `completed` here (BEP 48 `downloaded`). */
  completed: number;
}

export interface RegistryLimits {
  maxPeersPerTorrent: number;
  maxPeers: number;
  maxTorrents: number;
  peerTtlMs: number;
  /**
   * Most torrents remembered with no peers, by their `completed` count alone;
   * beyond it the one idle longest is dropped. With a whitelist this is the
   * list's size, so no listed torrent's count is ever lost.
   */
  maxIdleTorrents: number;
}

export interface AnnounceInput {
  infoHash: string;
  peerId: string;
  address: string;
  left: number;
  event: AnnounceEvent;
  numWant: number;
  /** Which peers the answer can carry: UDP answers one family, HTTP both. */
  families: 'v4' | 'v6' | 'both';
  now: number;
}

export interface AnnounceResult {
  seeders: number;
  leechers: number;
  /** IPv4 peers first, then IPv6 ones, never the announcer itself, at most numWant. */
  peers: StoredPeer[];
  /** False when a cap kept the announcer out of the registry (it still gets peers). */
  stored: boolean;
}

export interface ScrapeCounts {
  seeders: number;
  leechers: number;
  completed: number;
}

export interface RegistryCounts {
  /** Torrents with at least one stored peer. */
  torrents: number;
  peers: number;
  seeders: number;
  /** Torrents with no peers whose completed count is still remembered. */
  idleTorrents: number;
}

const isV6 = (address: string) => address.length === 18;

export class SwarmRegistry {
  readonly limits: RegistryLimits;
  readonly #swarms = new Map<string, Swarm>();
  /** Completed counts of torrents with no peers, oldest idle first (Map insertion order). */
  readonly #idleCompleted = new Map<string, number>();
  #peers = 0;
  #seeders = 0;

  constructor(limits: RegistryLimits) {
    this.limits = limits;
  }

  get counts(): RegistryCounts {
    return {
      torrents: this.#swarms.size,
      peers: this.#peers,
      seeders: this.#seeders,
      idleTorrents: this.#idleCompleted.size,
    };
  }

  announce(input: AnnounceInput): AnnounceResult {
    let swarm = this.#swarms.get(input.infoHash);
    if (!swarm && input.event !== 'stopped' && this.#swarms.size < this.limits.maxTorrents) {
      // A torrent coming back from idle counts on from where it stopped.
      const completed = this.#idleCompleted.get(input.infoHash) ?? 0;
      this.#idleCompleted.delete(input.infoHash);
      swarm = { byAddress: new Map(), v4: [], v6: [], seeders: 0, completed };
      this.#swarms.set(input.infoHash, swarm);
    }
    if (!swarm) return { seeders: 0, leechers: 0, peers: [], stored: false };

    let peer = swarm.byAddress.get(input.address);
    let stored = true;
    if (input.event === 'stopped') {
      if (peer) this.#remove(swarm, peer);
      peer = undefined;
      stored = false;
    } else if (peer) {
      peer.peerId = input.peerId;
      peer.lastSeen = input.now;
      this.#setSeeder(swarm, peer, input.left === 0, input.event === 'completed');
    } else if (
      swarm.byAddress.size < this.limits.maxPeersPerTorrent &&
      this.#peers < this.limits.maxPeers
    ) {
      peer = this.#add(swarm, input);
    } else {
      stored = false;
    }

    const peers = this.#pick(swarm, peer, input);
    const result = {
      seeders: swarm.seeders,
      leechers: swarm.byAddress.size - swarm.seeders,
      peers,
      stored,
    };
    if (swarm.byAddress.size === 0) this.#retire(input.infoHash, swarm);
    return result;
  }

  scrape(infoHash: string): ScrapeCounts {
    const swarm = this.#swarms.get(infoHash);
    if (!swarm)
      return { seeders: 0, leechers: 0, completed: this.#idleCompleted.get(infoHash) ?? 0 };
    return {
      seeders: swarm.seeders,
      leechers: swarm.byAddress.size - swarm.seeders,
      completed: swarm.completed,
    };
  }

  /** Forgets peers last seen before `now - peerTtlMs`; emptied torrents keep only their count. */
  expire(now: number): number {
    const oldest = now - this.limits.peerTtlMs;
    let removed = 0;
    for (const [infoHash, swarm] of this.#swarms) {
      for (const list of [swarm.v4, swarm.v6]) {
        // Walk backwards: swap-remove moves the last entry into the freed slot.
        for (let i = list.length - 1; i >= 0; i--) {
          if (i < list.length && list[i]!.lastSeen < oldest) {
            this.#remove(swarm, list[i]!);
            removed++;
          }
        }
      }
      if (swarm.byAddress.size === 0) this.#retire(infoHash, swarm);
    }
    return removed;
  }

  /** A torrent whose last peer left: drop its peer lists, remember its count if it has one. */
  #retire(infoHash: string, swarm: Swarm): void {
    this.#swarms.delete(infoHash);
    if (swarm.completed === 0 || this.limits.maxIdleTorrents <= 0) return;
    if (this.#idleCompleted.size >= this.limits.maxIdleTorrents) {
      const oldest = this.#idleCompleted.keys().next().value!;
      this.#idleCompleted.delete(oldest);
    }
    this.#idleCompleted.set(infoHash, swarm.completed);
  }

  #add(swarm: Swarm, input: AnnounceInput): StoredPeer {
    const list = isV6(input.address) ? swarm.v6 : swarm.v4;
    const peer: StoredPeer = {
      address: input.address,
      peerId: input.peerId,
      seeder: false,
      lastSeen: input.now,
      index: list.length,
    };
    list.push(peer);
    swarm.byAddress.set(input.address, peer);
    this.#peers++;
    this.#setSeeder(swarm, peer, input.left === 0, input.event === 'completed');
    return peer;
  }

  #remove(swarm: Swarm, peer: StoredPeer): void {
    const list = isV6(peer.address) ? swarm.v6 : swarm.v4;
    const last = list.pop()!;
    if (last !== peer) {
      list[peer.index] = last;
      last.index = peer.index;
    }
    swarm.byAddress.delete(peer.address);
    this.#peers--;
    if (peer.seeder) {
      swarm.seeders--;
      this.#seeders--;
    }
  }

  /** A peer becomes a seeder when it has nothing left; `completed` counts only that change. */
  #setSeeder(swarm: Swarm, peer: StoredPeer, seeder: boolean, completedEvent: boolean): void {
    if (peer.seeder === seeder) return;
    peer.seeder = seeder;
    const delta = seeder ? 1 : -1;
    swarm.seeders += delta;
    this.#seeders += delta;
    if (seeder && completedEvent) swarm.completed++;
  }

  /** Up to numWant peers from a random starting point, wrapping round (O(numWant)). */
  #pick(swarm: Swarm, self: StoredPeer | undefined, input: AnnounceInput): StoredPeer[] {
    const out: StoredPeer[] = [];
    const lists =
      input.families === 'v4'
        ? [swarm.v4]
        : input.families === 'v6'
          ? [swarm.v6]
          : [swarm.v4, swarm.v6];
    for (const list of lists) {
      const start = list.length > 0 ? Math.floor(Math.random() * list.length) : 0;
      for (let i = 0; i < list.length && out.length < input.numWant; i++) {
        const peer = list[(start + i) % list.length]!;
        if (peer !== self && peer.address !== input.address) out.push(peer);
      }
    }
    return out;
  }
}
