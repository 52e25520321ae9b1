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

/**
 * Copies a received block into a piece buffer at `offset`, as one memmove.
 * V8 copies into shared memory with relaxed atomic stores (TypedArray `set`,
 * and Node's `Buffer.copy` for a whole source, which calls it): word by word
 * at ~5 GB/s when the source is 8-byte aligned, a byte at a time otherwise,
 * and a block inside a socket read usually sits at an odd offset after its
 * 13-byte header. Node's `Buffer.copy` of part of a source goes to its C++
 * copy instead, a plain memmove (~17 GB/s): so the source is widened by one
 * byte of the memory around it, which the copy skips. 19 200 blocks of 16 KiB
 * (a 300 MiB download): ~80 ms with an aligned bounce buffer and `set`, ~24
 * ms this way (docs/PERFORMANCE.md, many files, 2026-12-07 morning). The
 * bytes copied are the same either way: which one Node takes is only speed.
 */
export function copyIntoPiece(block: Uint8Array, piece: Uint8Array, offset: number): void {
  if (offset < 0 || offset + block.length > piece.length)
    throw new RangeError(`a block of ${block.length} bytes at ${offset} overruns its piece`);
  const { buffer, byteOffset, length } = block;
  if (byteOffset > 0) {
    Buffer.from(buffer, byteOffset - 1, length + 1).copy(piece, offset, 1);
  } else if (length < buffer.byteLength) {
    Buffer.from(buffer, 0, length + 1).copy(piece, offset, 0, length);
  } else {
    // The block is its whole buffer: nothing around it to widen with (starts aligned, though).
    piece.set(block, offset);
  }
}
