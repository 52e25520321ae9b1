/** LEDBAT and the retransmission timer, with an injected clock (no real time passes). */
import { describe, expect, it } from 'vitest';
import {
  CCONTROL_TARGET_US,
  Ledbat,
  MAX_CWND_INCREASE_BYTES_PER_RTT,
} from '../../../../src/core/transport/utp/ledbat.ts';
import {
  RttEstimator,
  INITIAL_TIMEOUT_MS,
  MIN_TIMEOUT_MS,
} from '../../../../src/core/transport/utp/rtt.ts';

const MSS = 1400;

/** Out of slow start (a loss does that), at `window` bytes. */
function steady(window: number): Ledbat {
  const ledbat = new Ledbat({ packetSize: MSS, maxWindow: 1 << 20, initialWindow: window * 2 });
  ledbat.onLoss();
  expect(ledbat.window).toBe(window);
  return ledbat;
}

/** Acks one full window's worth of bytes, packet by packet, at delay `delayUs` (base delay 10 ms). */
function oneRoundTrip(ledbat: Ledbat, delayUs: number, nowMs: number): void {
  const packets = Math.round(ledbat.window / MSS);
  for (let i = 0; i < packets; i++) ledbat.onAck(MSS, 10_000 + delayUs, ledbat.window, nowMs);
}

describe('LEDBAT (100 ms target)', () => {
  it('grows by at most 3000 bytes per round trip when there is no queuing delay', () => {
    const ledbat = steady(100 * MSS);
    ledbat.onAck(MSS, 10_000, ledbat.window, 0); // the base delay: 10 ms
    const before = ledbat.window;
    oneRoundTrip(ledbat, 0, 1);
    const grown = ledbat.window - before;
    expect(grown).toBeGreaterThan(MAX_CWND_INCREASE_BYTES_PER_RTT * 0.9);
    expect(grown).toBeLessThanOrEqual(MAX_CWND_INCREASE_BYTES_PER_RTT * 1.01);
  });

  it('holds still at the target delay and shrinks above it, in proportion', () => {
    const atTarget = steady(100 * MSS);
    atTarget.onAck(MSS, 10_000, atTarget.window, 0);
    const before = atTarget.window;
    oneRoundTrip(atTarget, CCONTROL_TARGET_US, 1);
    expect(Math.abs(atTarget.window - before)).toBeLessThan(1);
    expect(atTarget.lastQueuingDelayUs).toBe(CCONTROL_TARGET_US);

    const above = steady(100 * MSS);
    above.onAck(MSS, 10_000, above.window, 0);
    const start = above.window;
    oneRoundTrip(above, 2 * CCONTROL_TARGET_US, 1); // 100 ms over target: about -3000 bytes
    // (a little more: each ack's share grows as the window shrinks within the round trip)
    expect(start - above.window).toBeGreaterThan(MAX_CWND_INCREASE_BYTES_PER_RTT * 0.9);
    expect(start - above.window).toBeLessThanOrEqual(MAX_CWND_INCREASE_BYTES_PER_RTT * 1.05);
  });

  it('measures queuing delay against the lowest delay of the last two minutes, then forgets it', () => {
    const ledbat = steady(50 * MSS);
    ledbat.onAck(MSS, 5_000, ledbat.window, 0);
    ledbat.onAck(MSS, 65_000, ledbat.window, 30_000);
    expect(ledbat.lastQueuingDelayUs).toBe(60_000);
    // Minutes later the 5 ms sample has aged out; 65 ms is the new floor.
    ledbat.onAck(MSS, 65_000, ledbat.window, 61_000);
    ledbat.onAck(MSS, 65_000, ledbat.window, 122_000);
    ledbat.onAck(MSS, 65_000, ledbat.window, 183_000);
    expect(ledbat.lastQueuingDelayUs).toBe(0);
  });

  it('copes with delay samples that wrap around 2^32 (unsynchronised clocks)', () => {
    const ledbat = steady(50 * MSS);
    ledbat.onAck(MSS, 0xffff_fff0, ledbat.window, 0);
    ledbat.onAck(MSS, 0x10, ledbat.window, 1); // 32 µs later, past the wrap
    expect(ledbat.lastQueuingDelayUs).toBe(0x20);
  });

  it('slow-starts, halves on loss, drops to one packet on timeout and never leaves its bounds', () => {
    const ledbat = new Ledbat({ packetSize: MSS, maxWindow: 64 * MSS });
    expect(ledbat.inSlowStart).toBe(true);
    const start = ledbat.window;
    ledbat.onAck(start, 1000, start, 0);
    expect(ledbat.window).toBe(2 * start); // slow start: +bytes acked
    for (let i = 0; i < 100; i++) ledbat.onAck(ledbat.window, 1000, ledbat.window, i);
    expect(ledbat.window).toBe(64 * MSS);
    ledbat.onLoss();
    expect(ledbat.window).toBe(32 * MSS);
    expect(ledbat.inSlowStart).toBe(false);
    ledbat.onTimeout();
    expect(ledbat.window).toBe(MSS);
    for (let i = 0; i < 20; i++) ledbat.onLoss();
    expect(ledbat.window).toBe(MSS);
  });

  it('does not grow a window the sender is not using', () => {
    const ledbat = steady(100 * MSS);
    const before = ledbat.window;
    for (let i = 0; i < 50; i++) ledbat.onAck(MSS, 10_000, MSS, i);
    expect(ledbat.window).toBe(before);
  });
});

describe('retransmission timeout (BEP 29)', () => {
  it('starts at 1 s, follows rtt + 4 * rtt_var with a 500 ms floor, and doubles per expiry', () => {
    const rtt = new RttEstimator();
    expect(rtt.timeoutMs).toBe(INITIAL_TIMEOUT_MS);
    rtt.addSample(400); // rtt 400, var 200
    expect(rtt.timeoutMs).toBe(1200);
    rtt.addSample(400); // var 150
    expect(rtt.rtt).toBe(400);
    expect(rtt.timeoutMs).toBe(1000);
    rtt.backOff();
    expect(rtt.timeoutMs).toBe(2000);
    rtt.backOff();
    expect(rtt.timeoutMs).toBe(4000);
    rtt.addSample(400);
    expect(rtt.timeoutMs).toBeLessThan(2000);
    const fast = new RttEstimator();
    for (let i = 0; i < 20; i++) fast.addSample(1);
    expect(fast.timeoutMs).toBe(MIN_TIMEOUT_MS);
  });
});
