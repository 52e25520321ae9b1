/**
 * The jobs a session does on its timer besides reporting: peers' housekeeping
 * and timed-out requests, a choking round every CHOKE_ROUND_MS, more dials,
 * the web seeds, PEX diffs every PEX_CHECK_MS, and asking for peers when
 * there are none. Each tick is one call; how often ticks come is the
 * session's business.
 */
import type { DiscoveryHub } from '../discovery/hub.ts';
import type { DownloadScheduler } from './download-scheduler.ts';
import type { PeerExtensions } from './peer-extensions.ts';
import type { PeerPool } from './peer-pool.ts';
import { extensionPeer } from './session-peer-handler.ts';
import type { Uploader } from './uploader.ts';
import type { WebSeedSource } from './web-seed-source.ts';

const CHOKE_ROUND_MS = 10_000;
/** Default for SessionOptions.idlePeerMs. */
const IDLE_PEER_MS = 60_000;
/** How often PEX diffs are considered (each peer still gets at most one a minute). */
const PEX_CHECK_MS = 5_000;

export interface SessionRoundsOptions {
  pool: PeerPool;
  download: DownloadScheduler;
  upload: Uploader;
  extensions: PeerExtensions;
  discovery: DiscoveryHub;
  idlePeerMs?: number;
  /** Asked when it matters: a round's own work can end the download. */
  downloading: () => boolean;
  /** Null until downloading starts, or without web seeds. */
  webSeeds: () => WebSeedSource | null;
}

export class SessionRounds {
  readonly #o: SessionRoundsOptions;
  #lastChokeRound = 0;
  #lastPexAt = 0;

  constructor(options: SessionRoundsOptions) {
    this.#o = options;
  }

  run(now: number): void {
    const { pool, download, discovery } = this.#o;
    discovery.startDeferred();
    pool.housekeeping(now, this.#o.idlePeerMs ?? IDLE_PEER_MS);
    for (const peer of pool.peers.values()) {
      download.expireRequests(peer, now);
      download.fillRequests(peer);
    }
    if (now - this.#lastChokeRound >= CHOKE_ROUND_MS) {
      this.#lastChokeRound = now;
      this.#o.upload.chokeRound(now);
      // Lose interest in peers that have nothing left we want (an O(pieces) scan, so not every tick).
      if (this.#o.downloading()) download.refreshInterest();
    }
    pool.dialMore();
    this.#o.webSeeds()?.pump();
    if (now - this.#lastPexAt >= PEX_CHECK_MS) {
      this.#lastPexAt = now;
      this.#o.extensions.sharePeers([...pool.peers.values()].map(extensionPeer), now);
    }
    if (pool.peers.size === 0) discovery.requestPeers();
  }
}
