/**
 * The scrape poller's schedule, with a scripted scrape function and fake
 * timers: it never asks a tracker again sooner than the interval or the
 * tracker's min interval, backs off on failures, drops trackers without
 * scrape support, and reports the highest completed count.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ScrapePoller, type ScrapeFunction } from '../../../src/core/fleet/scrape-poller.ts';
import { TrackerError } from '../../../src/core/tracker/errors.ts';

const infoHash = Buffer.alloc(20, 7);
const A = 'http://127.0.0.1:1/announce';
const B = 'udp://127.0.0.1:2/announce';

/** Records when each tracker was asked; answers with `answer(url, n)` (n counts that tracker's scrapes). */
function scripted(answer: (url: string, n: number) => number | Error) {
  const calls: { url: string; at: number }[] = [];
  const scrape: ScrapeFunction = async (url) => {
    const n = calls.filter((call) => call.url === url).length;
    calls.push({ url, at: Date.now() });
    const result = answer(url, n);
    if (result instanceof Error) throw result;
    return { seeders: 1, leechers: 0, completed: result };
  };
  const times = (url: string) =>
    calls.filter((call) => call.url === url).map((call) => call.at - start);
  const start = Date.now();
  return { scrape, times };
}

describe('ScrapePoller schedule', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => vi.useRealTimers());

  it('scrapes every tracker at once, then every interval, and keeps the highest count', async () => {
    const { scrape, times } = scripted((url, n) => (url === A ? n * 2 : n * 5));
    const updates: number[] = [];
    const poller = new ScrapePoller({
      infoHash,
      trackers: [A, B, A, 'wss://ignored/announce'],
      intervalMs: 10_000,
      scrape,
      onUpdate: (completed) => updates.push(completed),
    });
    expect(poller.trackers).toEqual([A, B]);
    expect(poller.completed).toBeUndefined();
    poller.start();
    await vi.advanceTimersByTimeAsync(35_000);
    poller.stop();
    expect(times(A)).toEqual([0, 10_000, 20_000, 30_000]);
    expect(times(B)).toEqual([0, 10_000, 20_000, 30_000]);
    expect(poller.completed).toBe(15);
    expect(updates.at(-1)).toBe(15);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(times(A)).toHaveLength(4);
  });

  it('soon() scrapes early, but never within 5 s of the last answer or the min interval', async () => {
    const { scrape, times } = scripted(() => 1);
    const poller = new ScrapePoller({ infoHash, trackers: [A, B], intervalMs: 60_000, scrape });
    poller.noteMinInterval(B, 20);
    poller.start();
    await vi.advanceTimersByTimeAsync(2_000);
    poller.soon(); // 2 s after the answers: A at 5 s, B at its 20 s min interval
    await vi.advanceTimersByTimeAsync(30_000);
    expect(times(A)).toEqual([0, 5_000]);
    expect(times(B)).toEqual([0, 20_000]);
    poller.soon(); // A: long enough after, at once; B: still inside its min interval, at 40 s
    await vi.advanceTimersByTimeAsync(10_000);
    expect(times(A)).toEqual([0, 5_000, 32_000]);
    expect(times(B)).toEqual([0, 20_000, 40_000]);
    // Back on schedule afterwards: the next is an interval later.
    await vi.advanceTimersByTimeAsync(60_000);
    expect(times(A)).toEqual([0, 5_000, 32_000, 92_000]);
    poller.stop();
  });

  it('never scrapes a tracker closer than the min interval it announced', async () => {
    const { scrape, times } = scripted(() => 1);
    const poller = new ScrapePoller({ infoHash, trackers: [A, B], intervalMs: 10_000, scrape });
    poller.noteMinInterval(A, 25);
    poller.start();
    await vi.advanceTimersByTimeAsync(60_000);
    poller.stop();
    expect(times(A)).toEqual([0, 25_000, 50_000]);
    expect(times(B)).toEqual([0, 10_000, 20_000, 30_000, 40_000, 50_000, 60_000]);
  });

  it('backs off after failures, doubling up to the cap, and recovers', async () => {
    const warnings: string[] = [];
    const { scrape, times } = scripted((_url, n) =>
      n < 4 ? new TrackerError('timeout', 'no answer') : 3,
    );
    const poller = new ScrapePoller({
      infoHash,
      trackers: [A],
      intervalMs: 10_000,
      maxBackoffMs: 40_000,
      scrape,
      onWarning: (message) => warnings.push(message),
    });
    poller.start();
    await vi.advanceTimersByTimeAsync(150_000);
    poller.stop();
    // Fails at 0, 10 s, 30 s, 70 s (waits 10, 20, 40 s); answers at 110 s; back to 10 s after.
    expect(times(A).slice(0, 7)).toEqual([0, 10_000, 30_000, 70_000, 110_000, 120_000, 130_000]);
    expect(poller.completed).toBe(3);
    expect(warnings).toHaveLength(4);
    expect(warnings[0]).toBe(`scrape ${A}: no answer`);
  });

  it('drops a tracker without scrape support after one try and says so', async () => {
    const warnings: string[] = [];
    const { scrape, times } = scripted((url) =>
      url === A ? new TrackerError('bad-url', `tracker does not support scrape: ${url}`) : 2,
    );
    const poller = new ScrapePoller({
      infoHash,
      trackers: [A, B],
      intervalMs: 10_000,
      scrape,
      onWarning: (message) => warnings.push(message),
    });
    poller.start();
    await vi.advanceTimersByTimeAsync(30_000);
    poller.stop();
    expect(times(A)).toEqual([0]);
    expect(poller.trackers).toEqual([B]);
    expect(poller.completed).toBe(2);
    expect(warnings).toEqual([
      `${A}: scrape: tracker does not support scrape: ${A}; not asking it again`,
    ]);
  });

  it('warns when no tracker can be scraped at all', () => {
    const warnings: string[] = [];
    const poller = new ScrapePoller({
      infoHash,
      trackers: ['wss://tracker.example/announce'],
      onWarning: (message) => warnings.push(message),
    });
    poller.start();
    poller.stop();
    expect(warnings).toEqual(['no HTTP or UDP tracker to scrape for completed>=']);
  });
});
