import { describe, expect, it } from 'vitest';
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
