/**
 * BEP 52's phase before downloading: a v2-only torrent whose piece layers
 * are missing (a magnet link, a .torrent without them) cannot verify a piece
 * yet, so its layers are fetched from peers first and no block is requested
 * meanwhile (`running`). Hybrids check pieces by SHA-1 and need no layers;
 * nor does a torrent that came with all of them: for those the phase ends
 * as it begins.
 */
import type { Metainfo } from '../metainfo/types.ts';
import type { Peer } from '../peer/peer.ts';
import type { PeerPool } from './peer-pool.ts';
import { PieceLayerFetcher } from './piece-layer-fetcher.ts';

export interface PieceLayerPhaseOptions {
  meta: Metainfo;
  /** Made after the phase (the pool's handler reaches the fetcher through it). */
  pool: () => PeerPool;
}

export class PieceLayerPhase {
  readonly #options: PieceLayerPhaseOptions;
  #fetcher: PieceLayerFetcher | null = null;
  #stopped = false;

  constructor(options: PieceLayerPhaseOptions) {
    this.#options = options;
  }

  /** The fetcher while layers are being fetched; null before and after. */
  get fetcher(): PieceLayerFetcher | null {
    return this.#fetcher;
  }

  /** Layers are being fetched: nothing may be requested yet. */
  get running(): boolean {
    return this.#fetcher !== null;
  }

  /**
   * Fetches the missing layers, then calls `done` (at once, with `fetched`
   * false, when none are missing). After a stop `done` is never called.
   */
  start(done: (fetched: boolean) => void): void {
    const fetcher = new PieceLayerFetcher({
      meta: this.#options.meta,
      peers: () => this.#options.pool().peers.values(),
      punish: (peer, reason) => this.#punish(peer, reason),
    });
    if (this.#options.meta.pieces || fetcher.missing === 0) return done(false);
    this.#fetcher = fetcher;
    fetcher.start();
    void fetcher.done.then(() => {
      if (this.#stopped || this.#fetcher !== fetcher) return;
      this.#fetcher = null;
      done(true);
    });
  }

  /** A peer connected: it may be asked for hashes. */
  peerConnected(): void {
    this.#fetcher?.pump();
  }

  peerGone(peer: Peer): void {
    this.#fetcher?.peerGone(peer);
  }

  stop(): void {
    this.#stopped = true;
    this.#fetcher?.stop();
  }

  /** A peer that lied about hashes is banned when we know who it is, else let go. */
  #punish(peer: Peer, reason: string): void {
    const pool = this.#options.pool();
    const identity = pool.identity(peer.key);
    if (identity) pool.ban(identity, reason);
    else peer.close(reason);
  }
}
