/**
 * A fixed set of reusable piece buffers in shared memory: a downloaded piece
 * is assembled in one, hashed by a worker straight from it, written to disk
 * from it, and the buffer goes back to the set. Reuse (instead of a new
 * SharedArrayBuffer per piece) keeps memory bounded by construction: shared
 * memory handed to a worker is only freed once both threads have collected
 * their references, which under load can lag far behind.
 */
export class PieceBuffers {
  readonly capacity: number;
  readonly #pieceLength: number;
  readonly #free: SharedArrayBuffer[] = [];
  #allocated = 0;

  /** At most `budgetBytes` of buffers, but never fewer than `minimum` pieces. */
  constructor(pieceLength: number, budgetBytes: number, minimum = 4) {
    this.#pieceLength = pieceLength;
    this.capacity = Math.max(minimum, Math.floor(budgetBytes / pieceLength));
  }

  /** True when every buffer is in use. */
  get exhausted(): boolean {
    return this.#free.length === 0 && this.#allocated >= this.capacity;
  }

  /**
   * A view of `size` bytes (at most one piece). A reused buffer still holds an
   * earlier piece: it is not cleared, because a piece is only hashed once
   * every one of its blocks has been written into it. (Clearing shared memory
   * is slow, too: V8 fills it a byte at a time.) The caller keeps within
   * `capacity` (see `exhausted`); if a race still asks for more, a buffer is
   * made anyway and dropped again on release.
   */
  acquire(size: number): Uint8Array<SharedArrayBuffer> {
    let buffer = this.#free.pop();
    if (!buffer) {
      buffer = new SharedArrayBuffer(this.#pieceLength);
      this.#allocated++;
    }
    return new Uint8Array(buffer, 0, size);
  }

  release(view: Uint8Array<SharedArrayBuffer>): void {
    if (this.#free.length + 1 > this.capacity) {
      this.#allocated--;
      return;
    }
    this.#free.push(view.buffer);
  }

  /** Buffers handed out and not yet released. */
  get inUse(): number {
    return this.#allocated - this.#free.length;
  }
}
