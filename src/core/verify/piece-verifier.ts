/**
 * Checks pieces against the torrent before they count: SHA-1 for v1 and
 * hybrid torrents, the v2 merkle hash (piece layer entry, or the file's root
 * for files of at most one piece) for v2-only torrents. Hashing runs on the
 * worker pool over shared memory, so nothing is copied to the worker and the
 * main thread can still write the piece to disk afterwards.
 */
import type { HashPool } from '../hashing/pool.ts';
import type { Metainfo } from '../metainfo/types.ts';
import { sameBytes } from '../bytes.ts';
import { PieceLayout } from '../storage/layout.ts';
import { expectedSha1, expectedV2, SHA1_LENGTH, SHA256_LENGTH } from './expected-hashes.ts';

/** A downloaded piece judged: whether it hashed right, and the resume fingerprint of its bytes. */
export interface PieceVerdict {
  good: boolean;
  /**
   * hashing/fingerprint.ts of the piece, computed on the worker with its hash
   * (SHA-1 for v1 and hybrid torrents, the merkle hash for v2-only ones).
   */
  print: bigint;
}

interface WaitingPiece {
  index: number;
  data: Uint8Array<SharedArrayBuffer>;
  resolve: (verdict: PieceVerdict) => void;
  reject: (error: unknown) => void;
}

export class PieceVerifier {
  readonly #meta: Metainfo;
  readonly #pool: HashPool;
  readonly #layout: PieceLayout;
  /** Downloaded pieces waiting for the next batch (see check). */
  readonly #waiting: WaitingPiece[] = [];
  #batchRunning = false;
  /** A batch start is scheduled for the check phase of this turn of the event loop. */
  #batchScheduled = false;

  constructor(meta: Metainfo, pool: HashPool) {
    this.#meta = meta;
    this.#pool = pool;
    this.#layout = new PieceLayout(meta);
    // No warm-up here: the pool starts its worker after the first piece it hashes on this thread.
  }

  /**
   * Whether `data` (the whole of piece `index`) hashes to what the torrent
   * says, with its fingerprint for the resume state (see PieceVerdict).
   * Downloaded pieces go to the pool one task at a time, and a task takes
   * every piece that completed while the previous one ran. One task in flight
   * keeps a download on a single worker thread (a second costs ~10 MiB and its
   * start-up competes with the first pieces), and batching keeps the cost of
   * waking the worker (a millisecond or more on a virtual machine) from
   * limiting how many pieces a second can be verified. A batch starts in the
   * check phase (setImmediate) of the turn its first piece completed in, so it
   * also takes the pieces that the other sockets read in the same turn
   * complete: the worker's dispatch is paid per task, not per piece.
   */
  check(index: number, data: Uint8Array<SharedArrayBuffer>): Promise<PieceVerdict> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ index, data, resolve, reject });
      this.#scheduleBatch();
    });
  }

  #scheduleBatch(): void {
    if (this.#batchRunning || this.#batchScheduled || this.#waiting.length === 0) return;
    this.#batchScheduled = true;
    setImmediate(() => {
      this.#batchScheduled = false;
      this.#startBatch();
    });
  }

  #startBatch(): void {
    if (this.#batchRunning || this.#waiting.length === 0) return;
    const batch = this.#waiting.splice(0);
    this.#batchRunning = true;
    this.#verifyBatch(batch)
      .then(
        (results) => batch.forEach((piece, i) => piece.resolve(results[i]!)),
        (error: unknown) => batch.forEach((piece) => piece.reject(error)),
      )
      .finally(() => {
        this.#batchRunning = false;
        this.#scheduleBatch();
      });
  }

  async #verifyBatch(batch: WaitingPiece[]): Promise<PieceVerdict[]> {
    if (this.#meta.pieces) {
      const { sha1, fingerprints } = await this.#pool.sha1AndFingerprintSharedPieces(
        batch.map((piece) => piece.data),
      );
      const prints = new DataView(fingerprints.buffer, fingerprints.byteOffset);
      return batch.map(({ index }, i) => ({
        good: this.#sha1Matches(index, sha1, i),
        print: prints.getBigUint64(i * 8, true),
      }));
    }
    // v2-only: one task for the batch too, not one per piece.
    const expected = batch.map(({ index }) => expectedV2(this.#meta, this.#layout, index));
    const { sha256, fingerprints } = await this.#pool.sha256AndFingerprintSharedPieces(
      this.#meta.pieceLength,
      batch.map(({ index, data }, i) => ({
        data,
        length: this.#v2DataLength(index, data.length),
        mode: expected[i]?.mode ?? 'pieces',
      })),
    );
    const prints = new DataView(fingerprints.buffer, fingerprints.byteOffset);
    return expected.map((want, i) => ({
      good: want !== null && this.#v2Matches(sha256, i, want.hash),
      print: prints.getBigUint64(i * 8, true),
    }));
  }

  /** Checks `count` consecutive pieces from `first`, held back to back in `data`. */
  async verifyRun(
    first: number,
    count: number,
    data: Uint8Array<SharedArrayBuffer>,
  ): Promise<boolean[]> {
    const meta = this.#meta;
    const sizes = Array.from({ length: count }, (_, i) => this.#layout.pieceSize(first + i));
    if (meta.pieces) {
      const digests = await this.#pool.sha1Shared(data, sizes);
      return sizes.map((_, i) => this.#sha1Matches(first + i, digests, i));
    }
    const expected = sizes.map((_, i) => expectedV2(meta, this.#layout, first + i));
    let offset = 0;
    const items = sizes.map((size, i) => {
      const item = {
        length: this.#v2DataLength(first + i, size),
        mode: expected[i]?.mode ?? 'pieces',
        offset,
      };
      offset += size;
      return item;
    });
    const hashes = await this.#pool.sha256Shared(data, meta.pieceLength, items);
    return expected.map((want, i) => want !== null && this.#v2Matches(hashes, i, want.hash));
  }

  /** Whether the `at`th hash in `hashes` is `want`. */
  #v2Matches(hashes: Uint8Array, at: number, want: Uint8Array): boolean {
    return sameBytes(hashes.subarray(at * SHA256_LENGTH, (at + 1) * SHA256_LENGTH), want);
  }

  /** Whether the `at`th digest in `digests` is the SHA-1 piece `index` must have. */
  #sha1Matches(index: number, digests: Uint8Array, at: number): boolean {
    const digest = digests.subarray(at * SHA1_LENGTH, (at + 1) * SHA1_LENGTH);
    return sameBytes(digest, expectedSha1(this.#meta, index)!);
  }

  /**
   * In a v2-only torrent a file's last piece is followed by an alignment gap
   * that is not part of the file's merkle tree: only the file's bytes count.
   */
  #v2DataLength(index: number, size: number): number {
    return this.#layout
      .fileSpans(index, 0, size)
      .filter((span) => span.kind === 'data')
      .reduce((sum, span) => sum + span.length, 0);
  }
}
