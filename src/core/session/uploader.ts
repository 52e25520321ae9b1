/**
 * Uploading for one torrent: which peers we unchoke (tit-for-tat while
 * downloading, round robin while seeding), which of their requests we serve,
 * and reading the blocks from disk through a read-ahead cache, with every
 * buffer bounded per peer so a peer that never reads pins little memory.
 */
import { DiskError } from '../errors.ts';
import type { Peer } from '../peer/peer.ts';
import type { DiskStorage } from '../storage/disk-storage.ts';
import { Choker } from '../swarm/choker.ts';
import type { BlockRef, PiecePicker } from '../swarm/piece-picker.ts';
import { RateLimiter } from '../swarm/rate-limiter.ts';
import { READ_CHUNK, UploadReader, type UploadReadStats } from './upload-reader.ts';

/**
 * Bytes read from disk kept for uploading (see UploadReader): at least this,
 * and two read-ahead chunks for every peer we may unchoke (the chunk a peer
 * is reading and the next its pipeline reaches). With less, unchoked peers'
 * chunks evict each other before they are read to the end, and each 16 KiB
 * request reads a 128 KiB chunk again: seeding to 200 fake leechers (101
 * unchoked) ran at 500-590 MiB/s with 8 MiB, against 1500 with 32 MiB
 * (and 1800 to 10 leechers).
 */
const UPLOAD_CACHE_BYTES = 8 * 1024 * 1024;
const CACHED_CHUNKS_PER_UNCHOKED_PEER = 2;
/**
 * Most bytes handed to one peer's socket and not yet written: past it we stop
 * serving that peer until its socket drains, so a peer that never reads pins
 * no more than this.
 */
export const MAX_QUEUED_UPLOAD_BYTES = 256 * 1024;

export interface UploaderOptions {
  picker: PiecePicker;
  storage: DiskStorage;
  pieceCount: number;
  pieceLength: number;
  /** Bytes per second; 0/undefined: unlimited. */
  uploadLimit?: number;
  seeding: () => boolean;
  peers: () => Iterable<Peer>;
  isSnubbed: (peer: Peer, now: number) => boolean;
  /** Data we verified is gone from disk: the session must stop. */
  fatal: (error: unknown) => void;
  warn: (message: string) => void;
}

export class Uploader {
  readonly #o: UploaderOptions;
  /** Tit-for-tat while downloading: a few slots for the peers that give us the most. */
  readonly #leechChoker = new Choker({ random: Math.random });
  /** Round robin while seeding (see the constructor for the slot count). */
  readonly #seedChoker: Choker;
  readonly #limiter: RateLimiter;
  readonly #reader: UploadReader;
  /** Upload bytes on sockets not yet written (closed peers' too, until their sockets let go). */
  readonly #stats = { queuedBytes: 0, maxQueuedBytes: 0 };
  #uploaded = 0;

  constructor(options: UploaderOptions) {
    this.#o = options;
    this.#limiter = new RateLimiter({ rate: options.uploadLimit });
    // A seed has nothing to trade, so slots only share upload bandwidth: with no upload limit,
    // TCP shares it fairly among many peers (as libtorrent's rate-based choker ends up doing);
    // under --upload-limit a few slots keep each peer's share useful.
    this.#seedChoker = new Choker({ random: Math.random, slots: options.uploadLimit ? 8 : 100 });
    this.#reader = new UploadReader({
      pieceLength: options.pieceLength,
      pieceSize: (index) => options.picker.pieceSize(index),
      read: (index, begin, target) => options.storage.readInto(index, begin, target),
      cacheBytes: Math.max(
        UPLOAD_CACHE_BYTES,
        // The choker's slots plus the optimistic unchoke.
        (this.#seedChoker.slots + 1) * CACHED_CHUNKS_PER_UNCHOKED_PEER * READ_CHUNK,
      ),
    });
  }

  /** Payload bytes handed to peers. */
  get uploaded(): number {
    return this.#uploaded;
  }

  stats(): UploadReadStats & { queuedBytes: number; maxQueuedBytes: number } {
    return { ...this.#reader.stats, ...this.#stats };
  }

  /** A request from an unchoked peer: served if we have the block, rejected otherwise. */
  onRequest(peer: Peer, request: BlockRef): void {
    const picker = this.#o.picker;
    const valid =
      request.index < this.#o.pieceCount &&
      request.length > 0 &&
      request.begin + request.length <= picker.pieceSize(request.index) &&
      picker.hasPiece(request.index);
    if (!valid) {
      peer.reject(request);
      return;
    }
    peer.uploadQueue.push(request);
    void this.serve(peer);
  }

  /** Serves the peer's queue while its socket takes more (runs again on 'drain'). */
  async serve(peer: Peer): Promise<void> {
    if (peer.serving) return;
    peer.serving = true;
    try {
      while (
        peer.uploadQueue.length > 0 &&
        !peer.closed &&
        !peer.amChoking &&
        !peer.conn.congested &&
        peer.queuedBytes < MAX_QUEUED_UPLOAD_BYTES
      ) {
        const request = peer.uploadQueue.shift()!;
        const block = await this.#reader.read(request);
        if (!block) {
          // Data we verified has gone (deleted or truncated underneath us): serving on would
          // mean advertising pieces we cannot deliver. Stop; a rerun rechecks what is left.
          const file = this.#o.storage
            .sources(request.index)
            .find((source) => source.path !== null)?.path;
          this.#o.fatal(
            new DiskError(
              `${file ?? 'data'} was deleted or truncated while in use; run the command again to recheck it`,
            ),
          );
          return;
        }
        const delay = this.#limiter.take(request.length, Date.now());
        if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
        if (peer.closed || peer.amChoking) {
          block.release();
          break;
        }
        // The lease ends when the socket has written the block or closed (see PieceCache).
        peer.queuedBytes += request.length;
        this.#stats.queuedBytes += request.length;
        this.#stats.maxQueuedBytes = Math.max(this.#stats.maxQueuedBytes, peer.queuedBytes);
        peer.conn.sendBlock(request.index, request.begin, block.data, () => {
          peer.queuedBytes -= request.length;
          this.#stats.queuedBytes -= request.length;
          peer.lastWrittenAt = Date.now();
          block.release();
          if (peer.uploadQueue.length > 0 && !peer.closed) void this.serve(peer);
        });
        this.#uploaded += request.length;
        peer.lastActiveAt = Date.now();
      }
    } catch (error) {
      this.#o.warn(`serving ${peer.key}: ${(error as Error).message}`);
    } finally {
      peer.serving = false;
    }
  }

  /** An interested peer starts trading at once if a slot is free, instead of waiting a round. */
  onInterested(peer: Peer): void {
    let unchoked = 0;
    for (const other of this.#o.peers()) if (!other.amChoking) unchoked++;
    if (peer.amChoking && unchoked < this.#choker().slots + 1) peer.setChoking(false);
  }

  /** A choke round: the choker decides who is unchoked for the next ten seconds. */
  chokeRound(now: number): void {
    const peers = [...this.#o.peers()];
    const seeding = this.#o.seeding();
    const unchoke = this.#choker().decide(
      peers.map((peer) => ({
        id: peer.key,
        interested: peer.peerInterested,
        downloadRate: peer.conn.downloaded.rate(now),
        uploadRate: peer.conn.uploaded.rate(now),
        snubbed: this.#o.isSnubbed(peer, now),
        connectedAt: peer.connectedAt,
      })),
      now,
      seeding,
    );
    for (const peer of peers) peer.setChoking(!unchoke.has(peer.key));
  }

  #choker(): Choker {
    return this.#o.seeding() ? this.#seedChoker : this.#leechChoker;
  }
}
