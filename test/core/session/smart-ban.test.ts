import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SmartBan } from '../../../src/core/session/smart-ban.ts';

const BLOCK = 16;

describe('SmartBan', () => {
  it('convicts only the sender whose block differs from the copy that verified', () => {
    const truth = randomBytes(4 * BLOCK);
    const spoiled = Buffer.from(truth);
    spoiled[2 * BLOCK + 3]! ^= 1; // block 2, sent by the liar
    const smart = new SmartBan<string>({ blockSize: BLOCK });
    smart.pieceFailed(7, spoiled, ['honest', 'honest', 'liar', 'other']);
    expect(smart.piecePassed(3, truth)).toEqual([]); // another piece: nothing known
    expect(smart.piecePassed(7, truth)).toEqual(['liar']);
    expect(smart.size).toBe(0);
  });

  it('remembers every failed copy of a block until one verifies', () => {
    const truth = randomBytes(2 * BLOCK);
    const a = Buffer.from(truth);
    a[0]! ^= 1;
    const b = Buffer.from(truth);
    b[BLOCK]! ^= 1;
    const smart = new SmartBan<string>({ blockSize: BLOCK });
    smart.pieceFailed(0, a, ['liar1', 'honest']);
    smart.pieceFailed(0, b, ['honest', 'liar2']);
    expect(new Set(smart.piecePassed(0, truth))).toEqual(new Set(['liar1', 'liar2']));
  });

  it('keeps at most maxPieces failed pieces, forgetting the oldest', () => {
    const smart = new SmartBan<string>({ blockSize: BLOCK, maxPieces: 2 });
    const truth = randomBytes(BLOCK);
    const bad = Buffer.alloc(BLOCK);
    for (const index of [1, 2, 3]) smart.pieceFailed(index, bad, ['liar']);
    expect(smart.size).toBe(2);
    expect(smart.piecePassed(1, truth)).toEqual([]);
    expect(smart.piecePassed(3, truth)).toEqual(['liar']);
  });
});
