/**
 * Piece <-> file layout maths over the torrent's piece space (see
 * TorrentFile.offset): pure, no I/O. Pieces span files; padding files (BEP 47)
 * and v2 alignment gaps (space between a file's end and the next piece
 * boundary in v2-only torrents) read as zeros and are never written.
 */
import type { TorrentFile } from '../metainfo/types.ts';

export type LayoutFile = Pick<TorrentFile, 'length' | 'offset' | 'padding'>;

export interface LayoutInput {
  pieceLength: number;
  pieceCount: number;
  spaceSize: number;
  files: readonly LayoutFile[];
}

/**
 * One contiguous run of bytes inside one file (or inside a gap between files).
 * - `data`: bytes of a real file: read/write `length` bytes at `fileOffset` of `files[fileIndex]`.
 * - `padding`: bytes of a BEP 47 padding file: zeros, never written.
 * - `gap`: bytes that belong to no file (v2 alignment): zeros, never written; `fileIndex` is -1.
 */
export interface FileSpan {
  fileIndex: number;
  fileOffset: number;
  length: number;
  /** True for `padding` and `gap` spans: they read as zeros and are never written. */
  padding: boolean;
  kind: 'data' | 'padding' | 'gap';
}

export class PieceLayout {
  readonly pieceLength: number;
  readonly pieceCount: number;
  readonly spaceSize: number;
  readonly files: readonly LayoutFile[];
  /** Indexes of non-empty files, in offset order (the binary search runs over these). */
  readonly #order: number[];
  readonly #starts: number[];

  constructor(input: LayoutInput) {
    if (!Number.isSafeInteger(input.pieceLength) || input.pieceLength <= 0) {
      throw new RangeError(`invalid piece length ${input.pieceLength}`);
    }
    this.pieceLength = input.pieceLength;
    this.pieceCount = input.pieceCount;
    this.spaceSize = input.spaceSize;
    this.files = input.files;
    const order: number[] = [];
    for (let i = 0; i < input.files.length; i++) {
      if (input.files[i]!.length > 0) order.push(i);
    }
    // Metainfo order is offset order already; a stable sort keeps that true for hand-built inputs.
    order.sort((a, b) => input.files[a]!.offset - input.files[b]!.offset);
    this.#order = order;
    this.#starts = order.map((i) => input.files[i]!.offset);
  }

  /** Size in bytes of piece `index` (the last piece may be shorter). */
  pieceSize(index: number): number {
    this.#checkPiece(index);
    if (index < this.pieceCount - 1) return this.pieceLength;
    return this.spaceSize - index * this.pieceLength;
  }

  /** Byte offset of piece `index` in the piece space. */
  pieceOffset(index: number): number {
    this.#checkPiece(index);
    return index * this.pieceLength;
  }

  /** Spans covering `length` bytes from `begin` inside piece `pieceIndex`, in order. */
  fileSpans(pieceIndex: number, begin = 0, length?: number): FileSpan[] {
    const size = this.pieceSize(pieceIndex);
    const len = length ?? size - begin;
    if (begin < 0 || len < 0 || begin + len > size) {
      throw new RangeError(`range ${begin}+${len} outside piece ${pieceIndex} of ${size} bytes`);
    }
    return this.spansOfRange(pieceIndex * this.pieceLength + begin, len);
  }

  /** Spans covering the bytes [offset, offset + length) of the piece space, in order. */
  spansOfRange(offset: number, length: number): FileSpan[] {
    if (offset < 0 || length < 0 || offset + length > this.spaceSize) {
      throw new RangeError(
        `range ${offset}+${length} outside the piece space of ${this.spaceSize} bytes`,
      );
    }
    const spans: FileSpan[] = [];
    const end = offset + length;
    let pos = offset;
    // Last non-empty file starting at or before pos (-1: pos is before every file).
    let k = this.#lastStartAtOrBefore(pos);
    while (pos < end) {
      if (k >= 0) {
        const fileIndex = this.#order[k]!;
        const file = this.files[fileIndex]!;
        const fileEnd = file.offset + file.length;
        if (pos < fileEnd) {
          const n = Math.min(end, fileEnd) - pos;
          spans.push({
            fileIndex,
            fileOffset: pos - file.offset,
            length: n,
            padding: file.padding,
            kind: file.padding ? 'padding' : 'data',
          });
          pos += n;
          continue;
        }
      }
      // In a gap: up to the next file's start or the end of the range.
      const nextStart = k + 1 < this.#starts.length ? this.#starts[k + 1]! : Infinity;
      if (pos < nextStart) {
        const n = Math.min(end, nextStart) - pos;
        spans.push({ fileIndex: -1, fileOffset: 0, length: n, padding: true, kind: 'gap' });
        pos += n;
      }
      k++;
    }
    return spans;
  }

  /**
   * First and last piece holding bytes of file `fileIndex`; null for an empty
   * file (it occupies no bytes of the piece space).
   */
  piecesOfFile(fileIndex: number): [first: number, last: number] | null {
    const file = this.files[fileIndex];
    if (!file) throw new RangeError(`file index ${fileIndex} out of range`);
    if (file.length === 0) return null;
    return [
      Math.floor(file.offset / this.pieceLength),
      Math.floor((file.offset + file.length - 1) / this.pieceLength),
    ];
  }

  #checkPiece(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.pieceCount) {
      throw new RangeError(`piece index ${index} out of range (0..${this.pieceCount - 1})`);
    }
  }

  #lastStartAtOrBefore(pos: number): number {
    let lo = 0;
    let hi = this.#starts.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#starts[mid]! <= pos) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }
}
