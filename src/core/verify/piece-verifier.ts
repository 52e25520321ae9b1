/**
 * Checks pieces against the torrent before they count: SHA-1 for v1 and
 * hybrid torrents, the v2 merkle hash (piece layer entry, or the file's root
 * for files of at most one piece) for v2-only torrents. Hashing runs on the
 * worker pool over shared memory, so nothing is copied to the worker and the
 * main thread can still write the piece to disk afterwards.
 */
import type { HashPool } from '../hashing/pool.ts';
import type { Metainfo } from '../metainfo/types.ts';
import { PieceLayout } from '../storage/layout.ts';

interface WaitingPiece {
  index: number;
  data: Uint8Array<SharedArrayBuffer>;
  resolve: (good: boolean) => void;
  reject: (error: unknown) => void;
}

export class PieceVerifier {
  readonly #meta: Metainfo;
  readonly #pool: HashPool;
  readonly #layout: PieceLayout;
  /** Downloaded pieces waiting for the next batch (see verify). */
  readonly #waiting: WaitingPiece[] = [];
  #batchRunning = false;

  constructor(meta: Metainfo, pool: HashPool) {
    this.#meta = meta;
    this.#pool = pool;
    this.#layout = new PieceLayout(meta);
    // Start the worker now; until it answers, the pool checks pieces on this thread.
    pool.warmUp();
  }

  /**
   * True when `data` (the whole of piece `index`) hashes to what the torrent
   * says. Downloaded pieces go to the pool one task at a time, and a task
   * takes every piece that completed while the previous one ran. One task in
   * flight keeps a download on a single worker thread (a second costs ~10 MiB
   * and its start-up competes with the first pieces), and batching keeps the
   * cost of waking the worker (a millisecond or more on a virtual machine)
   * from limiting how many pieces a second can be verified.
   */
  verify(index: number, data: Uint8Array<SharedArrayBuffer>): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ index, data, resolve, reject });
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
        this.#startBatch();
      });
  }

  async #verifyBatch(batch: WaitingPiece[]): Promise<boolean[]> {
    const pieces = this.#meta.pieces;
    if (pieces) {
      const digests = await this.#pool.sha1SharedPieces(batch.map((piece) => piece.data));
      return batch.map(({ index }, i) =>
        equalBytes(
          digests.subarray(i * 20, i * 20 + 20),
          pieces.subarray(index * 20, index * 20 + 20),
        ),
      );
    }
    const results: boolean[] = [];
    for (const { index, data } of batch) results.push((await this.verifyRun(index, 1, data))[0]!);
    return results;
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
      return sizes.map((_, i) => {
        const index = first + i;
        return equalBytes(
          digests.subarray(i * 20, i * 20 + 20),
          meta.pieces!.subarray(index * 20, index * 20 + 20),
        );
      });
    }
    const expected = sizes.map((_, i) => this.#expectedV2(first + i));
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
    return expected.map(
      (want, i) => want !== null && equalBytes(hashes.subarray(i * 32, i * 32 + 32), want.hash),
    );
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

  /** The v2 hash piece `index` must have: each v2 piece lies inside exactly one file. */
  #expectedV2(index: number): { hash: Uint8Array; mode: 'pieces' | 'root' } | null {
    const span = this.#layout.fileSpans(index, 0).find((s) => s.kind === 'data');
    if (!span) return null;
    const file = this.#meta.files[span.fileIndex];
    if (!file.piecesRoot) return null;
    if (file.length <= this.#meta.pieceLength) return { hash: file.piecesRoot, mode: 'root' };
    const layer = this.#meta.pieceLayers.get(Buffer.from(file.piecesRoot).toString('hex'));
    if (!layer) return null;
    const pieceInFile = Math.floor(span.fileOffset / this.#meta.pieceLength);
    return { hash: layer.subarray(pieceInFile * 32, pieceInFile * 32 + 32), mode: 'pieces' };
  }
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}
