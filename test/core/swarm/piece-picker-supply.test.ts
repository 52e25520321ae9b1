/**
 * The picker's `supply` count: the download scheduler skips the pick after a
 * block while a pick for the peer found nothing and the count is unchanged,
 * (out of end game, where picks always run), so every change that can give
 * a peer a block must move it.
 */
import { describe, expect, it } from 'vitest';
import { BLOCK_SIZE, PiecePicker, type PickerPeer } from '../../../src/core/swarm/piece-picker.ts';
import { seeded } from './prng.ts';

const B = BLOCK_SIZE;

const seed = (id: string): PickerPeer => ({ id, has: () => true, choked: false });

/** 2 pieces of 2 blocks, every block requested by peer a (nothing left to pick for b). */
function allRequested() {
  const p = new PiecePicker({
    pieceCount: 2,
    pieceLength: 2 * B,
    totalLength: 4 * B,
    random: seeded(1),
  });
  p.addSeed();
  p.addSeed();
  const blocks = p.pickBlocks(seed('a'), 10, 0);
  expect(blocks).toHaveLength(4);
  return { p, blocks };
}

describe('PiecePicker supply', () => {
  it('stays put while picks and received blocks give nobody anything new', () => {
    const { p, blocks } = allRequested();
    const before = p.supply;
    p.blockReceived('a', blocks[0]!.index, blocks[0]!.begin, B);
    p.pickBlocks(seed('b'), 10, 0); // end game: duplicates of a's requests
    p.blockReceived('a', blocks[0]!.index, blocks[0]!.begin, B); // a duplicate
    expect(p.supply).toBe(before);
  });

  it('moves when a request is given back, times out or leaves with its peer', () => {
    for (const giveBack of [
      (p: PiecePicker, b: { index: number; begin: number }) => p.requestCancelled('a', b),
      (p: PiecePicker, b: { index: number; begin: number }) => p.requestTimedOut('a', b),
      (p: PiecePicker) => void p.peerGone('a'),
    ]) {
      const { p, blocks } = allRequested();
      const before = p.supply;
      giveBack(p, blocks[3]!);
      expect(p.supply).not.toBe(before);
      // And there is indeed something to pick now.
      expect(p.pickBlocks(seed('b'), 10, 0).length).toBeGreaterThan(0);
    }
  });

  it('moves when a piece fails, is verified or is selected again', () => {
    const { p, blocks } = allRequested();
    const piece = blocks[0]!.index;
    for (const b of blocks.filter((b) => b.index === piece))
      p.blockReceived('a', b.index, b.begin, B);
    let before = p.supply;
    p.pieceFailed(piece);
    expect(p.supply).not.toBe(before);
    expect(p.pickBlocks(seed('b'), 10, 0).length).toBeGreaterThan(0);

    before = p.supply;
    p.pieceVerified(piece);
    expect(p.supply).not.toBe(before);

    const other = 1 - piece;
    p.setPriority(other, 0);
    before = p.supply;
    p.setPriority(other, 1);
    expect(p.supply).not.toBe(before);
  });
});
