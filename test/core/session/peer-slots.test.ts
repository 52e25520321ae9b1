import { describe, expect, it } from 'vitest';
import { idlePeersToDrop, incomingLimit } from '../../../src/core/session/peer-slots.ts';

describe('peer slots', () => {
  it('keeps a fifth of the slots for peers we dial', () => {
    expect(incomingLimit(50)).toBe(40);
    expect(incomingLimit(10)).toBe(8);
    expect(incomingLimit(4)).toBe(4); // too few to split
  });

  it('drops the most idle peers, only as many as wait, and none when nobody waits', () => {
    const peers = [
      { id: 'busy', lastActiveAt: 9_000 },
      { id: 'idle-old', lastActiveAt: 1_000 },
      { id: 'idle', lastActiveAt: 3_000 },
    ];
    const at = { now: 10_000, idleMs: 5_000 };
    expect(idlePeersToDrop(peers, { ...at, waiting: 0 })).toEqual([]);
    expect(idlePeersToDrop(peers, { ...at, waiting: 1 })).toEqual(['idle-old']);
    expect(idlePeersToDrop(peers, { ...at, waiting: 5 })).toEqual(['idle-old', 'idle']);
  });
});
