/**
 * Which pieces a peer (or we) have, as the BEP 3 bitfield: bit 7 of byte 0 is
 * piece 0. The count of set bits is kept up to date so `count()` and
 * `hasAll()` cost nothing in the piece picker's hot loops.
 */
import { WireProtocolError } from './errors.ts';

export class BitField {
  /** Number of pieces (bits that mean something). */
  readonly length: number;
  readonly #bytes: Uint8Array;
  #count = 0;

  constructor(pieceCount: number) {
    if (!Number.isSafeInteger(pieceCount) || pieceCount < 0) {
      throw new RangeError(`piece count must be a non-negative integer, got ${pieceCount}`);
    }
    this.length = pieceCount;
    this.#bytes = new Uint8Array(byteLengthFor(pieceCount));
  }

  /**
   * Parses a peer's bitfield. The byte length must be exactly
   * ceil(pieceCount / 8) and the spare bits after the last piece must be zero
   * (BEP 3: "clients should drop the connection" otherwise). Copies the bytes.
   */
  static fromBytes(bytes: Uint8Array, pieceCount: number): BitField {
    const field = new BitField(pieceCount);
    const expected = field.#bytes.length;
    if (bytes.length !== expected) {
      throw new WireProtocolError(
        'bad-bitfield',
        `bitfield is ${bytes.length} bytes, expected ${expected} for ${pieceCount} pieces`,
      );
    }
    const spare = expected * 8 - pieceCount;
    if (spare > 0 && (bytes[expected - 1]! & ((1 << spare) - 1)) !== 0) {
      throw new WireProtocolError(
        'bad-bitfield',
        'bitfield has spare bits set past the last piece',
      );
    }
    field.#bytes.set(bytes);
    let count = 0;
    for (const byte of field.#bytes) count += POPCOUNT[byte]!;
    field.#count = count;
    return field;
  }

  /** A bitfield with every piece set (a seed, or `have-all`). */
  static full(pieceCount: number): BitField {
    const field = new BitField(pieceCount);
    field.setAll();
    return field;
  }

  /** False for indexes outside [0, length): a peer's `have` index must be range-checked by the caller. */
  get(index: number): boolean {
    if (!this.#inRange(index)) return false;
    return (this.#bytes[index >>> 3]! & (0x80 >>> (index & 7))) !== 0;
  }

  set(index: number, value = true): void {
    if (!this.#inRange(index)) {
      throw new RangeError(`piece index ${index} out of range [0, ${this.length})`);
    }
    const byte = index >>> 3;
    const mask = 0x80 >>> (index & 7);
    const had = (this.#bytes[byte]! & mask) !== 0;
    if (had === value) return;
    if (value) {
      this.#bytes[byte]! |= mask;
      this.#count++;
    } else {
      this.#bytes[byte]! &= ~mask;
      this.#count--;
    }
  }

  setAll(): void {
    this.#bytes.fill(0xff);
    const spare = this.#bytes.length * 8 - this.length;
    if (spare > 0) this.#bytes[this.#bytes.length - 1] = (0xff << spare) & 0xff;
    this.#count = this.length;
  }

  clearAll(): void {
    this.#bytes.fill(0);
    this.#count = 0;
  }

  /** Number of pieces set. */
  count(): number {
    return this.#count;
  }

  hasAll(): boolean {
    return this.#count === this.length;
  }

  hasNone(): boolean {
    return this.#count === 0;
  }

  /** A copy in wire format (spare bits zero), ready for a `bitfield` message. */
  toBytes(): Uint8Array {
    return this.#bytes.slice();
  }

  #inRange(index: number): boolean {
    return Number.isInteger(index) && index >= 0 && index < this.length;
  }
}

export function byteLengthFor(pieceCount: number): number {
  return Math.ceil(pieceCount / 8);
}

const POPCOUNT = Uint8Array.from({ length: 256 }, (_, byte) => {
  let n = 0;
  for (let b = byte; b !== 0; b &= b - 1) n++;
  return n;
});
