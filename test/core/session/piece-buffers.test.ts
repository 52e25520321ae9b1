import { describe, expect, it } from 'vitest';
import { PieceBuffers } from '../../../src/core/session/piece-buffers.ts';
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
