import { describe, expect, it } from 'vitest';
import { PartialPieces } from '../../../src/core/swarm/partial-pieces.ts';

/** 4 blocks per piece; the last piece (9) has 2. */
const pieces = () => new PartialPieces(4, (index) => (index === 9 ? 2 : 4));
const indexes = (set: Iterable<{ index: number }> | undefined) =>
  [...(set ?? [])].map((p) => p.index);

describe('PartialPieces', () => {
  it('lists a piece among those with free blocks exactly while it has one', () => {
    const all = pieces();
    const p = all.start(9, 'a');
    expect(p.blocks).toBe(2);
    expect(indexes(all.withFree())).toEqual([9]);
    all.addRequest(p, 0, 'a', 0);
    all.addRequest(p, 1, 'a', 0);
    expect(p.free).toBe(0);
    expect(indexes(all.withFree())).toEqual([]);
    all.timeOut(p, 1, 'a');
    expect(p.free).toBe(1);
    expect(indexes(all.withFree())).toEqual([9]);
    expect([...(all.timedOutKeys('a') ?? [])]).toEqual([all.key(9, 1)]);
    all.renew(p, 1, 'a', 5);
    expect(indexes(all.withFree())).toEqual([]);
    expect(all.requestOf(p, 1, 'a')).toEqual({ at: 5, timedOut: false });
    expect(p.requestEntries).toBe(2);
  });

  it('completes a piece on its last block and reports the other requesters', () => {
    const all = pieces();
    const p = all.start(9, 'a');
    all.addRequest(p, 0, 'a', 0);
    all.addRequest(p, 1, 'a', 0);
    all.addRequest(p, 1, 'b', 0); // end game duplicate
    expect(all.receive(p, 0, 'a')).toBeUndefined();
    expect(all.receive(p, 1, 'a')).toEqual(['b']);
    expect(all.partial(9)).toBeUndefined();
    expect(all.started(9)).toBe(p);
    expect(all.size).toBe(0);
    expect(all.requestKeys('a')).toBeUndefined();
    expect(all.requestKeys('b')).toBeUndefined();
    expect(all.ownedBy('a')).toBeUndefined();
  });

  it("makes a departed owner's pieces orphans and releases its requests", () => {
    const all = pieces();
    const mine = all.start(1, 'a');
    const theirs = all.start(2, 'b');
    for (let b = 0; b < 4; b++) all.addRequest(mine, b, 'a', 0);
    all.addRequest(theirs, 0, 'a', 0);
    all.receive(mine, 0, 'a');
    expect(indexes(all.ownedBy('a'))).toEqual([1]);
    expect(indexes(all.freeOrphans())).toEqual([]);
    const released = all.peerGone('a');
    expect(released.map(([p, b]) => [p.index, b])).toEqual([
      [1, 1],
      [1, 2],
      [1, 3],
      [2, 0],
    ]);
    expect(mine.owner).toBe('');
    expect(all.ownedBy('a')).toBeUndefined();
    expect(indexes(all.freeOrphans())).toEqual([1]);
    expect(indexes(all.withFree())).toEqual([2, 1]);
    // b's piece has nothing received and no request left: idle, forgotten on request.
    expect(all.forgetIfIdle(theirs)).toBe(true);
    expect(all.forgetIfIdle(mine)).toBe(false);
    expect(indexes(all.withFree())).toEqual([1]);
    expect(all.ownedBy('b')).toBeUndefined();
  });

  it('forgets a piece with its requests', () => {
    const all = pieces();
    const p = all.start(3, 'a');
    all.addRequest(p, 2, 'a', 0);
    all.addRequest(p, 3, 'b', 0);
    all.forget(p);
    expect(all.started(3)).toBeUndefined();
    expect(all.requestKeys('a')).toBeUndefined();
    expect(all.requestKeys('b')).toBeUndefined();
    expect(indexes(all.withFree())).toEqual([]);
    expect(all.ownedBy('a')).toBeUndefined();
  });
});
