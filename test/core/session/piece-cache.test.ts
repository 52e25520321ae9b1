import { describe, expect, it } from 'vitest';
import { PieceCache } from '../../../src/core/session/piece-cache.ts';

const PIECE = 4;

/** A cache of `pieces` pieces whose loads fill a piece with its index and count themselves. */
function setup(pieces: number) {
  const cache = new PieceCache(pieces * PIECE, PIECE);
  const loads: number[] = [];
  const get = (index: number, found = true) =>
    cache.get(index, PIECE, async (target) => {
      loads.push(index);
      target.fill(index);
      return found;
    });
  return { cache, loads, get };
}

describe('PieceCache', () => {
  it('reads a piece once for concurrent and repeated requests', async () => {
    const { loads, get } = setup(2);
    const [a, b] = await Promise.all([get(7), get(7)]);
    const c = await get(7);
    expect(loads).toEqual([7]);
    expect([...a!.data]).toEqual([7, 7, 7, 7]);
    expect(b!.data.buffer).toBe(a!.data.buffer);
    expect(c!.data.buffer).toBe(a!.data.buffer);
  });

  it('never reuses a buffer while a lease on it is held, even after eviction', async () => {
    const { get } = setup(2);
    const held = await get(0);
    (await get(1))!.release();
    (await get(2))!.release(); // evicts piece 0, whose lease is still held
    for (let index = 3; index < 8; index++) (await get(index))!.release();
    expect([...held!.data]).toEqual([0, 0, 0, 0]);
    held!.release();
    const reused: ArrayBufferLike[] = [];
    for (let index = 8; index < 12; index++) {
      const lease = (await get(index))!;
      reused.push(lease.data.buffer);
      lease.release();
    }
    expect(reused).toContain(held!.data.buffer);
  });

  it('answers null for data that is gone and does not cache the miss', async () => {
    const { loads, get } = setup(2);
    expect(await get(3, false)).toBeNull();
    expect(await get(3)).not.toBeNull();
    expect(loads).toEqual([3, 3]);
  });

  it('passes a read error on and reads again next time', async () => {
    const cache = new PieceCache(2 * PIECE, PIECE);
    await expect(
      cache.get(1, PIECE, async () => {
        throw new Error('EIO');
      }),
    ).rejects.toThrow('EIO');
    const lease = await cache.get(1, PIECE, async (target) => {
      target.fill(9);
      return true;
    });
    expect([...lease!.data]).toEqual([9, 9, 9, 9]);
  });
});
