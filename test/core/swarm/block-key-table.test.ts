import { describe, expect, it } from 'vitest';
import { BlockKeyTable } from '../../../src/core/swarm/block-key-table.ts';
import { seeded } from './prng.ts';

describe('BlockKeyTable', () => {
  it('agrees with a Map over a long run of sets and deletes, as a download makes them', () => {
    const random = seeded(7);
    const table = new BlockKeyTable(2);
    const reference = new Map<number, [number, number]>();
    // Keys in a sliding window, like requests sent ahead and answered behind; some far apart.
    for (let step = 0; step < 50_000; step++) {
      const base = Math.floor(step / 4);
      const key =
        random() < 0.05 ? Math.floor(random() * 2 ** 40) : base + Math.floor(random() * 600);
      if (random() < 0.5) {
        const values: [number, number] = [Math.floor(random() * 1e6), step];
        table.set(key, ...values);
        reference.set(key, values);
      } else {
        expect(table.delete(key)).toBe(reference.delete(key));
      }
      if (step % 997 === 0) {
        expect(table.size).toBe(reference.size);
        const wrong = [...reference].filter(([k, [a, b]]) => {
          const slot = table.slotOf(k);
          return slot === -1 || table.column(slot, 0) !== a || table.column(slot, 1) !== b;
        });
        expect(wrong).toEqual([]);
        expect([...table].sort((x, y) => x - y)).toEqual(
          [...reference.keys()].sort((x, y) => x - y),
        );
      }
    }
  });

  it('finds nothing for keys it cannot hold, and refuses to store them', () => {
    const table = new BlockKeyTable();
    table.set(0);
    expect(table.has(-1)).toBe(false);
    expect(table.delete(-1)).toBe(false);
    expect(table.has(Number.NaN)).toBe(false);
    expect(() => table.set(-1)).toThrow(RangeError);
    expect(() => table.set(1.5)).toThrow(RangeError);
    expect([...table]).toEqual([0]);
  });

  it('is empty after clear and takes keys again', () => {
    const table = new BlockKeyTable(1);
    for (let k = 0; k < 1000; k++) table.set(k, k * 2);
    table.clear();
    expect(table.size).toBe(0);
    expect(table.has(5)).toBe(false);
    table.set(5, 1);
    expect(table.column(table.slotOf(5), 0)).toBe(1);
    expect(table.size).toBe(1);
  });
});
