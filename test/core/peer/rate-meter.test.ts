import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { numRuns } from '../../helpers/fuzz.ts';
import { RateMeter } from '../../../src/core/peer/rate-meter.ts';

describe('RateMeter', () => {
  it('reports the true rate of a young connection, not a fraction of the window', () => {
    const start = 1_000_000;
    const meter = new RateMeter(5, start);
    // 1 MB every 100 ms for the first second: 10 MB/s.
    for (let t = 0; t < 1000; t += 100) meter.add(1_000_000, start + t);
    expect(meter.rate(start + 1000)).toBeGreaterThan(9_000_000);
    expect(meter.rate(start + 1000)).toBeLessThan(11_000_000);
  });

  it('averages over the window once the connection is older than it', () => {
    const start = 2_000_000;
    const meter = new RateMeter(5, start);
    for (let t = 0; t < 10_000; t += 100) meter.add(100_000, start + t);
    const rate = meter.rate(start + 10_000);
    expect(rate).toBeGreaterThan(800_000);
    expect(rate).toBeLessThan(1_200_000);
    // Silence for longer than the window: nothing left.
    expect(meter.rate(start + 20_000)).toBe(0);
  });
});

/** The meter as it was before it kept a running sum: every rate() summed the buckets. */
class SummingMeter {
  readonly buckets: Float64Array;
  readonly startedAt: number;
  current = 0;
  constructor(window: number, startedAt: number) {
    this.buckets = new Float64Array(window);
    this.startedAt = startedAt;
  }
  add(bytes: number, now: number): void {
    this.advance(now);
    this.buckets[this.current % this.buckets.length] += bytes;
  }
  rate(now: number): number {
    this.advance(now);
    let sum = 0;
    for (const bytes of this.buckets) sum += bytes;
    const span = this.buckets.length - 1 + (now % 1000) / 1000;
    return sum / Math.max(Math.min(span, (now - this.startedAt) / 1000), 0.05);
  }
  advance(now: number): void {
    const second = Math.floor(now / 1000);
    if (this.current === 0) this.current = second;
    const steps = Math.min(second - this.current, this.buckets.length);
    for (let i = 1; i <= steps; i++) this.buckets[(this.current + i) % this.buckets.length] = 0;
    if (second > this.current) this.current = second;
  }
}

describe('RateMeter running sum', () => {
  it('reports what summing the window on every call reports', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.array(
          fc.record({
            gap: fc.integer({ min: 0, max: 3000 }),
            bytes: fc.integer({ min: 0, max: 2 ** 24 }),
            ask: fc.boolean(),
          }),
          { maxLength: 200 },
        ),
        (window, events) => {
          let now = 5_000_123;
          const meter = new RateMeter(window, now);
          const reference = new SummingMeter(window, now);
          for (const { gap, bytes, ask } of events) {
            now += gap;
            if (ask) expect(meter.rate(now)).toBe(reference.rate(now));
            else {
              meter.add(bytes, now);
              reference.add(bytes, now);
            }
          }
          expect(meter.rate(now)).toBe(reference.rate(now));
        },
      ),
      { numRuns },
    );
  });
});
