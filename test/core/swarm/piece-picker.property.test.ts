import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BLOCK_SIZE, PiecePicker, type PickerPeer } from '../../../src/core/swarm/piece-picker.ts';
import { seeded } from './prng.ts';

const numRuns = Number(process.env.FUZZ_RUNS ?? 200);
const B = BLOCK_SIZE;

interface SimPeer extends PickerPeer {
  id: string;
  pieces: Set<number>;
  choked: boolean;
  allowedFast: Set<number>;
}

/** A random swarm: piece geometry plus each peer's pieces (some peers are seeds). */
const swarmArb = fc
  .record({
    pieceCount: fc.integer({ min: 1, max: 40 }),
    blocksPerPiece: fc.integer({ min: 1, max: 4 }),
    lastShort: fc.integer({ min: 0, max: B * 4 - 1 }),
    peerCount: fc.integer({ min: 1, max: 6 }),
    seed: fc.integer(),
    randomFirst: fc.integer({ min: 0, max: 5 }),
  })
  .map((s) => {
    const pieceLength = s.blocksPerPiece * B;
    const lastSize = Math.max(1, pieceLength - (s.lastShort % pieceLength));
    return { ...s, pieceLength, totalLength: (s.pieceCount - 1) * pieceLength + lastSize };
  });

function makePeers(pieceCount: number, count: number, random: () => number, coverAll: boolean) {
  const peers: SimPeer[] = [];
  for (let k = 0; k < count; k++) {
    const seed = random() < 0.3;
    const pieces = new Set<number>();
    for (let i = 0; i < pieceCount; i++) if (seed || random() < 0.5) pieces.add(i);
    const sim: SimPeer = {
      id: `peer${k}`,
      pieces,
      choked: false,
      allowedFast: new Set(),
      has: (i) => sim.pieces.has(i),
    };
    peers.push(sim);
  }
  if (coverAll) {
    for (let i = 0; i < pieceCount; i++) {
      if (!peers.some((p) => p.pieces.has(i))) peers[Math.floor(random() * count)]!.pieces.add(i);
    }
  }
  return peers;
}

const key = (index: number, begin: number) => `${index}:${begin}`;

describe('PiecePicker properties', () => {
  it('never hands out a block the peer lacks, twice to one peer, or of an unwanted/verified piece', () => {
    fc.assert(
      fc.property(
        swarmArb,
        fc.array(fc.tuple(fc.nat(9), fc.nat(), fc.nat()), { minLength: 1, maxLength: 120 }),
        (s, events) => {
          const random = seeded(s.seed);
          const picker = new PiecePicker({
            pieceCount: s.pieceCount,
            pieceLength: s.pieceLength,
            totalLength: s.totalLength,
            random,
            randomFirstPieces: s.randomFirst,
          });
          const peers = makePeers(s.pieceCount, s.peerCount, random, false);
          for (const p of peers) picker.addPeerAvailability({ has: (i) => p.pieces.has(i) });
          // The test's own model of each peer's outstanding requests.
          const outstanding = new Map(peers.map((p) => [p.id, new Map<string, number>()]));
          // Requests that timed out: the same peer may be asked for them once more.
          const timedOut = new Map(peers.map((p) => [p.id, new Set<string>()]));
          const verified = new Set<number>();
          const hashing = new Set<number>();
          const unwanted = new Set<number>();

          for (const [kind, a, b] of events) {
            const peer = peers[a % peers.length]!;
            const mine = outstanding.get(peer.id)!;
            const mineTimedOut = timedOut.get(peer.id)!;
            switch (kind) {
              case 0:
              case 1:
              case 2: {
                const got = picker.pickBlocks(peer, 1 + (b % 12), 0);
                for (const blk of got) {
                  expect(peer.has(blk.index)).toBe(true);
                  if (peer.choked) expect(peer.allowedFast.has(blk.index)).toBe(true);
                  const k = key(blk.index, blk.begin);
                  expect(mine.has(k) && !mineTimedOut.has(k)).toBe(false);
                  mineTimedOut.delete(k);
                  expect(verified.has(blk.index) || hashing.has(blk.index)).toBe(false);
                  expect(unwanted.has(blk.index)).toBe(false);
                  expect(blk.length).toBe(Math.min(B, picker.pieceSize(blk.index) - blk.begin));
                  mine.set(key(blk.index, blk.begin), blk.index);
                }
                break;
              }
              case 3:
              case 4: {
                const keys = [...mine.keys()];
                if (keys.length === 0) break;
                const k = keys[b % keys.length]!;
                const [index, begin] = k.split(':').map(Number) as [number, number];
                const r = picker.blockReceived(peer.id, index, begin);
                mine.delete(k);
                mineTimedOut.delete(k);
                if (r.kind === 'accepted') {
                  for (const c of r.cancels) {
                    expect(outstanding.get(c.peerId)!.has(key(c.index, c.begin))).toBe(true);
                    outstanding.get(c.peerId)!.delete(key(c.index, c.begin));
                    timedOut.get(c.peerId)!.delete(key(c.index, c.begin));
                  }
                  if (r.pieceComplete) hashing.add(index);
                }
                break;
              }
              case 5: {
                const keys = [...mine.keys()];
                if (keys.length === 0) break;
                const [index, begin] = keys[b % keys.length]!.split(':').map(Number) as [
                  number,
                  number,
                ];
                // a timed-out request stays outstanding for that peer
                picker.requestTimedOut(peer.id, { index, begin });
                mineTimedOut.add(key(index, begin));
                break;
              }
              case 6: {
                const released = picker.peerGone(peer.id);
                expect(released.length).toBe(mine.size);
                mine.clear();
                mineTimedOut.clear();
                peer.choked = b % 2 === 0;
                peer.allowedFast = new Set([b % s.pieceCount, (b >> 3) % s.pieceCount]);
                break;
              }
              case 7: {
                for (const index of hashing) {
                  if ((b + index) % 3 === 0) {
                    picker.pieceFailed(index);
                  } else {
                    picker.pieceVerified(index);
                    verified.add(index);
                  }
                }
                hashing.clear();
                break;
              }
              case 8: {
                const index = b % s.pieceCount;
                if (picker.isWanted(index)) {
                  picker.setPriority(index, 0);
                  unwanted.add(index);
                } else {
                  picker.setPriority(index, 1);
                  unwanted.delete(index);
                }
                break;
              }
              case 9: {
                const index = b % s.pieceCount;
                if (!peer.pieces.has(index)) {
                  peer.pieces.add(index);
                  picker.addHave(index);
                }
                break;
              }
            }
          }
          const progress = picker.progress();
          expect(progress.havePieces).toBe(verified.size);
          expect(progress.wantedPieces).toBe(s.pieceCount - unwanted.size);
        },
      ),
      { numRuns },
    );
  });

  it('a simulated download from random peers always completes', () => {
    fc.assert(
      fc.property(
        swarmArb,
        fc.double({ min: 0, max: 0.3, noNaN: true }),
        fc.double({ min: 0, max: 0.2, noNaN: true }),
        (s, failRate, churn) => {
          const random = seeded(s.seed);
          const picker = new PiecePicker({
            pieceCount: s.pieceCount,
            pieceLength: s.pieceLength,
            totalLength: s.totalLength,
            random,
            randomFirstPieces: s.randomFirst,
          });
          const peers = makePeers(s.pieceCount, s.peerCount, random, true);
          const seeds = new Set<string>();
          const join = (p: SimPeer) => {
            if (p.pieces.size === s.pieceCount && random() < 0.5) {
              picker.addSeed(); // the HAVE ALL path
              seeds.add(p.id);
            } else {
              picker.addPeerAvailability({ has: (i) => p.pieces.has(i) });
            }
          };
          peers.forEach(join);
          const skip = new Set<number>();
          for (let i = 0; i < s.pieceCount; i++) {
            if (random() < 0.2) {
              picker.setPriority(i, 0);
              skip.add(i);
            }
          }
          const inflight = new Map(
            peers.map((p) => [p.id, [] as { index: number; begin: number }[]]),
          );
          let generation = 0;
          for (let round = 0; round < 5000 && !picker.isComplete(); round++) {
            for (const p of peers) {
              const queue = inflight.get(p.id)!;
              queue.push(...picker.pickBlocks(p, 1 + Math.floor(random() * 6), round));
              // deliver a random prefix of the pipeline
              const n = Math.floor(random() * (queue.length + 1));
              for (const blk of queue.splice(0, n)) {
                const r = picker.blockReceived(p.id, blk.index, blk.begin);
                if (r.kind !== 'accepted') continue;
                for (const c of r.cancels) {
                  const q = inflight.get(c.peerId)!;
                  const at = q.findIndex((x) => x.index === c.index && x.begin === c.begin);
                  if (at >= 0) q.splice(at, 1);
                }
                if (!r.pieceComplete) continue;
                if (random() < failRate) {
                  expect(picker.pieceFailed(blk.index)).toContain(p.id);
                } else {
                  picker.pieceVerified(blk.index);
                }
              }
              if (random() < churn) {
                // disconnect and come back as a new connection with the same pieces
                picker.peerGone(p.id);
                inflight.delete(p.id);
                if (seeds.delete(p.id)) picker.removeSeed();
                else picker.removePeerAvailability({ has: (i) => p.pieces.has(i) });
                p.id = `${p.id.split('#')[0]}#${++generation}`;
                inflight.set(p.id, []);
                join(p);
              }
            }
          }
          expect(picker.isComplete()).toBe(true);
          for (let i = 0; i < s.pieceCount; i++) expect(picker.hasPiece(i)).toBe(!skip.has(i));
        },
      ),
      { numRuns },
    );
  });
});
