/**
 * How many peers have each piece, and the pieces that may be started ordered
 * by it, for the piece picker's rarest first (PICKER.md, "Invariants").
 *
 * The pieces that may be started (the picker's wanted OPEN pieces: it says
 * which with `open` and `close`) sit in buckets by availability, so rarest
 * first is a walk over buckets from the lowest up: no sorting, and a HAVE
 * moves one piece between buckets in O(1). Has-all peers (HAVE ALL) add the
 * same to every piece, so they are one counter and never reorder buckets.
 */

/** Either a wire-format bitfield (MSB first, spare bits ignored) or anything with `has`. */
export type PieceSet = Uint8Array | { has(index: number): boolean };

export class PieceAvailability {
  readonly #pieceCount: number;
  /** Peers with a bitfield/have for the piece; has-all peers are counted in #seeds instead. */
  readonly #avail: Uint32Array;
  #seeds = 0;
  /**
   * #buckets[a] lists the open pieces whose availability (seeds left out) is a.
   * #bucketPos[i] is the slot of piece i in its bucket, or -1 when it is not open.
   */
  readonly #buckets: number[][] = [[]];
  readonly #bucketPos: Int32Array;
  /** How many pieces the buckets hold. */
  #bucketed = 0;
  /**
   * Every bucket below this one is empty. Peers that send a full bitfield (not
   * HAVE ALL) push every piece one bucket up: without this, each rarest-first
   * pick would first walk one empty bucket per such peer.
   */
  #lowestBucket = 0;

  /** No piece is open until `open` is called for it. */
  constructor(pieceCount: number) {
    this.#pieceCount = pieceCount;
    this.#avail = new Uint32Array(pieceCount);
    this.#bucketPos = new Int32Array(pieceCount).fill(-1);
  }

  /** Availability of a piece, seeds included. */
  of(index: number): number {
    return this.#avail[index]! + this.#seeds;
  }

  /** Availability of a piece without the has-all peers (which add the same to every piece). */
  withoutSeeds(index: number): number {
    return this.#avail[index]!;
  }

  addPeer(pieces: PieceSet): void {
    this.#eachPiece(pieces, (i) => this.#change(i, 1));
  }

  /** Pass the peer's bitfield as it is when it leaves (haves since its bitfield included). */
  removePeer(pieces: PieceSet): void {
    this.#eachPiece(pieces, (i) => this.#change(i, -1));
  }

  /** A HAVE message; the index is checked by the caller. */
  addHave(index: number): void {
    this.#change(index, 1);
  }

  /** HAVE ALL (BEP 6): O(1). */
  addSeed(): void {
    this.#seeds++;
  }

  removeSeed(): void {
    if (this.#seeds > 0) this.#seeds--;
  }

  // ---- the pieces that may be started ----

  /** The piece may be started (it is wanted and OPEN). */
  open(index: number): void {
    const a = this.#avail[index]!;
    while (this.#buckets.length <= a) this.#buckets.push([]);
    const bucket = this.#buckets[a]!;
    this.#bucketPos[index] = bucket.length;
    bucket.push(index);
    this.#bucketed++;
    if (a < this.#lowestBucket) this.#lowestBucket = a;
  }

  /** The piece may no longer be started (started, verified or unwanted); a closed one is left as it is. */
  close(index: number): void {
    const pos = this.#bucketPos[index]!;
    if (pos < 0) return;
    const bucket = this.#buckets[this.#avail[index]!]!;
    const last = bucket.pop()!;
    if (last !== index) {
      bucket[pos] = last;
      this.#bucketPos[last] = pos;
    }
    this.#bucketPos[index] = -1;
    this.#bucketed--;
  }

  isOpen(index: number): boolean {
    return this.#bucketPos[index]! >= 0;
  }

  /** How many pieces are open. */
  get openCount(): number {
    return this.#bucketed;
  }

  /**
   * Offers the open pieces to `take`, rarest first, until it returns true. A
   * random rotation inside each bucket (one `random()` per bucket offered)
   * breaks ties without sorting.
   */
  rarestFirst(random: () => number, take: (index: number) => boolean): void {
    while (
      this.#lowestBucket < this.#buckets.length &&
      this.#buckets[this.#lowestBucket]!.length === 0
    ) {
      this.#lowestBucket++;
    }
    for (let a = this.#lowestBucket; a < this.#buckets.length; a++) {
      const bucket = this.#buckets[a]!;
      const n = bucket.length;
      if (n === 0) continue;
      const start = Math.floor(random() * n);
      for (let k = 0; k < n; k++) {
        if (take(bucket[(start + k) % n]!)) return;
      }
    }
  }

  #eachPiece(pieces: PieceSet, fn: (index: number) => void): void {
    if (pieces instanceof Uint8Array) {
      const bytes = Math.min(pieces.length, Math.ceil(this.#pieceCount / 8));
      for (let b = 0; b < bytes; b++) {
        const byte = pieces[b]!;
        if (byte === 0) continue;
        for (let bit = 0; bit < 8; bit++) {
          const i = b * 8 + bit;
          if (i < this.#pieceCount && byte & (0x80 >> bit)) fn(i);
        }
      }
    } else {
      for (let i = 0; i < this.#pieceCount; i++) if (pieces.has(i)) fn(i);
    }
  }

  #change(index: number, delta: 1 | -1): void {
    const before = this.#avail[index]!;
    if (delta < 0 && before === 0) return; // tolerate an engine that removes twice
    const open = this.isOpen(index);
    if (open) this.close(index);
    this.#avail[index] = before + delta;
    if (open) this.open(index);
  }
}
