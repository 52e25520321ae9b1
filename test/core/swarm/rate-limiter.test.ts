import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../../src/core/swarm/rate-limiter.ts';

const numRuns = Number(process.env.FUZZ_RUNS ?? 200);

describe('RateLimiter', () => {
  it('is unlimited at rate 0 or undefined', () => {
    for (const rate of [0, undefined, -5, Number.NaN]) {
      const limiter = new RateLimiter({ rate });
      expect(limiter.unlimited).toBe(true);
      expect(limiter.take(1e12, 0)).toBe(0);
    }
  });

  it('lets a full burst through, then paces at the rate', () => {
    const limiter = new RateLimiter({ rate: 1000 });
    expect(limiter.take(1000, 0)).toBe(0);
    expect(limiter.take(500, 0)).toBe(500);
    // the reservation above already spent the next 500 ms worth
    expect(limiter.take(500, 0)).toBe(1000);
    expect(limiter.available(1000)).toBe(0);
    expect(limiter.take(250, 1250)).toBe(0);
  });

  it('caps saved-up tokens at the burst', () => {
    const limiter = new RateLimiter({ rate: 100, burst: 300 });
    limiter.take(300, 0);
    expect(limiter.available(60_000)).toBe(300);
    expect(limiter.take(400, 60_000)).toBe(1000);
  });

  it('does not mint tokens when time goes backwards', () => {
    const limiter = new RateLimiter({ rate: 100 });
    limiter.take(100, 5000);
    expect(limiter.available(1000)).toBe(0);
    expect(limiter.available(5500)).toBe(50);
  });

  it('never lets more than burst + rate * elapsed through', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1e7 }),
        fc.array(fc.tuple(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 0, max: 5000 })), {
          maxLength: 50,
        }),
        (rate, steps) => {
          const limiter = new RateLimiter({ rate });
          let now = 0;
          let sent = 0;
          for (const [bytes, gap] of steps) {
            now += gap;
            const delay = limiter.take(bytes, now);
            expect(delay).toBeGreaterThanOrEqual(0);
            // bytes are sent when the delay has passed
            sent += bytes;
            expect(sent).toBeLessThanOrEqual(rate + (rate * (now + delay)) / 1000 + 1e-6 * sent);
          }
        },
      ),
      { numRuns },
    );
  });
});
