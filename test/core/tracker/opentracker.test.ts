/**
 * Interop with a real tracker: Debian's opentracker, started on 127.0.0.1 for
 * this file (startOpentracker, test/helpers/peers.ts) and killed by PID
 * afterwards. Fails, saying how to install it, when it is not installed.
 */
import type { PeerAddress } from '../../../src/core/net/peer-address.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Announcer, type AnnouncerEvents } from '../../../src/core/tracker/announcer.ts';
import { cleanupTempDirs } from '../../helpers/files.ts';
import { requirePeers, startOpentracker } from '../../helpers/peers.ts';
import { httpAnnounce } from '../../../src/core/tracker/http-tracker.ts';
import { UdpTracker } from '../../../src/core/tracker/udp-tracker.ts';
import type { AnnounceParams } from '../../../src/core/tracker/types.ts';

cleanupTempDirs();

const httpHash = Buffer.alloc(20, 0x11);
const udpHash = Buffer.alloc(20, 0x22);
const peerId = (n: number) => Buffer.from(`-SH0001-interop${String(n).padStart(5, '0')}`);

/** The next event of one kind; a tracker error event fails it instead of leaving it hanging. */
function next<K extends 'peers' | 'response'>(
  announcer: Announcer,
  name: K,
): Promise<AnnouncerEvents[K]> {
  return new Promise((resolve, reject) => {
    const listener = (...args: AnnouncerEvents[K]) => resolve(args);
    (announcer.once as (n: K, l: typeof listener) => Announcer)(name, listener);
    announcer.once('error', (event) => reject(event.error));
  });
}

const ports = (peers: PeerAddress[]) =>
  peers.filter((p) => p.host === '127.0.0.1').map((p) => p.port);

describe('opentracker interop', () => {
  requirePeers('opentracker');
  let tracker: Awaited<ReturnType<typeof startOpentracker>> | undefined;
  let port: number;
  const params = (infoHash: Buffer, n: number, extra: Partial<AnnounceParams> = {}) => ({
    infoHash,
    peerId: peerId(n),
    port: 40_000 + n,
    uploaded: 0,
    downloaded: 0,
    left: 1000,
    ...extra,
  });

  beforeAll(async () => {
    // The fixture's opentracker: on a port from freePort() that it is seen to listen on itself.
    tracker = await startOpentracker([udpHash.toString('hex'), httpHash.toString('hex')]);
    port = tracker.port;
  }, 30_000);

  afterAll(async () => {
    tracker?.proc.kill('SIGTERM');
    // wait() kills it (SIGKILL) when it has not gone within the bound.
    await tracker?.proc.wait(3000);
  });

  it('two HTTP peers see each other (and themselves: the engine must skip itself)', async () => {
    const url = `http://127.0.0.1:${port}/announce`;
    const first = await httpAnnounce(url, params(httpHash, 1, { event: 'started' }), {
      timeoutMs: 5000,
    });
    expect(first.interval).toBeGreaterThan(0);
    const second = await httpAnnounce(url, params(httpHash, 2, { event: 'started' }), {
      timeoutMs: 5000,
    });
    expect(ports(second.peers)).toContain(40_001);
    const again = await httpAnnounce(url, params(httpHash, 1), { timeoutMs: 5000 });
    expect(ports(again.peers)).toContain(40_002);
    // opentracker hands a peer its own address back; the clients pass it on unfiltered.
    expect(ports(again.peers)).toContain(40_001);
  }, 20_000);

  it('two UDP peers see each other, and HTTP shares the swarm with UDP', async () => {
    const url = `udp://127.0.0.1:${port}/announce`;
    const options = { retransmitMs: [1000, 2000] };
    const a = new UdpTracker(url, options);
    const b = new UdpTracker(url, options);
    await a.announce(params(udpHash, 3, { event: 'started' }));
    const seenByB = await b.announce(params(udpHash, 4, { event: 'started' }));
    expect(ports(seenByB.peers)).toContain(40_003);
    const seenByA = await a.announce(params(udpHash, 3));
    expect(ports(seenByA.peers)).toContain(40_004);
    const overHttp = await httpAnnounce(
      `http://127.0.0.1:${port}/announce`,
      params(udpHash, 5, { event: 'started' }),
      { timeoutMs: 5000 },
    );
    expect(ports(overHttp.peers)).toEqual(expect.arrayContaining([40_003, 40_004]));
    const scrape = await a.scrape([udpHash]);
    expect(scrape.get(udpHash.toString('hex'))?.leechers).toBeGreaterThanOrEqual(3);
  }, 20_000);

  it('announcers over HTTP and UDP find each other and leave with stopped', async () => {
    const infoHash = httpHash;
    const make = (n: number, url: string) =>
      new Announcer({
        infoHash,
        peerId: peerId(n),
        port: 40_000 + n,
        trackers: [[url]],
        stats: () => ({ uploaded: 0, downloaded: 0, left: 1000 }),
        udp: { retransmitMs: [1000, 2000] },
        stopTimeoutMs: 3000,
      });
    const viaHttp = make(10, `http://127.0.0.1:${port}/announce`);
    const viaUdp = make(11, `udp://127.0.0.1:${port}`);
    try {
      const httpResponse = next(viaHttp, 'response');
      viaHttp.start();
      await httpResponse;
      const udpPeers = next(viaUdp, 'peers');
      viaUdp.start();
      const [event] = await udpPeers;
      expect(event.tracker).toBe(`udp://127.0.0.1:${port}`);
      expect(ports(event.peers)).toContain(40_010);
    } finally {
      await viaHttp.stop();
      await viaUdp.stop();
    }
    // After stopped, a newcomer no longer gets them.
    const after = await httpAnnounce(
      `http://127.0.0.1:${port}/announce`,
      params(infoHash, 12, { event: 'started' }),
      { timeoutMs: 5000 },
    );
    expect(ports(after.peers)).not.toContain(40_010);
    expect(ports(after.peers)).not.toContain(40_011);
  }, 20_000);

  it('refuses an info-hash that is not whitelisted with a failure, over HTTP and UDP', async () => {
    const unknown = Buffer.alloc(20, 0x33);
    await expect(
      httpAnnounce(`http://127.0.0.1:${port}/announce`, params(unknown, 20), { timeoutMs: 5000 }),
    ).rejects.toMatchObject({ code: 'failure' });
    await expect(
      new UdpTracker(`udp://127.0.0.1:${port}`, { retransmitMs: [2000] }).announce(
        params(unknown, 20),
      ),
    ).rejects.toMatchObject({ code: 'failure' });
  }, 20_000);
});
