import { describe, expect, it } from 'vitest';
import {
  desiredQueueDepth,
  isSnubbed,
  RoundTripEstimator,
} from '../../../src/core/swarm/request-queue.ts';

describe('desiredQueueDepth', () => {
  it('keeps queueTime seconds of data in flight, within bounds', () => {
    expect(desiredQueueDepth({ rate: 0 })).toBe(4);
    expect(desiredQueueDepth({ rate: 0, min: 2 })).toBe(2);
    // 1 MiB/s for 3 s = 192 blocks of 16 KiB
    expect(desiredQueueDepth({ rate: 1024 * 1024 })).toBe(192);
    expect(desiredQueueDepth({ rate: 1024 * 1024, queueTimeSeconds: 1 })).toBe(64);
    expect(desiredQueueDepth({ rate: 1e9 })).toBe(500);
    expect(desiredQueueDepth({ rate: 1e9, peerReqq: 250 })).toBe(250);
    expect(desiredQueueDepth({ rate: 1e9, snubbed: true })).toBe(1);
    expect(desiredQueueDepth({ rate: Number.NaN })).toBe(4);
  });
});

describe('RoundTripEstimator', () => {
  it('starts at the maximum, then adapts to measured round trips', () => {
    const rtt = new RoundTripEstimator();
    expect(rtt.timeoutMs()).toBe(60_000);
    rtt.add(5000);
    expect(rtt.timeoutMs()).toBe(6000);
    rtt.add(5000);
    rtt.add(5000);
    expect(rtt.timeoutMs()).toBe(5000);
    rtt.add(100);
    expect(rtt.timeoutMs()).toBeGreaterThan(rtt.meanMs);
    const fast = new RoundTripEstimator();
    for (let i = 0; i < 20; i++) fast.add(50);
    expect(fast.timeoutMs()).toBe(2000);
    const slow = new RoundTripEstimator();
    for (let i = 0; i < 20; i++) slow.add(i % 2 === 0 ? 10_000 : 50_000);
    expect(slow.timeoutMs()).toBe(30_000);
  });
});

describe('isSnubbed', () => {
  const base = { unchokedAt: 0, lastBlockAt: undefined, outstanding: 3 };
  it('flags a peer that unchoked us but sent nothing for 60 s', () => {
    expect(isSnubbed({ ...base, now: 59_999 })).toBe(false);
    expect(isSnubbed({ ...base, now: 60_000 })).toBe(true);
    expect(isSnubbed({ ...base, lastBlockAt: 30_000, now: 60_000 })).toBe(false);
    expect(isSnubbed({ ...base, lastBlockAt: 30_000, now: 90_000 })).toBe(true);
  });
  it('does not flag a peer that chokes us or that we ask nothing of', () => {
    expect(isSnubbed({ ...base, unchokedAt: undefined, now: 1e9 })).toBe(false);
    expect(isSnubbed({ ...base, outstanding: 0, now: 1e9 })).toBe(false);
  });
});
