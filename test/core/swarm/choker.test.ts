import { describe, expect, it } from 'vitest';
import { Choker, type ChokerPeer } from '../../../src/core/swarm/choker.ts';
import { seeded } from './prng.ts';

function peer(id: string, downloadRate: number, extra: Partial<ChokerPeer> = {}): ChokerPeer {
  return {
    id,
    interested: true,
    downloadRate,
    uploadRate: 0,
    snubbed: false,
    connectedAt: -1_000_000,
    ...extra,
  };
}

describe('Choker while downloading', () => {
  it('unchokes the fastest interested, non-snubbed peers plus one optimistic', () => {
    const choker = new Choker({ random: seeded(3) });
    const peers = [
      peer('slow', 10),
      peer('a', 500),
      peer('b', 400),
      peer('snub', 10_000, { snubbed: true }),
      peer('c', 300),
      peer('bored', 9_000, { interested: false }),
      peer('d', 200),
      peer('e', 100),
    ];
    const out = choker.decide(peers, 0);
    for (const id of ['a', 'b', 'c', 'd']) expect(out.has(id)).toBe(true);
    expect(out.has('bored')).toBe(false);
    expect(out.size).toBe(5);
    const opt = choker.optimistic!;
    expect(['slow', 'snub', 'e']).toContain(opt);
    expect(out.has(opt)).toBe(true);
  });

  it('keeps the optimistic unchoke for 30 s, then rotates it', () => {
    const choker = new Choker({ random: seeded(9), slots: 1 });
    const peers = [peer('fast', 1000), ...['p', 'q', 'r', 's', 't'].map((id) => peer(id, 0))];
    choker.decide(peers, 0);
    const first = choker.optimistic;
    choker.decide(peers, 10_000);
    choker.decide(peers, 20_000);
    expect(choker.optimistic).toBe(first);
    const seen = new Set<string | undefined>([first]);
    for (let t = 30_000; t <= 600_000; t += 30_000) {
      choker.decide(peers, t);
      expect(choker.optimistic).not.toBe('fast');
      seen.add(choker.optimistic);
    }
    expect(seen.size).toBeGreaterThan(2);
  });

  it('favours newly connected peers for the optimistic slot', () => {
    const counts = new Map<string, number>();
    for (let seed = 0; seed < 400; seed++) {
      const choker = new Choker({ random: seeded(seed), slots: 0 });
      choker.decide([peer('old', 0), peer('new', 0, { connectedAt: 99_000 })], 100_000);
      const id = choker.optimistic!;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    expect(counts.get('new')!).toBeGreaterThan(2 * counts.get('old')!);
  });

  it('replaces an optimistic peer that loses interest', () => {
    const choker = new Choker({ random: seeded(1), slots: 0 });
    choker.decide([peer('x', 0)], 0);
    expect(choker.optimistic).toBe('x');
    const out = choker.decide([peer('x', 0, { interested: false }), peer('y', 0)], 1000);
    expect([...out]).toEqual(['y']);
  });
});

describe('Choker while seeding', () => {
  it('round-robin gives every interested peer a turn', () => {
    const choker = new Choker({ random: seeded(5), slots: 2, seedRotateMs: 30_000 });
    const peers = ['a', 'b', 'c', 'd', 'e', 'f'].map((id) => peer(id, 0));
    const served = new Set<string>();
    for (let t = 0; t <= 120_000; t += 10_000) {
      const out = choker.decide(peers, t, true);
      expect(out.size).toBe(3);
      out.forEach((id) => served.add(id));
    }
    expect(served.size).toBe(6);
  });

  it('fastest-upload keeps the peers we upload to fastest', () => {
    const choker = new Choker({ random: seeded(5), slots: 2, seedAlgorithm: 'fastest-upload' });
    const peers = [
      peer('a', 0, { uploadRate: 5 }),
      peer('b', 0, { uploadRate: 50 }),
      peer('c', 0, { uploadRate: 20 }),
    ];
    const out = choker.decide(peers, 0, true);
    expect(out.has('b') && out.has('c')).toBe(true);
  });
});
