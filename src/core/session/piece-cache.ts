/**
 * A small LRU cache of whole pieces read from disk for uploading: peers ask
 * for a piece 16 KiB at a time, so one positional read per piece instead of
 * one per block keeps seeding fast. Bounded by bytes; concurrent requests for
 * the same piece share one read.
 */
export class PieceCache {
  readonly #maxBytes: number;
  readonly #entries = new Map<number, Promise<Buffer | null>>();
  readonly #sizes = new Map<number, number>();
  #bytes = 0;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  get(index: number, load: () => Promise<Buffer | null>): Promise<Buffer | null> {
    const hit = this.#entries.get(index);
    if (hit) {
      this.#entries.delete(index);
      this.#entries.set(index, hit);
      return hit;
    }
    const loading = load().then(
      (piece) => {
        if (this.#entries.get(index) !== loading) return piece; // evicted while loading
        if (!piece) this.#forget(index);
        else {
          this.#sizes.set(index, piece.length);
          this.#bytes += piece.length;
          this.#evict();
        }
        return piece;
      },
      (error: unknown) => {
        if (this.#entries.get(index) === loading) this.#forget(index);
        throw error;
      },
    );
    this.#entries.set(index, loading);
    return loading;
  }

  #forget(index: number): void {
    this.#entries.delete(index);
    this.#bytes -= this.#sizes.get(index) ?? 0;
    this.#sizes.delete(index);
  }

  #evict(): void {
    for (const index of this.#entries.keys()) {
      if (this.#bytes <= this.#maxBytes || this.#entries.size <= 1) return;
      this.#forget(index);
    }
  }
}
