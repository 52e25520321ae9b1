/**
 * The scrape poller against real trackers, over HTTP and UDP: Debian's
 * opentracker and shoal's own tracker server. Runners announce `completed`;
 * the poller's count follows, one scrape per tracker per interval.
 */
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { ScrapePoller } from '../../../src/core/fleet/scrape-poller.ts';
import { TrackerServer } from '../../../src/core/tracker-server/tracker-server.ts';
import { httpAnnounce } from '../../../src/core/tracker/http-tracker.ts';
import type { AnnounceParams } from '../../../src/core/tracker/types.ts';
import { UdpTracker } from '../../../src/core/tracker/udp-tracker.ts';
import { trackProcesses } from '../../helpers/cli.ts';
import { cleanupTempDirs } from '../../helpers/files.ts';
import { requirePeers, startOpentracker } from '../../helpers/peers.ts';

trackProcesses();
cleanupTempDirs();
vi.setConfig({ testTimeout: 60_000, hookTimeout: 30_000 });
requirePeers('opentracker');

const infoHash = Buffer.alloc(20, 0x5e);
const hex = infoHash.toString('hex');

function runner(n: number, event: AnnounceParams['event']): AnnounceParams {
  return {
    infoHash,
    peerId: Buffer.from(`-RUNNER-${String(n).padStart(12, '0')}`),
    port: 7000 + n,
    uploaded: 0,
    downloaded: 1000,
    left: event === 'completed' ? 0 : 1000,
    event,
  };
}

/** Runners 1..count announce `started`, then `completed`, through the given announce. */
async function finish(count: number, announce: (params: AnnounceParams) => Promise<unknown>) {
  for (let n = 1; n <= count; n++) {
    await announce(runner(n, 'started'));
    await announce(runner(n, 'completed'));
  }
}

/** Resolves once the poller reports at least `count` completed; bounded. */
function reaches(poller: ScrapePoller, updates: number[], count: number, what: string) {
  return vi.waitFor(
    () => {
      if ((poller.completed ?? -1) < count) {
        throw new Error(`${what}: completed ${poller.completed}, updates ${updates.join(',')}`);
      }
    },
    { timeout: 30_000, interval: 100 },
  );
}

const pollers: ScrapePoller[] = [];
afterEach(() => {
  for (const poller of pollers.splice(0)) poller.stop();
});

function poll(trackers: string[], warnings: string[], updates: number[]) {
  const poller = new ScrapePoller({
    infoHash,
    trackers,
    intervalMs: 300,
    onUpdate: (completed) => updates.push(completed),
    onWarning: (message) => warnings.push(message),
  });
  pollers.push(poller);
  poller.start();
  return poller;
}

describe('scrape poller with opentracker', () => {
  it('counts completed downloads over HTTP and over UDP', async () => {
    const tracker = await startOpentracker([hex]);
    const warnings: string[] = [];
    const httpUpdates: number[] = [];
    const udpUpdates: number[] = [];
    const overHttp = poll([tracker.url], warnings, httpUpdates);
    const overUdp = poll([tracker.udpUrl], warnings, udpUpdates);
    await reaches(overHttp, httpUpdates, 0, 'http before');
    await reaches(overUdp, udpUpdates, 0, 'udp before');
    expect(overHttp.completed).toBe(0);

    await finish(3, (params) => httpAnnounce(tracker.url, params));
    await reaches(overHttp, httpUpdates, 3, 'http');
    await reaches(overUdp, udpUpdates, 3, 'udp');
    expect(overHttp.completed).toBe(3);
    expect(overUdp.completed).toBe(3);
    expect(warnings, warnings.join('\n')).toEqual([]);
  });
});

describe("scrape poller with shoal's tracker", () => {
  let server: TrackerServer | null = null;
  afterAll(async () => {
    await server?.close();
  });

  it('counts completed downloads over HTTP and over UDP', async () => {
    server = new TrackerServer({
      port: 0,
      bind: ['127.0.0.1'],
      intervalSec: 60,
      whitelist: new Set([infoHash.toString('latin1')]), // the server keys by raw bytes
      maxPeers: 1000,
      maxPeersPerTorrent: 100,
      maxTorrents: 10,
    });
    await server.start();
    const { http, udp } = server.urls();
    const warnings: string[] = [];
    const httpUpdates: number[] = [];
    const udpUpdates: number[] = [];
    const overHttp = poll(http, warnings, httpUpdates);
    const overUdp = poll(udp, warnings, udpUpdates);

    // A client per announce: UdpTracker reuses a connection id across source ports, which
    // shoal's tracker rightly refuses (see the report of the fleet brief).
    await finish(2, (params) => new UdpTracker(udp[0]!).announce(params));
    await finish(4, (params) => httpAnnounce(http[0]!, params));
    await reaches(overHttp, httpUpdates, 4, 'http');
    await reaches(overUdp, udpUpdates, 4, 'udp');
    // Runners 1 and 2 completed twice (once per protocol): whether a tracker counts the second
    // event is its choice, so only agreement between the two protocols is checked beyond 4.
    expect(overUdp.completed).toBe(overHttp.completed);
    expect(warnings, warnings.join('\n')).toEqual([]);
  });
});
