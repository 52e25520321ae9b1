/**
 * Downloading for one torrent: what each peer has (piece availability) and
 * whether we are interested in it, which blocks to ask each peer for and
 * when, where received blocks wait (piece buffers), verification of each
 * complete piece on the hash pool, writing it, and what a failed piece costs
 * its senders (smart ban). It decides nothing about connections: the session
 * tells it about peers and blocks, it tells the session about verdicts.
 */
import type { Metainfo } from '../metainfo/types.ts';
import type { HashPool } from '../hashing/pool.ts';
import type { Peer, OutstandingRequest } from '../peer/peer.ts';
import type { DiskStorage } from '../storage/disk-storage.ts';
import { BLOCK_SIZE, type BlockRef, type PiecePicker } from '../swarm/piece-picker.ts';
import { RateLimiter } from '../swarm/rate-limiter.ts';
import { desiredQueueDepth, isSnubbed } from '../swarm/request-queue.ts';
import { PieceVerifier } from '../verify/piece-verifier.ts';
import type { BitField } from '../wire/bitfield.ts';
import { PieceBuffers, copyIntoPiece } from './piece-buffers.ts';
import type { Identity } from './peer-pool.ts';
import { SmartBan } from './smart-ban.ts';

/**
 * Piece buffers held for pieces in progress; beyond it the picker only
 * finishes partial pieces. Peers fill a piece a block at a time from many
 * connections, so 8 MiB keeps three loopback seeders at full speed (so did
 * 4 MiB) and more only costs resident memory. A web seed asks for runs of
 * whole pieces and holds a buffer for each until the run's response arrives,
 * so torrents with web seeds keep 16 MiB (docs/PERFORMANCE.md, peak memory).
 */
const PEER_PIECE_MEMORY_BUDGET = 8 * 1024 * 1024;
const WEB_SEED_PIECE_MEMORY_BUDGET = 16 * 1024 * 1024;
/** A peer that unchoked us and sent nothing for this long is snubbed. */
const SNUB_MS = 30_000;
/** A request unanswered this long is given up even while the peer sends others (libtorrent: 60 s). */
const REQUEST_MAX_AGE_MS = 60_000;

export interface DownloadSchedulerOptions {
  meta: Metainfo;
  picker: PiecePicker;
  storage: DiskStorage;
  hashPool: HashPool;
  /** The torrent or the user named web seeds (they need the larger piece memory budget). */
  webSeeds: boolean;
  /** Bytes per second; 0/undefined: unlimited. */
  downloadLimit?: number;
  /** Requests are made only while this holds (the session is downloading). */
  active: () => boolean;
  peers: () => Iterable<Peer>;
  peer: (key: string) => Peer | undefined;
  identity: (key: string) => Identity | undefined;
  /** A piece passed its hash check and is on disk. */
  verified: (index: number, print: bigint) => Promise<void>;
  /** A piece failed its hash check; `contributors` are the connection keys that sent it. */
  failed: (index: number, contributors: string[]) => void;
  ban: (identity: Identity, reason: string) => void;
  /** Writing or hashing failed: the session must stop. */
  fatal: (error: unknown) => void;
  stopping: () => boolean;
}

export class DownloadScheduler {
  readonly #o: DownloadSchedulerOptions;
  readonly #picker: PiecePicker;
  readonly #verifier: PieceVerifier;
  readonly #limiter: RateLimiter;
  readonly #pieceBuffers = new Map<number, Uint8Array<SharedArrayBuffer>>();
  readonly #buffers: PieceBuffers;
  readonly #verifying = new Set<number>();
  /** Blocks of failed pieces and who sent them, to convict the sender of a bad block. */
  readonly #smartBan = new SmartBan<Identity>({ blockSize: BLOCK_SIZE });
  #downloaded = 0;
  /** Piece buffers taken or given back: each can open pieces to peers (see #supply). */
  #bufferChanges = 0;
  /** Payload bytes received per source (peer key or web seed id), for receipts and reports. */
  readonly #bySource = new Map<string, number>();

  constructor(options: DownloadSchedulerOptions) {
    this.#o = options;
    this.#picker = options.picker;
    this.#verifier = new PieceVerifier(options.meta, options.hashPool);
    this.#limiter = new RateLimiter({ rate: options.downloadLimit });
    this.#buffers = new PieceBuffers(
      options.meta.pieceLength,
      options.webSeeds ? WEB_SEED_PIECE_MEMORY_BUDGET : PEER_PIECE_MEMORY_BUDGET,
    );
  }

  /** --download-limit: peers' blocks and web seeds' runs take their bytes from it. */
  get limiter(): RateLimiter {
    return this.#limiter;
  }

  /** Payload bytes received in requested blocks. */
  get downloaded(): number {
    return this.#downloaded;
  }

  /** Payload bytes received from each source this session (peer key or web seed id). */
  get bytesBySource(): ReadonlyMap<string, number> {
    return this.#bySource;
  }

  /** Pieces being hashed or written right now. */
  get verifying(): number {
    return this.#verifying.size;
  }

  isSnubbed(peer: Peer, now: number): boolean {
    return isSnubbed({
      unchokedAt: peer.unchokedUsAt,
      lastBlockAt: peer.lastBlockAt,
      outstanding: peer.outstanding.size,
      now,
      snubMs: SNUB_MS,
    });
  }

  // ------------------------------------------------------ what peers have

  /** The peer announced one more piece (a `have`). */
  peerHas(peer: Peer, index: number): void {
    this.#picker.addHave(index);
    if (!peer.amInterested && this.#wantsPiece(index)) peer.setInterested(true);
    if (peer.amInterested) this.fillRequests(peer);
  }

  /** The peer's piece set was replaced (a fresh bitfield, or have-all): recount availability. */
  piecesReplaced(peer: Peer, previous: BitField): void {
    if (previous.count() > 0) this.#picker.removePeerAvailability({ has: (i) => previous.get(i) });
    if (peer.seed) this.#picker.addSeed();
    else this.#picker.addPeerAvailability({ has: (i) => peer.have.get(i) });
    this.updateInterest(peer);
  }

  /** The peer left: what it had no longer counts, and its requests are gone with it. */
  peerGone(peer: Peer): void {
    this.#picker.peerGone(peer.key);
    peer.outstanding.clear();
    if (peer.seed) this.#picker.removeSeed();
    else this.#picker.removePeerAvailability({ has: (i) => peer.have.get(i) });
  }

  /** Interested exactly while the peer has a piece we want and lack (an O(pieces) scan). */
  updateInterest(peer: Peer): void {
    let interested = false;
    if (!this.#picker.isComplete()) {
      for (let i = 0; i < this.#o.meta.pieceCount; i++) {
        if (peer.have.get(i) && this.#wantsPiece(i)) {
          interested = true;
          break;
        }
      }
    }
    peer.setInterested(interested);
    if (interested) this.fillRequests(peer);
  }

  /** Drops interest in peers that have nothing left we want (run now and then, not per block). */
  refreshInterest(): void {
    for (const peer of this.#o.peers()) if (peer.amInterested) this.updateInterest(peer);
  }

  #wantsPiece(index: number): boolean {
    return this.#picker.isWanted(index) && !this.#picker.hasPiece(index);
  }

  // ------------------------------------------------------------- requests

  /**
   * What could give a peer blocks to pick has changed when this has: the
   * picker's changes and the piece buffers taken or given back (a piece with
   * a buffer may be joined when no new piece may be started).
   */
  #supply(): number {
    return this.#picker.supply + this.#bufferChanges;
  }

  /**
   * Tops up the requests outstanding to `peer`. After each block (`afterBlock`)
   * it waits until an eighth of the queue has drained, so requests go out in
   * batches rather than one per block (each batch costs a system call). Nor
   * does it pick after a block when its last pick found nothing and nothing
   * has changed since: with the piece memory full that was every block, a
   * walk of the picker's pieces each time for nothing. Other calls (the
   * tick, unchoke, have, a verified piece) always pick.
   */
  fillRequests(peer: Peer, afterBlock = false): void {
    if (!this.#o.active() || !peer.amInterested || peer.closed) return;
    if (afterBlock && peer.pickFoundNothingAt === this.#supply() && !this.#picker.isEndGame())
      return;
    if (peer.peerChoking && peer.allowedFast.size === 0) return;
    if (peer.throttleTimer) return;
    const now = Date.now();
    const depth = desiredQueueDepth({
      rate: peer.conn.downloaded.rate(now),
      peerReqq: peer.extended?.reqq,
      snubbed: this.isSnubbed(peer, now),
    });
    const want = depth - peer.outstanding.size;
    if (want <= 0 || (afterBlock && want < Math.ceil(depth / 8))) return;
    // Every started piece needs a buffer: start new ones only while buffers remain.
    const freeBuffers = this.freeBuffers();
    const blocks = this.#picker.pickBlocks(
      {
        id: peer.key,
        has: (i) => peer.have.get(i) && (freeBuffers > 0 || this.#pieceBuffers.has(i)),
        choked: peer.peerChoking,
        allowedFast: peer.allowedFast,
      },
      want,
      now,
      Math.max(0, freeBuffers),
    );
    peer.pickFoundNothingAt = blocks.length === 0 ? this.#supply() : -1;
    peer.request(blocks, now);
  }

  fillAll(): void {
    for (const peer of this.#o.peers()) this.fillRequests(peer);
  }

  /** Requests the peer dropped or timed out go back to the picker for others. */
  requestsLost(peer: Peer, requests: readonly BlockRef[], timedOut = false): void {
    for (const request of requests) {
      if (timedOut) this.#picker.requestTimedOut(peer.key, request);
      else this.#picker.requestCancelled(peer.key, request);
    }
  }

  /** Cancels requests the peer is later with than its round-trip timeout (once per tick). */
  expireRequests(peer: Peer, now: number): void {
    // Paused for --download-limit: its blocks wait in our socket, not at the peer.
    if (peer.throttleTimer) return;
    const timeout = peer.rtt.timeoutMs({ maxMs: 30_000, minMs: 3_000 });
    this.requestsLost(peer, peer.expireRequests(now, timeout, REQUEST_MAX_AGE_MS), true);
  }

  /** A requested block arrived from `peer`. */
  onBlock(peer: Peer, request: OutstandingRequest, block: Uint8Array): void {
    this.acceptBlock(peer.key, request.index, request.begin, block);
    const delay = this.#limiter.take(block.length, peer.lastBlockAt ?? Date.now());
    if (delay > 0) this.#throttle(peer, Date.now() + delay);
    else this.fillRequests(peer, true);
  }

  /** A block from any source (`sourceId`: a peer's key, or a web seed's): stored, verified when its piece is whole. */
  acceptBlock(sourceId: string, index: number, begin: number, block: Uint8Array): void {
    this.#downloaded += block.length;
    this.#bySource.set(sourceId, (this.#bySource.get(sourceId) ?? 0) + block.length);
    const result = this.#picker.blockReceived(sourceId, index, begin, block.length);
    if (result.kind !== 'accepted') return;
    let buffer = this.#pieceBuffers.get(index);
    if (!buffer) {
      buffer = this.#buffers.acquire(this.#picker.pieceSize(index));
      this.#pieceBuffers.set(index, buffer);
      this.#bufferChanges++;
    }
    copyIntoPiece(block, buffer, begin);
    for (const cancel of result.cancels) this.#o.peer(cancel.peerId)?.cancel(cancel);
    // Whatever escapes verification after the piece was judged is an engine bug: it ends the run.
    if (result.pieceComplete) this.#verifyPiece(index).catch((error) => this.#o.fatal(error));
  }

  /** Pieces that can still be started: each needs a buffer of its own. */
  freeBuffers(): number {
    return this.#buffers.capacity - this.#picker.partialPieces - this.#verifying.size;
  }

  /** Waits for the pieces being verified (they are written before storage closes). */
  async settle(): Promise<void> {
    while (this.#verifying.size > 0) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  /**
   * --download-limit: stops reading from the peer until `until`. Every block
   * taken from the bucket pushes the time further, and one timer per peer
   * resumes it only when the whole debt is paid, so the average rate holds.
   */
  #throttle(peer: Peer, until: number): void {
    peer.throttledUntil = Math.max(peer.throttledUntil, until);
    if (peer.throttleTimer) return;
    peer.conn.pause();
    const check = () => {
      const wait = peer.throttledUntil - Date.now();
      if (wait > 0 && !peer.closed) {
        peer.throttleTimer = setTimeout(check, wait);
        return;
      }
      peer.throttleTimer = null;
      peer.conn.resume();
      this.fillRequests(peer);
    };
    peer.throttleTimer = setTimeout(check, Math.max(0, until - Date.now()));
  }

  async #verifyPiece(index: number): Promise<void> {
    const buffer = this.#pieceBuffers.get(index);
    if (!buffer || this.#verifying.has(index)) return;
    this.#verifying.add(index);
    let good: boolean;
    let print: bigint;
    let guilty: Identity[] = [];
    try {
      ({ good, print } = await this.#verifier.check(index, buffer));
      if (good) {
        guilty = this.#smartBan.piecePassed(index, buffer);
        await this.#o.storage.write(index, 0, buffer);
      } else {
        const senders = this.#picker.blockSenders(index);
        this.#smartBan.pieceFailed(
          index,
          buffer,
          senders.map((id) => (id === undefined ? undefined : this.#o.identity(id))),
        );
      }
    } catch (error) {
      this.#verifying.delete(index);
      this.#o.fatal(error);
      return;
    } finally {
      this.#pieceBuffers.delete(index);
      this.#buffers.release(buffer);
      this.#bufferChanges++;
    }
    this.#verifying.delete(index);
    if (this.#o.stopping()) return;
    // While every buffer was taken no peer could be given a new piece, and their
    // queues may have run dry: a freed buffer is new work for them now, not at
    // the next tick (with large pieces the buffers run out all the time).
    const wasMemoryFull =
      this.#picker.partialPieces + this.#verifying.size + 1 >= this.#buffers.capacity;
    for (const identity of guilty)
      this.#o.ban(identity, 'sent a block that differs from the verified piece');
    if (good) {
      this.#picker.pieceVerified(index);
      await this.#o.verified(index, print);
      if (wasMemoryFull && !this.#picker.isComplete()) this.fillAll();
    } else {
      const contributors = this.#picker.pieceFailed(index);
      this.#o.failed(index, contributors);
      // A connection that sent a whole bad piece alone is certainly lying. With several
      // contributors nobody is blamed yet: smart ban convicts the one whose blocks differ
      // from a copy that verifies later, never the honest ones that helped.
      const sole = contributors.length === 1 ? this.#o.identity(contributors[0]!) : undefined;
      if (sole) this.#o.ban(sole, 'sent data that failed the hash check');
      this.fillAll();
    }
  }
}
