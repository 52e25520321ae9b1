import { describe, expect, it } from 'vitest';
import { PieceBuffers, copyIntoPiece } from '../../../src/core/session/piece-buffers.ts';
import { isPageAligned } from '../../../src/core/storage/aligned-memory.ts';

const MiB = 1024 * 1024;

describe('PieceBuffers', () => {
  it('hands out distinct page-aligned slots up to its capacity, and reuses released ones', () => {
    const buffers = new PieceBuffers(MiB, 4 * MiB);
    expect(buffers.capacity).toBe(4);
    const views = [1, 2, 3, 4].map(() => buffers.acquire(MiB));
    expect(buffers.exhausted).toBe(true);
    expect(views.every(isPageAligned)).toBe(true);
    expect(new Set(views.map((view) => view.byteOffset)).size).toBe(4);
    // Writing one slot never shows in another.
    views.forEach((view, i) => view.fill(i));
    views.forEach((view, i) => expect(view.every((byte) => byte === i)).toBe(true));

    buffers.release(views[2]!);
    expect(buffers.exhausted).toBe(false);
    const again = buffers.acquire(1000);
    expect(again.byteOffset).toBe(views[2]!.byteOffset);
    expect(again.length).toBe(1000);
    expect(buffers.inUse).toBe(4);
  });

  it('keeps at least the minimum number of pieces when they exceed the budget', () => {
    expect(new PieceBuffers(16 * MiB, 16 * MiB).capacity).toBe(4);
    expect(new PieceBuffers(16 * 1024, 16 * MiB).capacity).toBe(1024);
  });

  it('counts its budget in slots, so pieces of a few bytes do not ask for terabytes', () => {
    // v1 allows any piece length; each slot is still a whole page.
    const buffers = new PieceBuffers(4, 16 * MiB);
    expect(buffers.capacity).toBe(4096);
    const view = buffers.acquire(4);
    expect(view.length).toBe(4);
    expect(isPageAligned(view)).toBe(true);
  });

  it('rounds odd piece lengths up to whole pages so every slot stays aligned', () => {
    const buffers = new PieceBuffers(3 * 16 * 1024 + 100, 1 * MiB);
    const views = [0, 1, 2].map(() => buffers.acquire(3 * 16 * 1024 + 100));
    expect(views.every(isPageAligned)).toBe(true);
  });

  it('makes a plain buffer beyond capacity and drops it again on release', () => {
    const buffers = new PieceBuffers(64 * 1024, 128 * 1024, 2);
    const a = buffers.acquire(64 * 1024);
    const b = buffers.acquire(64 * 1024);
    const extra = buffers.acquire(64 * 1024);
    expect(isPageAligned(extra)).toBe(false);
    expect(buffers.inUse).toBe(3);
    buffers.release(extra);
    expect(buffers.inUse).toBe(2);
    buffers.release(a);
    buffers.release(b);
    expect(buffers.inUse).toBe(0);
    // The released extra never comes back: only the two slots do.
    const offsets = [buffers.acquire(10), buffers.acquire(10)].map((view) => view.byteOffset);
    expect(offsets.sort()).toEqual([0, 64 * 1024]);
    expect(isPageAligned(buffers.acquire(10))).toBe(false);
  });
});

describe('copyIntoPiece', () => {
  // A socket read with blocks at every alignment, as the wire decoder hands them out.
  const read = Buffer.alloc(64 * 1024 + 16);
  for (let i = 0; i < read.length; i++) read[i] = (i * 131 + 7) & 0xff;

  it('copies a block at any offset of its buffer to any place in a shared piece, touching nothing else', () => {
    const buffers = new PieceBuffers(64 * 1024, 256 * 1024);
    const piece = buffers.acquire(64 * 1024);
    for (const start of [0, 1, 3, 8, 13, 4099, read.length - 16 * 1024]) {
      for (const offset of [0, 5, 16 * 1024, 48 * 1024]) {
        piece.fill(0xee);
        const block = read.subarray(start, start + 16 * 1024);
        copyIntoPiece(block, piece, offset);
        expect(Buffer.from(piece.subarray(offset, offset + block.length)).equals(block)).toBe(true);
        expect(piece.subarray(0, offset).every((byte) => byte === 0xee)).toBe(true);
        expect(piece.subarray(offset + block.length).every((byte) => byte === 0xee)).toBe(true);
      }
    }
  });

  it('copies a block that is its whole buffer, and one that ends its buffer', () => {
    const piece = new PieceBuffers(1024, 4096).acquire(1024);
    const whole = new Uint8Array(100).map((_, i) => i + 1);
    copyIntoPiece(whole, piece, 900);
    expect([...piece.subarray(900, 1000)]).toEqual([...whole]);
    const tail = read.subarray(read.length - 300);
    copyIntoPiece(tail, piece, 0);
    expect(Buffer.from(piece.subarray(0, 300)).equals(tail)).toBe(true);
  });

  it('refuses a block that would run past the end of its piece', () => {
    const piece = new PieceBuffers(1024, 4096).acquire(1024);
    expect(() => copyIntoPiece(read.subarray(1, 101), piece, 925)).toThrow(RangeError);
    expect(() => copyIntoPiece(read.subarray(1, 101), piece, -1)).toThrow(RangeError);
  });
});
