/**
 * Smart ban (as libtorrent does it): finds out which connection spoiled a
 * piece that failed its hash check, without blaming everyone who helped.
 *
 * When a piece fails, the digest of every block is remembered with who sent
 * it. The piece is downloaded again; once a copy verifies, each remembered
 * block is compared with the verified one: a sender whose block differs sent
 * bad data and is proven guilty. Senders whose blocks were right are never
 * blamed, however many failed pieces they helped fill.
 *
 * Memory is bounded: at most `maxPieces` failed pieces are remembered (the
 * oldest is forgotten first), 20 bytes and one sender per block each.
 */
import { createHash } from 'node:crypto';

interface Recorded<S> {
  sender: S;
  digest: string;
}

export class SmartBan<S> {
  readonly #blockSize: number;
  readonly #maxPieces: number;
  /** piece -> block -> what each failed copy held (a block can fail with several senders). */
  readonly #failed = new Map<number, Map<number, Recorded<S>[]>>();

  constructor(options: { blockSize: number; maxPieces?: number }) {
    this.#blockSize = options.blockSize;
    this.#maxPieces = options.maxPieces ?? 256;
  }

  /** Pieces being watched (for tests). */
  get size(): number {
    return this.#failed.size;
  }

  /** Piece `index` failed: remember who sent which bytes (`senders[b]` for block b, if known). */
  pieceFailed(index: number, piece: Uint8Array, senders: readonly (S | undefined)[]): void {
    let blocks = this.#failed.get(index);
    if (!blocks) {
      if (this.#failed.size >= this.#maxPieces) {
        const oldest = this.#failed.keys().next().value!;
        this.#failed.delete(oldest);
      }
      blocks = new Map();
      this.#failed.set(index, blocks);
    }
    senders.forEach((sender, b) => {
      if (sender === undefined) return;
      const digest = this.#digest(piece, b);
      const copies = blocks.get(b) ?? [];
      if (!copies.some((c) => c.sender === sender && c.digest === digest))
        copies.push({ sender, digest });
      blocks.set(b, copies);
    });
  }

  /**
   * Piece `index` verified with these bytes: returns the senders of earlier
   * failed copies whose blocks differ from them (each once), and forgets the piece.
   */
  piecePassed(index: number, piece: Uint8Array): S[] {
    const blocks = this.#failed.get(index);
    if (!blocks) return [];
    this.#failed.delete(index);
    const guilty = new Set<S>();
    for (const [b, copies] of blocks) {
      const truth = this.#digest(piece, b);
      for (const copy of copies) if (copy.digest !== truth) guilty.add(copy.sender);
    }
    return [...guilty];
  }

  #digest(piece: Uint8Array, block: number): string {
    const start = block * this.#blockSize;
    return createHash('sha1')
      .update(piece.subarray(start, start + this.#blockSize))
      .digest('base64');
  }
}
