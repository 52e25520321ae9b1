/**
 * The scrape poller against a real UDP tracker (shoal's own, which binds each
 * connection id to the socket that asked for it): scrape after scrape over
 * one client, the counts it reports follow the downloads the tracker saw
 * complete, with no warnings on the way.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ScrapePoller } from '../../../src/core/fleet/scrape-poller.ts';
import { TRACKER_DEFAULTS } from '../../../src/core/tracker-server/defaults.ts';
import { TrackerServer } from '../../../src/core/tracker-server/tracker-server.ts';
import type { AnnounceParams } from '../../../src/core/tracker/types.ts';
import { UdpTracker } from '../../../src/core/tracker/udp-tracker.ts';

const infoHash = Buffer.alloc(20, 0x42);
const finished = (n: number): AnnounceParams => ({
  infoHash,
  peerId: Buffer.from(`-SH0001-${String(n).padStart(12, '0')}`),
  port: 7000 + n,
  uploaded: 0,
  downloaded: 1,
  left: 0,
  event: 'completed',
});

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('ScrapePoller over UDP', () => {
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('scrapes one tracker again and again over one client and follows its completed count', async () => {
    const server = new TrackerServer({
      ...TRACKER_DEFAULTS,
      whitelist: null,
      port: 0,
      bind: ['127.0.0.1'],
    });
    await server.start();
    cleanup.push(() => server.close());
    const url = `udp://127.0.0.1:${server.port}/announce`;
    const announcer = new UdpTracker(url);
    cleanup.push(() => announcer.close());

    const seen: number[] = [];
    const warnings: string[] = [];
    const poller = new ScrapePoller({
      infoHash,
      trackers: [url],
      intervalMs: 100,
      onUpdate: (completed) => seen.push(completed),
      onWarning: (message) => warnings.push(message),
    });
    poller.start();
    cleanup.push(() => poller.stop());

    for (let n = 1; n <= 3; n++) {
      await announcer.announce(finished(n));
      await until(() => poller.completed === n, `completed=${n} (seen ${seen.join(',')})`);
    }
    expect(warnings).toEqual([]);
  });
});
