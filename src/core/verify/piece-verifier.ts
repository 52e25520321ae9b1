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

export class PieceVerifier {
  readonly #meta: Metainfo;
  readonly #pool: HashPool;
  readonly #layout: PieceLayout;
  /** The last piece verification queued (see verify). */
  #previous: Promise<unknown> = Promise.resolve();

  constructor(meta: Metainfo, pool: HashPool) {
    this.#meta = meta;
    this.#pool = pool;
    this.#layout = new PieceLayout(meta);
  }

  /**
   * True when `data` (the whole of piece `index`) hashes to what the torrent
   * says. Downloaded pieces are hashed one at a time: a piece takes well under a
   * millisecond, and with never more than one such task in the pool a download
   * keeps a single worker thread instead of starting another (~10 MiB, and its
   * start-up competes with the first pieces for the CPU).
   */
  verify(index: number, data: Uint8Array<SharedArrayBuffer>): Promise<boolean> {
    const result = this.#previous.then(async () => (await this.verifyRun(index, 1, data))[0]);
    this.#previous = result.catch(() => undefined);
    return result;
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
