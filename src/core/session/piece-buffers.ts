/**
 * A fixed set of reusable piece buffers in shared memory: a downloaded piece
 * is assembled in one, hashed by a worker straight from it, written to disk
 * from it, and the buffer goes back to the set. Reuse (instead of a new
 * SharedArrayBuffer per piece) keeps memory bounded by construction: shared
 * memory handed to a worker is only freed once both threads have collected
 * their references, which under load can lag far behind.
 *
 * The buffers are slots of one page-aligned region (storage/aligned-memory.ts),
 * each starting on a page boundary, so a verified piece can go to disk with
 * direct I/O, bypassing the page cache.
 */
import { DIRECT_IO_ALIGNMENT, allocateAligned } from '../storage/aligned-memory.ts';

export class PieceBuffers {
  readonly capacity: number;
  readonly #pieceLength: number;
  readonly #slotSize: number;
  /** The aligned region, made when the first buffer is needed. */
  #region: SharedArrayBuffer | null = null;
  /** Slot numbers never handed out yet, and slots given back, to hand out next. */
  #nextSlot = 0;
  readonly #freeSlots: number[] = [];
  /** Buffers made beyond `capacity` (see acquire); dropped on release. */
  #overflow = 0;

  /** At most `budgetBytes` of buffers, but never fewer than `minimum` pieces. */
  constructor(pieceLength: number, budgetBytes: number, minimum = 4) {
    this.#pieceLength = pieceLength;
    this.#slotSize = Math.ceil(pieceLength / DIRECT_IO_ALIGNMENT) * DIRECT_IO_ALIGNMENT;
    // Counted in slots, not pieces: a slot is at least a page, so pieces of a few bytes
    // (legal in v1) would otherwise ask for budget/pieceLength pages (terabytes for 4-byte pieces).
    this.capacity = Math.max(minimum, Math.floor(budgetBytes / this.#slotSize));
  }

  /** True when every buffer is in use. */
  get exhausted(): boolean {
    return this.#freeSlots.length === 0 && this.#nextSlot >= this.capacity;
  }

  /**
   * A view of `size` bytes (at most one piece). A reused buffer still holds an
   * earlier piece: it is not cleared, because a piece is only hashed once
   * every one of its blocks has been written into it. (Clearing shared memory
   * is slow, too: V8 fills it a byte at a time.) The caller keeps within
   * `capacity` (see `exhausted`); if a race still asks for more, a plain
   * buffer is made anyway and dropped again on release.
   */
  acquire(size: number): Uint8Array<SharedArrayBuffer> {
    let slot = this.#freeSlots.pop();
    if (slot === undefined && this.#nextSlot < this.capacity) slot = this.#nextSlot++;
    if (slot === undefined) {
      this.#overflow++;
      return new Uint8Array(new SharedArrayBuffer(this.#pieceLength), 0, size);
    }
    this.#region ??= allocateAligned(this.capacity * this.#slotSize);
    return new Uint8Array(this.#region, slot * this.#slotSize, size);
  }

  release(view: Uint8Array<SharedArrayBuffer>): void {
    if (view.buffer !== this.#region) {
      this.#overflow--;
      return;
    }
    this.#freeSlots.push(view.byteOffset / this.#slotSize);
  }

  /** Buffers handed out and not yet released. */
  get inUse(): number {
    return this.#nextSlot - this.#freeSlots.length + this.#overflow;
  }
}
