/**
 * CallingThreadBudget: the calling thread may hash while the time it spent
 * stays within `share` of the wall time that passed (plus a burst).
 */
import { describe, expect, it } from 'vitest';
import { CallingThreadBudget } from '../../../src/core/hashing/calling-thread-budget.ts';

/** A clock the test moves; `work(ms)` is a task that takes that long on it. */
function fakeClock() {
  let now = 0;
  return {
    now: () => now,
    pass: (ms: number) => (now += ms),
    work: (ms: number) => () => {
      now += ms;
      return ms;
    },
  };
}

describe('CallingThreadBudget', () => {
  it('allows a burst, then a share of the time that passes', () => {
    const clock = fakeClock();
    const budget = new CallingThreadBudget({ share: 0.25, burstMs: 100, now: clock.now });
    expect(budget.allows()).toBe(true);
    expect(budget.spend(clock.work(150))).toBe(150); // over the burst: 100 + 37.5 - 150 < 0
    expect(budget.allows()).toBe(false);
    clock.pass(40); // refills 10 ms: still short (-12.5 + 10)
    expect(budget.allows()).toBe(false);
    clock.pass(20); // +5 ms
    expect(budget.allows()).toBe(true);
  });

  it('holds a steady load at its share and refuses one above it', () => {
    const run = (workMs: number, idleMs: number) => {
      const clock = fakeClock();
      const budget = new CallingThreadBudget({ share: 0.25, burstMs: 50, now: clock.now });
      let refused = 0;
      for (let i = 0; i < 1000; i++) {
        if (budget.allows()) budget.spend(clock.work(workMs));
        else refused++;
        clock.pass(idleMs);
      }
      return refused;
    };
    expect(run(2, 8)).toBe(0); // 20% of the time: always on the calling thread
    expect(run(4, 6)).toBeGreaterThan(300); // 40%: a good part goes elsewhere
  });

  it('never banks more than its burst after an idle spell', () => {
    const clock = fakeClock();
    const budget = new CallingThreadBudget({ share: 0.5, burstMs: 10, now: clock.now });
    clock.pass(60_000);
    expect(budget.allows()).toBe(true);
    budget.spend(clock.work(30)); // 10 banked, 15 earned while it ran: 5 short
    expect(budget.allows()).toBe(false);
  });
});
