/**
 * The seam between the engine and the ways it learns of peers (trackers, DHT,
 * PEX, addresses given on the command line). The session hands each source a
 * context; sources report peers through it and never throw into the engine.
 */
import type { PeerAddress } from '../net/peer-address.ts';

export interface TransferStats {
  uploaded: number;
  downloaded: number;
  /** Bytes still wanted (0 once complete). */
  left: number;
}

export interface DiscoveryContext {
  /** The 20-byte info-hash used on the wire and with trackers and the DHT. */
  infoHash: Uint8Array;
  peerId: Uint8Array;
  /** Our listening port (0 if not listening). */
  port: number;
  stats(): TransferStats;
  /** `infoHash`: the swarm they were found in, when not the context's own (see addSwarm). */
  addPeers(peers: PeerAddress[], source: string, infoHash?: Uint8Array): void;
  warn(message: string): void;
  /**
   * This source's first try found no peer (every tracker failed, or none
   * answered with peers): the sources held back for it need not wait.
   */
  foundNothing?(): void;
}

/** What a source can tell about itself, for progress views and `--events`. */
export interface DiscoveryStats {
  /** Nodes in the DHT routing table (the DHT source only). */
  dhtNodes?: number;
}

export interface PeerDiscovery {
  readonly name: string;
  /**
   * A source whose start costs the main thread (the DHT: its library, cache
   * and sockets; LSD: multicast sockets) and which may start after the first
   * requests went out when a cheaper one can find peers (DiscoveryHub.start).
   */
  readonly deferrable?: boolean;
  /** This source has something to ask or report (trackers to announce to, addresses given). */
  readonly canFindPeers?: boolean;
  /** A snapshot of the source's own state (optional: most sources have nothing to add). */
  stats?(): DiscoveryStats;
  start(context: DiscoveryContext): void;
  /** The engine needs more peers now (e.g. everyone disconnected). */
  requestPeers?(): void;
  /** All wanted pieces are in: trackers send `completed`. */
  completed?(): void;
  /**
   * What we have changed a lot outside a download (the existing-data check
   * found every wanted piece after trackers were told otherwise): trackers
   * are told at once, with no event.
   */
  haveChanged?(): void;
  /**
   * Also find peers for `infoHash`, the torrent's other swarm: a hybrid
   * (BEP 52) is announced under its v1 hash and its truncated v2 one, as
   * libtorrent does. Called after start(); peers found there are reported as
   * the other swarm's (addPeers' `infoHash`). A source without it stays in one swarm.
   */
  addSwarm?(infoHash: Uint8Array): void;
  /** Shut down; resolves within a bounded time (trackers get `stopped`). */
  stop(): Promise<void>;
}

/** Peers given on the command line (`--peer HOST:PORT`): reported once at start. */
export function staticPeers(peers: PeerAddress[], name = 'command line'): PeerDiscovery {
  return {
    name,
    canFindPeers: peers.length > 0,
    start(context) {
      if (peers.length > 0) context.addPeers(peers, name);
    },
    async stop() {},
  };
}
