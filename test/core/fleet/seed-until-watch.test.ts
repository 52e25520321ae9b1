import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SeedUntilWatch } from '../../../src/core/fleet/seed-until-watch.ts';
import { parseSeedUntil } from '../../../src/core/fleet/seed-until.ts';
import { parseDuration, parseRatio } from '../../../src/commands/flags.ts';

/** As the commands will call it: with the CLI's own duration and ratio parsers. */
const parse = (text: string) =>
  parseSeedUntil(text, { duration: parseDuration, ratio: parseRatio });

const infoHash = Buffer.alloc(20, 3);

describe('SeedUntilWatch', () => {
  beforeEach(() => vi.useFakeTimers({ now: 0 }));
  afterEach(() => vi.useRealTimers());

  it('ends once, on the first condition that holds, naming it', async () => {
    const started = Date.now();
    let completed = 0;
    const scraped: number[] = [];
    const ended: string[] = [];
    const watch = new SeedUntilWatch({
      expr: parse('completed>=3 | time>=10m'),
      sample: () => ({ idleMs: 0, elapsedMs: Date.now() - started, ratio: 0 }),
      onMet: (_verdict, because) => ended.push(because),
      scrape: {
        infoHash,
        trackers: ['http://127.0.0.1:1/announce'],
        intervalMs: 60_000,
        scrape: async () => {
          scraped.push(Date.now());
          return { seeders: 1, leechers: 0, completed: completed++ };
        },
      },
    });
    watch.start();
    await vi.advanceTimersByTimeAsync(150_000);
    expect(ended).toEqual([]);
    await vi.advanceTimersByTimeAsync(60_000);
    // Scrapes at 0, 60, 120, 180 s answered 0, 1, 2, 3.
    expect(ended).toEqual(['completed>=3 (3 completed)']);
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(ended).toHaveLength(1);
    expect(scraped).toEqual([0, 60_000, 120_000, 180_000]);
  });

  it('needs no tracker when the expression does not mention completed', async () => {
    let idleSince = 0;
    const ended: string[] = [];
    const watch = new SeedUntilWatch({
      expr: parse('idle>=30s & ratio>=1'),
      sample: () => ({ idleMs: Date.now() - idleSince, elapsedMs: Date.now(), ratio: 1.5 }),
      onMet: (_verdict, because) => ended.push(because),
    });
    expect(watch.poller).toBeNull();
    watch.start();
    await vi.advanceTimersByTimeAsync(20_000);
    idleSince = Date.now(); // an upload at 20 s
    await vi.advanceTimersByTimeAsync(29_000);
    expect(ended).toEqual([]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(ended).toEqual(['idle>=30s (idle 30s) & ratio>=1 (ratio 1.50)']);
  });
});
