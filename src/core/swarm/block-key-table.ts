/**
 * A set of block keys (non-negative integers, a block's number in the
 * torrent), each with a fixed number of number columns, kept in typed arrays
 * with open addressing.
 *
 * Why not a Map or a Set: a download adds and removes a request per 16 KiB
 * block, hundreds in flight per peer. V8's ordered hash tables reuse the slot
 * of a deleted entry only when they rehash into a new table (every few
 * hundred insertions at a steady size, and again whenever they shrink), and
 * those tables lived long enough to be promoted: together with a record per
 * request they were most of what the old generation grew by in a 1 GiB
 * download (docs/PERFORMANCE.md, "Per-block allocation (2026-12-07)"). Here a
 * delete moves the entries after it back (linear probing, no tombstones) and
 * the arrays only ever grow, so a steady stream of requests allocates nothing.
 *
 * Iteration is in table order, not insertion order. Do not add or delete
 * while iterating.
 */
const EMPTY = -1;
const MIN_CAPACITY = 16;

export class BlockKeyTable {
  readonly #columnCount: number;
  #keys: Float64Array;
  #columns: Float64Array[];
  #mask: number;
  #shift: number;
  #size = 0;

  constructor(columnCount = 0) {
    this.#columnCount = columnCount;
    this.#keys = new Float64Array(MIN_CAPACITY).fill(EMPTY);
    this.#columns = Array.from({ length: columnCount }, () => new Float64Array(MIN_CAPACITY));
    this.#mask = MIN_CAPACITY - 1;
    this.#shift = 32 - Math.log2(MIN_CAPACITY);
  }

  get size(): number {
    return this.#size;
  }

  has(key: number): boolean {
    return this.slotOf(key) !== -1;
  }

  /** Where `key` is (for `column`), or -1. Valid until the next change. */
  slotOf(key: number): number {
    if (!(key >= 0)) return -1; // never stored, and -1 marks an empty slot
    const keys = this.#keys;
    for (let i = this.#home(key); ; i = (i + 1) & this.#mask) {
      const at = keys[i]!;
      if (at === key) return i;
      if (at === EMPTY) return -1;
    }
  }

  /** The value of `column` at `slot` (from slotOf). */
  column(slot: number, column: number): number {
    return this.#columns[column]![slot]!;
  }

  /** Adds `key`, or replaces its values; columns beyond the values given are 0. */
  set(key: number, value0 = 0, value1 = 0): void {
    if (!Number.isSafeInteger(key) || key < 0) throw new RangeError(`bad block key ${key}`);
    if ((this.#size + 1) * 2 > this.#keys.length) this.#grow();
    const keys = this.#keys;
    let i = this.#home(key);
    while (keys[i] !== EMPTY && keys[i] !== key) i = (i + 1) & this.#mask;
    if (keys[i] === EMPTY) {
      keys[i] = key;
      this.#size++;
    }
    const columns = this.#columns;
    if (this.#columnCount > 0) columns[0]![i] = value0;
    if (this.#columnCount > 1) columns[1]![i] = value1;
  }

  /** Removes `key`; true when it was there. */
  delete(key: number): boolean {
    let hole = this.slotOf(key);
    if (hole === -1) return false;
    const keys = this.#keys;
    const mask = this.#mask;
    // Backward shift: an entry further along the run may move into the hole
    // unless its home lies cyclically in (hole, j] (it would become unreachable).
    for (let j = (hole + 1) & mask; keys[j] !== EMPTY; j = (j + 1) & mask) {
      const home = this.#home(keys[j]!);
      const stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
      if (stays) continue;
      keys[hole] = keys[j]!;
      for (const column of this.#columns) column[hole] = column[j]!;
      hole = j;
    }
    keys[hole] = EMPTY;
    this.#size--;
    return true;
  }

  /** Empties the table, keeping its arrays for what comes next. */
  clear(): void {
    if (this.#size === 0) return;
    this.#keys.fill(EMPTY);
    this.#size = 0;
  }

  *[Symbol.iterator](): IterableIterator<number> {
    const keys = this.#keys;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== EMPTY) yield keys[i]!;
  }

  /** Fibonacci hashing of both 32-bit halves: consecutive keys land far apart. */
  #home(key: number): number {
    const low = key >>> 0;
    const high = (key / 0x1_0000_0000) >>> 0;
    return Math.imul(low ^ Math.imul(high, 0x85eb_ca6b), 0x9e37_79b1) >>> this.#shift;
  }

  #grow(): void {
    const oldKeys = this.#keys;
    const oldColumns = this.#columns;
    const capacity = oldKeys.length * 2;
    this.#keys = new Float64Array(capacity).fill(EMPTY);
    this.#columns = oldColumns.map(() => new Float64Array(capacity));
    this.#mask = capacity - 1;
    this.#shift--;
    for (let s = 0; s < oldKeys.length; s++) {
      const key = oldKeys[s]!;
      if (key === EMPTY) continue;
      let i = this.#home(key);
      while (this.#keys[i] !== EMPTY) i = (i + 1) & this.#mask;
      this.#keys[i] = key;
      for (let c = 0; c < oldColumns.length; c++) this.#columns[c]![i] = oldColumns[c]![s]!;
    }
  }
}
