import { describe, expect, it } from 'vitest';
import { BLOCK_SIZE, PiecePicker, type PickerPeer } from '../../../src/core/swarm/piece-picker.ts';
import { seeded } from './prng.ts';

const B = BLOCK_SIZE;

function peer(
  id: string,
  pieces: Iterable<number> | 'all',
  extra: Partial<PickerPeer> = {},
): PickerPeer {
  const set = pieces === 'all' ? undefined : new Set(pieces);
  return { id, has: (i) => set === undefined || set.has(i), choked: false, ...extra };
}

function picker(
  pieceCount: number,
  blocksPerPiece: number,
  opts: { first?: number; seed?: number } = {},
) {
  return new PiecePicker({
    pieceCount,
    pieceLength: blocksPerPiece * B,
    totalLength: pieceCount * blocksPerPiece * B,
    random: seeded(opts.seed ?? 1),
    randomFirstPieces: opts.first ?? 0,
  });
}

function bits(pieceCount: number, pieces: Iterable<number>): Uint8Array {
  const out = new Uint8Array(Math.ceil(pieceCount / 8));
  for (const i of pieces) out[i >> 3]! |= 0x80 >> (i & 7);
  return out;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** 4 pieces of 4 blocks held by 3, 3, 2 and 1 peers: piece 3 is the rarest. */
function rarityLadder() {
  const p = picker(4, 4);
  p.addPeerAvailability(bits(4, [0, 1, 2, 3]));
  p.addPeerAvailability(bits(4, [0, 1, 2]));
  p.addPeerAvailability(bits(4, [0, 1]));
  return p;
}

describe('PiecePicker geometry', () => {
  it('sizes the blocks of a short last piece exactly', () => {
    const p = new PiecePicker({
      pieceCount: 3,
      pieceLength: 2 * B,
      totalLength: 4 * B + 20_000,
      random: seeded(1),
    });
    expect(p.pieceSize(2)).toBe(20_000);
    expect(p.blockCount(2)).toBe(2);
    p.addSeed();
    const blocks = p.pickBlocks(peer('a', [2]), 10, 0);
    expect(blocks).toEqual([
      { index: 2, begin: 0, length: B },
      { index: 2, begin: B, length: 20_000 - B },
    ]);
    expect(p.blockReceived('a', 2, B, B).kind).toBe('invalid');
    expect(p.blockReceived('a', 2, B, 20_000 - B).kind).toBe('accepted');
  });

  it('rejects inconsistent geometry', () => {
    expect(
      () =>
        new PiecePicker({ pieceCount: 2, pieceLength: B, totalLength: 3 * B, random: Math.random }),
    ).toThrow(RangeError);
  });
});

describe('PiecePicker policy', () => {
  it('picks the rarest piece first', () => {
    const p = picker(8, 2);
    for (let k = 0; k < 3; k++)
      p.addPeerAvailability(
        bits(
          8,
          range(8).filter((i) => i !== 5),
        ),
      );
    p.addPeerAvailability(bits(8, [5]));
    p.addHave(3);
    p.addHave(3); // piece 3 is now the most common, 5 the rarest
    const got = p.pickBlocks(peer('a', 'all'), 2, 0);
    expect(got.map((b) => b.index)).toEqual([5, 5]);
    // next rarest tier (availability 3) never includes piece 3 (availability 5)
    const next = p.pickBlocks(peer('a', 'all'), 12, 0);
    expect(new Set(next.map((b) => b.index)).has(3)).toBe(false);
  });

  it('counts has-all peers without changing the rarity order', () => {
    const p = picker(4, 1);
    p.addSeed();
    p.addSeed();
    p.addPeerAvailability(bits(4, [0, 1, 3]));
    expect(p.availability(2)).toBe(2);
    expect(p.availability(0)).toBe(3);
    expect(p.pickBlocks(peer('a', 'all'), 1, 0)[0]!.index).toBe(2);
    p.removeSeed();
    expect(p.availability(2)).toBe(1);
  });

  it('picks random pieces until randomFirstPieces are verified, then rarest first', () => {
    const firsts = new Set<number>();
    for (let seed = 1; seed <= 20; seed++) {
      const p = picker(64, 1, { first: 4, seed });
      p.addPeerAvailability(bits(64, range(64)));
      p.addPeerAvailability(bits(64, range(63))); // rarest first would always start with 63
      firsts.add(p.pickBlocks(peer('a', 'all'), 1, 0)[0]!.index);
    }
    expect(firsts.size).toBeGreaterThan(5);

    const p = picker(16, 1, { first: 2, seed: 7 });
    p.addPeerAvailability(bits(16, range(16)));
    p.addPeerAvailability(bits(16, range(15))); // piece 15 is the rarest
    const early = peer('a', range(15));
    for (let k = 0; k < 2; k++) {
      const [blk] = p.pickBlocks(early, 1, 0);
      p.blockReceived('a', blk!.index, 0);
      p.pieceVerified(blk!.index);
    }
    expect(p.pickBlocks(peer('b', 'all'), 1, 0)[0]!.index).toBe(15);
  });

  it('prefers finishing its own partial piece over starting a rarer one', () => {
    const p = rarityLadder();
    const a = p.pickBlocks(peer('a', [1]), 1, 0);
    expect(a).toEqual([{ index: 1, begin: 0, length: B }]);
    // a now has the rarest piece 3 too, yet finishing its piece 1 comes first
    const more = p.pickBlocks(peer('a', 'all'), 4, 0);
    expect(more.map((x) => [x.index, x.begin / B])).toEqual([
      [1, 1],
      [1, 2],
      [1, 3],
      [3, 0],
    ]);
    expect(p.progress().partialPieces).toBe(2);
  });

  it("starts its own piece rather than share another peer's, and helps once no piece may start", () => {
    const p = rarityLadder();
    p.pickBlocks(peer('a', [1]), 1, 0); // a owns piece 1
    // b's requests stay in a piece of its own: the rarest one
    const own = p.pickBlocks(peer('b', 'all'), 4, 0);
    expect(own.map((x) => [x.index, x.begin / B])).toEqual([
      [3, 0],
      [3, 1],
      [3, 2],
      [3, 3],
    ]);
    // no buffer left for a new piece: b helps finish a's piece
    const help = p.pickBlocks(peer('b', 'all'), 4, 0, 0);
    expect(help.map((x) => [x.index, x.begin / B])).toEqual([
      [1, 1],
      [1, 2],
      [1, 3],
    ]);
    expect(p.progress().partialPieces).toBe(2);
  });

  it('lets every peer finish the pieces of a peer that left first', () => {
    const p = picker(4, 4);
    p.addSeed();
    p.pickBlocks(peer('a', [1]), 2, 0); // a owns piece 1
    p.blockReceived('a', 1, 0);
    p.peerGone('a');
    const next = p.pickBlocks(peer('b', 'all'), 3, 0);
    expect(next.map((x) => [x.index, x.begin / B])).toEqual([
      [1, 1],
      [1, 2],
      [1, 3],
    ]);
  });

  it('starts no more new pieces than it is allowed (each needs a piece buffer)', () => {
    const p = picker(8, 4);
    p.addSeed();
    const got = p.pickBlocks(peer('a', 'all'), 100, 0, 2);
    expect(new Set(got.map((b) => b.index)).size).toBe(2);
    expect(got).toHaveLength(8);
    expect(p.progress().partialPieces).toBe(2);
    expect(p.pickBlocks(peer('b', 'all'), 100, 0, 0)).toEqual([]);
  });

  it('never picks unselected or verified pieces', () => {
    const p = picker(6, 1);
    p.addSeed();
    p.setPriority(1, 0);
    p.setPriority(4, 0);
    p.pieceVerified(2);
    const got = p.pickBlocks(peer('a', 'all'), 100, 0);
    expect(got.map((b) => b.index).sort()).toEqual([0, 3, 5]);
    expect(p.progress()).toMatchObject({ wantedPieces: 4, haveWantedPieces: 1 });
    for (const b of got) {
      p.blockReceived('a', b.index, b.begin);
      p.pieceVerified(b.index);
    }
    expect(p.isComplete()).toBe(true);
    expect(p.progress().haveWantedBytes).toBe(4 * B);
  });

  it('asks a choked peer only for its allowed-fast pieces', () => {
    const p = picker(10, 1);
    p.addSeed();
    const choked = peer('a', 'all', { choked: true, allowedFast: new Set([7, 2, 99]) });
    expect(
      p
        .pickBlocks(choked, 10, 0)
        .map((b) => b.index)
        .sort(),
    ).toEqual([2, 7]);
    expect(p.pickBlocks(peer('c', 'all', { choked: true }), 10, 0)).toEqual([]);
  });
});

describe('PiecePicker end game', () => {
  it('enters only once every missing block is requested, duplicates to other peers, reports cancels', () => {
    const p = picker(2, 2);
    p.addSeed();
    const a = peer('a', 'all');
    const b = peer('b', 'all');
    expect(p.pickBlocks(a, 3, 0)).toHaveLength(3);
    expect(p.isEndGame()).toBe(false);
    // one block still free: b gets it normally, no duplicates yet
    expect(p.pickBlocks(b, 1, 0)).toHaveLength(1);
    expect(p.isEndGame()).toBe(true);
    const dup = p.pickBlocks(b, 10, 0);
    expect(dup).toHaveLength(3); // a's three blocks, never b's own one again
    expect(p.pickBlocks(b, 10, 0)).toEqual([]);
    const aAgain = p.pickBlocks(a, 10, 0);
    expect(aAgain).toHaveLength(1); // only b's original block is new to a
    const first = dup[0]!;
    const r = p.blockReceived('a', first.index, first.begin);
    expect(r).toEqual({
      kind: 'accepted',
      pieceComplete: false,
      cancels: [{ peerId: 'b', ...first }],
    });
    expect(p.blockReceived('b', first.index, first.begin)).toEqual({ kind: 'duplicate' });
  });

  it('stays out of end game while some wanted block is unrequested', () => {
    const p = picker(2, 2);
    p.addSeed();
    p.pickBlocks(peer('a', [0]), 10, 0);
    expect(p.isEndGame()).toBe(false);
    expect(p.pickBlocks(peer('b', [0]), 10, 0)).toEqual([]);
  });

  it('after a timeout gives the block to another peer first, and takes it late', () => {
    const p = picker(1, 2);
    p.addSeed();
    const [blk] = p.pickBlocks(peer('a', 'all'), 1, 0);
    p.requestTimedOut('a', blk!);
    const again = p.pickBlocks(peer('a', 'all'), 1, 10);
    expect(again.map((x) => x.begin)).toEqual([B]);
    expect(p.pickBlocks(peer('b', 'all'), 1, 10)).toEqual([blk]);
    const late = p.blockReceived('a', blk!.index, blk!.begin);
    expect(late).toMatchObject({ kind: 'accepted', cancels: [{ peerId: 'b', begin: 0 }] });
    expect(p.requestsOf('a').map((x) => x.begin)).toEqual([B]);
  });
  it('asks the same peer again for its timed-out block once nothing else is left (a lone slow peer)', () => {
    const p = picker(1, 3);
    p.addSeed();
    const a = peer('a', 'all');
    const [first] = p.pickBlocks(a, 1, 0);
    p.requestTimedOut('a', first!);
    // Other blocks come first ...
    expect(p.pickBlocks(a, 2, 10).map((x) => x.begin)).toEqual([B, 2 * B]);
    // ... then the timed-out one, once, as a fresh request.
    expect(p.pickBlocks(a, 5, 20)).toEqual([first]);
    expect(p.pickBlocks(a, 5, 30)).toEqual([]);
    expect(p.requestsOf('a').find((x) => x.begin === 0)).toMatchObject({ timedOut: false });
    for (const begin of [0, B, 2 * B]) p.blockReceived('a', 0, begin);
    expect(p.requestsOf('a')).toEqual([]);
    // The request was counted once: nothing is left over after the piece completed.
    expect(p.partialPieces).toBe(0);
  });
});

describe('PiecePicker bookkeeping', () => {
  it('returns a departed peer’s blocks to the pool', () => {
    const p = picker(3, 2);
    p.addSeed();
    const a = p.pickBlocks(peer('a', 'all'), 3, 0);
    p.blockReceived('a', a[0]!.index, a[0]!.begin);
    const released = p.peerGone('a');
    expect(released).toEqual(a.slice(1));
    expect(p.requestsOf('a')).toEqual([]);
    // the untouched piece is open again; the partial keeps its received block
    const b = p.pickBlocks(peer('b', 'all'), 10, 0);
    expect(b).toHaveLength(5);
    expect(b).toContainEqual(a[1]);
    expect(b).toContainEqual(a[2]);
    expect(b).not.toContainEqual(a[0]);
  });

  it('a failed piece returns all its blocks and names its contributors', () => {
    const p = picker(1, 3);
    p.addSeed();
    const a = p.pickBlocks(peer('a', 'all'), 2, 0);
    const b = p.pickBlocks(peer('b', 'all'), 1, 0);
    expect(b).toEqual([{ index: 0, begin: 2 * B, length: B }]);
    expect(p.blockReceived('a', 0, 0)).toMatchObject({ pieceComplete: false });
    expect(p.blockReceived('b', 0, 2 * B)).toMatchObject({ pieceComplete: false });
    expect(p.blockReceived('a', 0, a[1]!.begin)).toMatchObject({ pieceComplete: true });
    expect(p.pickBlocks(peer('c', 'all'), 3, 0)).toEqual([]);
    expect(p.pieceFailed(0).sort()).toEqual(['a', 'b']);
    expect(p.pickBlocks(peer('c', 'all'), 5, 0)).toHaveLength(3);
    expect(p.blockReceived('c', 0, 0).kind).toBe('accepted');
  });

  it('classifies blocks it does not need', () => {
    const p = picker(2, 1);
    p.addSeed();
    p.pieceVerified(0);
    expect(p.blockReceived('a', 0, 0).kind).toBe('not-needed');
    expect(p.blockReceived('a', 5, 0).kind).toBe('invalid');
    expect(p.blockReceived('a', 1, 3).kind).toBe('invalid');
    expect(p.blockReceived('a', 1, B).kind).toBe('invalid');
    p.setPriority(1, 0);
    expect(p.blockReceived('a', 1, 0).kind).toBe('not-needed');
    expect(p.isComplete()).toBe(true);
  });

  it('reports availability changes and a bitfield of verified pieces', () => {
    const p = picker(10, 1);
    const bf = bits(10, [0, 9]);
    p.addPeerAvailability(bf);
    p.addPeerAvailability({ has: (i) => i === 9 });
    expect(p.availability(9)).toBe(2);
    p.removePeerAvailability(bf);
    expect([p.availability(0), p.availability(9)]).toEqual([0, 1]);
    p.pieceVerified(9);
    expect([...p.bitfield()]).toEqual([0, 0x40]);
  });
});

describe('PiecePicker scale', () => {
  it('picks on 100k pieces with 50 peers without scanning per peer per piece', () => {
    const pieceCount = 100_000;
    const random = seeded(42);
    const p = new PiecePicker({
      pieceCount,
      pieceLength: 4 * B,
      totalLength: pieceCount * 4 * B,
      random,
      randomFirstPieces: 4,
    });
    const peers: PickerPeer[] = [];
    for (let k = 0; k < 50; k++) {
      const bf = new Uint8Array(pieceCount / 8);
      for (let j = 0; j < bf.length; j++) bf[j] = Math.floor(random() * 256);
      p.addPeerAvailability(bf);
      peers.push({
        id: `p${k}`,
        has: (i) => (bf[i >> 3]! & (0x80 >> (i & 7))) !== 0,
        choked: false,
      });
    }
    for (let round = 0; round < 20; round++) {
      for (const pr of peers) {
        for (const b of p.pickBlocks(pr, 32, round)) {
          const r = p.blockReceived(pr.id, b.index, b.begin);
          if (r.kind === 'accepted' && r.pieceComplete) p.pieceVerified(b.index);
        }
      }
    }
    expect(p.progress().havePieces).toBeGreaterThan(1000);
  });
});

describe('PiecePicker with 500 peers and a piece in progress for each', () => {
  it('keeps piece affinity, finishes orphans first, and still picks the rarest piece', () => {
    const peerCount = 500;
    const pieceCount = 2000;
    const rare = 1234;
    const p = picker(pieceCount, 4, { seed: 7 });
    // Full bitfields (not HAVE ALL) push every piece one bucket up per peer; the
    // last peer lacks `rare`, which is so the one piece with less availability.
    const all = range(pieceCount);
    for (let k = 0; k < peerCount - 1; k++) p.addPeerAvailability(bits(pieceCount, all));
    p.addPeerAvailability(
      bits(
        pieceCount,
        all.filter((i) => i !== rare),
      ),
    );
    const peers = range(peerCount).map((k) =>
      k === peerCount - 1
        ? peer(
            `p${k}`,
            all.filter((i) => i !== rare),
          )
        : peer(`p${k}`, 'all'),
    );
    const key = (b: { index: number; begin: number }) => `${b.index}:${b.begin}`;

    // Everyone starts a piece of its own; the first pick takes the rarest.
    const ownPiece = new Map<string, number>();
    for (const pr of peers) {
      const got = p.pickBlocks(pr, 2, 0);
      expect(got.map((b) => b.begin)).toEqual([0, B]);
      ownPiece.set(pr.id, got[0]!.index);
    }
    expect(ownPiece.get('p0')).toBe(rare);
    expect(new Set(ownPiece.values()).size).toBe(peerCount);
    expect(p.partialPieces).toBe(peerCount);

    // With 499 other pieces holding free blocks, each peer finishes its own.
    for (const pr of peers) {
      const got = p.pickBlocks(pr, 2, 1);
      expect(got).toEqual([
        { index: ownPiece.get(pr.id), begin: 2 * B, length: B },
        { index: ownPiece.get(pr.id), begin: 3 * B, length: B },
      ]);
    }

    // Half of them deliver one block and leave: their pieces are orphans with 3 free blocks.
    const leaving = peers.slice(0, peerCount / 2);
    const staying = peers.slice(peerCount / 2);
    for (const pr of leaving) {
      expect(p.blockReceived(pr.id, ownPiece.get(pr.id)!, 0).kind).toBe('accepted');
      expect(p.peerGone(pr.id)).toHaveLength(3);
    }
    const orphans = new Set(leaving.map((pr) => ownPiece.get(pr.id)!));

    // No buffer for new pieces: the others take the orphans' blocks, each block once,
    // and the peer that lacks `rare` is never given it.
    const handedOut = new Set<string>();
    for (const pr of staying) {
      const got = p.pickBlocks(pr, 3, 2, 0);
      expect(got).toHaveLength(3);
      for (const b of got) {
        expect(orphans.has(b.index)).toBe(true);
        expect(b.begin).not.toBe(0);
        expect(handedOut.has(key(b))).toBe(false);
        handedOut.add(key(b));
        if (pr.id === `p${peerCount - 1}`) expect(b.index).not.toBe(rare);
      }
      expect(p.requestsOf(pr.id)).toHaveLength(4 + 3);
    }
    expect(handedOut.size).toBe(orphans.size * 3);

    // Nothing free is left and no piece may start: no pick, and not end game (open pieces remain).
    expect(p.pickBlocks(staying[0]!, 5, 3, 0)).toEqual([]);
    expect(p.isEndGame()).toBe(false);
    // Once a piece may start, it is a new one.
    const fresh = p.pickBlocks(staying[0]!, 4, 3, 1);
    expect(fresh).toHaveLength(4);
    expect(p.partialPieces).toBe(peerCount + 1);
    expect(ownPiece.get(staying[0]!.id)).not.toBe(fresh[0]!.index);
    expect(orphans.has(fresh[0]!.index)).toBe(false);
  });
});
