/**
 * A BEP 15 connection id belongs to the address AND port that asked for it:
 * shoal's own tracker (connection-ids.ts) issues ids keyed by both, so an id
 * obtained on one UDP socket is worthless on another. The client must reuse
 * a cached id only on the socket it was issued to. Against a real shoal
 * tracker on loopback, over IPv4 and IPv6.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrackerServer } from '../../../src/core/tracker-server/tracker-server.ts';
import { TRACKER_DEFAULTS } from '../../../src/core/tracker-server/defaults.ts';
import { UdpTracker } from '../../../src/core/tracker/udp-tracker.ts';
import type { AnnounceParams } from '../../../src/core/tracker/types.ts';
import { startUdpTracker } from './fake-trackers.ts';

function params(peer: number, port: number): AnnounceParams {
  return {
    infoHash: Buffer.alloc(20, 0x5a),
    peerId: Buffer.from(`-SH0001-${String(peer).padStart(12, '0')}`),
    port,
    uploaded: 0,
    downloaded: 0,
    left: 100,
    event: 'started',
  };
}

describe.each([
  ['IPv4', '127.0.0.1'],
  ['IPv6', '::1'],
])("UDP tracker client against shoal's tracker over %s", (_family, host) => {
  let server: TrackerServer;
  let url: string;
  beforeAll(async () => {
    server = new TrackerServer({ ...TRACKER_DEFAULTS, whitelist: null, port: 0, bind: [host] });
    await server.start();
    url = server.urls().udp[0]!;
  });
  afterAll(() => server.close());

  it('announces twice and scrapes with one client (the cached connection id stays valid)', async () => {
    // Short waits: a request the tracker drops (a foreign connection id) fails fast.
    const client = new UdpTracker(url, { retransmitMs: [1000, 1000] });
    try {
      const first = await client.announce(params(1, 7001));
      expect(first.peers).toEqual([]);
      const second = await client.announce({ ...params(1, 7001), event: undefined });
      expect(second.seeders ?? 0).toBe(0);
      expect(second.leechers).toBe(1);
      const scrape = await client.scrape([Buffer.alloc(20, 0x5a)]);
      expect([...scrape.values()]).toEqual([{ seeders: 0, completed: 0, leechers: 1 }]);
    } finally {
      client.close();
    }
    // Nothing the client sent was dropped as a bad connection id.
    expect(server.stats().malformed).toBe(0);
  });

  it('runs an announce and a scrape at once on one new client (one socket, one connect each)', async () => {
    const client = new UdpTracker(url, { retransmitMs: [1000, 1000] });
    try {
      const [answer, scrape] = await Promise.all([
        client.announce(params(6, 7006)),
        client.scrape([Buffer.alloc(20, 0x5a)]),
      ]);
      expect(answer.interval).toBe(TRACKER_DEFAULTS.intervalSec);
      expect(scrape.size).toBe(1);
    } finally {
      client.close();
    }
  });

  it('hands one peer the other, in its own family', async () => {
    const a = new UdpTracker(url, { retransmitMs: [1000, 1000] });
    const b = new UdpTracker(url, { retransmitMs: [1000, 1000] });
    try {
      await a.announce(params(2, 7002));
      const answer = await b.announce(params(3, 7003));
      expect(answer.peers).toContainEqual({ host, port: 7002 });
    } finally {
      a.close();
      b.close();
    }
  });
});

describe('UDP connection id lifetime', () => {
  it('connects afresh (on a new socket) once the id has expired', async () => {
    const fake = await startUdpTracker();
    const client = new UdpTracker(fake.url, { retransmitMs: [1000], connectionIdTtlMs: 100 });
    try {
      await client.announce(params(4, 7004));
      await client.announce({ ...params(4, 7004), event: undefined });
      expect(fake.requests.map((r) => r.action)).toEqual([0, 1, 1]);
      // Past the id's lifetime (not a timing assertion: any wait longer than 100 ms will do).
      await new Promise((resolve) => setTimeout(resolve, 400));
      await client.announce({ ...params(4, 7004), event: undefined });
      expect(fake.requests.map((r) => r.action)).toEqual([0, 1, 1, 0, 1]);
    } finally {
      client.close();
      await fake.close();
    }
  });

  it('reconnects after a silence when the tracker forgot the id (a restarted shoal tracker)', async () => {
    const options = { ...TRACKER_DEFAULTS, whitelist: null, bind: ['127.0.0.1'] };
    let server = new TrackerServer({ ...options, port: 0 });
    await server.start();
    const port = server.port;
    const client = new UdpTracker(`udp://127.0.0.1:${port}/announce`, {
      retransmitMs: [500, 2000],
    });
    try {
      await client.announce(params(5, 7005));
      // A new process has a new secret: the cached id is now dropped without an answer.
      await server.close();
      server = new TrackerServer({ ...options, port });
      await server.start();
      const again = await client.announce({ ...params(5, 7005), event: undefined });
      expect(again.leechers).toBe(1);
      expect(server.stats().malformed).toBe(1);
    } finally {
      client.close();
      await server.close();
    }
  });
});
