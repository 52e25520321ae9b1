/**
 * Reads what peers request from us off disk, for seeding.
 *
 * A request is read with bounded read-ahead: the 128 KiB-aligned chunk of the
 * piece that holds it, kept in a small byte-bounded cache (PieceCache with
 * chunks for entries), so a peer reading a piece front to back costs one read
 * per chunk, and a peer walking one 16 KiB request across each of many pieces
 * costs at most one chunk per request: 8x its request at worst, never a whole
 * piece (which at 4 MiB pieces was 256x). A request that straddles two chunks
 * is read on its own, exactly.
 *
 * Every block handed out is a lease (see PieceCache): its bytes stay valid and
 * its buffer pinned until `release()`, which the session calls once the
 * socket has written the block or the connection has closed.
 */
import type { BlockRef } from '../wire/messages.ts';
import { PieceCache, type PieceLease } from './piece-cache.ts';

/** Read-ahead unit: also the largest request peers may send (wire decoder limit). */
export const READ_CHUNK = 128 * 1024;

export interface UploadReadStats {
  /** Bytes read from disk to serve requests. */
  diskBytesRead: number;
  /** Bytes of the requests served (or being served). */
  bytesRequested: number;
}

export class UploadReader {
  readonly #read: (index: number, begin: number, target: Buffer) => Promise<boolean>;
  readonly #pieceSize: (index: number) => number;
  readonly #cache: PieceCache;
  readonly #chunksPerPiece: number;
  readonly stats: UploadReadStats = { diskBytesRead: 0, bytesRequested: 0 };

  constructor(options: {
    pieceLength: number;
    pieceSize: (index: number) => number;
    /** Fills `target` with the bytes of piece `index` from `begin`; false when they are gone. */
    read: (index: number, begin: number, target: Buffer) => Promise<boolean>;
    cacheBytes: number;
  }) {
    this.#read = options.read;
    this.#pieceSize = options.pieceSize;
    const chunk = Math.min(READ_CHUNK, options.pieceLength);
    this.#chunksPerPiece = Math.ceil(options.pieceLength / chunk);
    this.#cache = new PieceCache(options.cacheBytes, chunk);
  }

  /** A lease on exactly the requested bytes, or null when the data is gone from disk. */
  async read(request: BlockRef): Promise<PieceLease | null> {
    this.stats.bytesRequested += request.length;
    const size = this.#pieceSize(request.index);
    const chunk = Math.min(READ_CHUNK, size);
    const first = Math.floor(request.begin / chunk);
    const last = Math.floor((request.begin + request.length - 1) / chunk);
    if (first !== last) return this.#readExactly(request);
    const chunkStart = first * chunk;
    const chunkSize = Math.min(chunk, size - chunkStart);
    const lease = await this.#cache.get(
      request.index * this.#chunksPerPiece + first,
      chunkSize,
      (target) => {
        this.stats.diskBytesRead += target.length;
        return this.#read(request.index, chunkStart, target);
      },
    );
    if (!lease) return null;
    const offset = request.begin - chunkStart;
    return {
      data: lease.data.subarray(offset, offset + request.length),
      release: lease.release,
    };
  }

  async #readExactly(request: BlockRef): Promise<PieceLease | null> {
    const data = Buffer.allocUnsafe(request.length);
    this.stats.diskBytesRead += request.length;
    const found = await this.#read(request.index, request.begin, data);
    return found ? { data, release: () => {} } : null;
  }
}
