/**
 * Trackers over both address families: a tracker host with an IPv4 and an
 * IPv6 address is announced to over each (so IPv6 peers learn our IPv6
 * address and IPv4 peers our IPv4 one), and an IPv4-only HTTP tracker is told
 * our public IPv6 address (BEP 7 `ipv6=`). Against shoal's own tracker
 * listening on 127.0.0.1 and ::1; the test's resolver gives a made-up name
 * both addresses, as DNS would for a dual-stack tracker.
 */
import type { LookupAddress } from 'node:dns';
import { once } from 'node:events';
import http from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TrackerServer } from '../../../src/core/tracker-server/tracker-server.ts';
import { TRACKER_DEFAULTS } from '../../../src/core/tracker-server/defaults.ts';
import { Announcer, type AnnouncerOptions } from '../../../src/core/tracker/announcer.ts';
import { buildAnnounceUrl } from '../../../src/core/tracker/http-codec.ts';
import { mergeFamilyResponses } from '../../../src/core/tracker/family-answers.ts';
import type { Resolver } from '../../../src/core/tracker/resolve.ts';
import { globalIpv6Address } from '../../../src/core/net/own-address.ts';
import type { PeerAddress } from '../../../src/core/net/peer-address.ts';
import { startHttpTracker, type HttpTrackerHandle } from './fake-trackers.ts';

const infoHash = Buffer.alloc(20, 0x42);

/** `dual.test` has both loopback addresses; `v4.test` only 127.0.0.1; literals resolve to themselves. */
const resolver: Resolver = async (host) => {
  const table: Record<string, LookupAddress[]> = {
    'dual.test': [
      { address: '127.0.0.1', family: 4 },
      { address: '::1', family: 6 },
    ],
    'v6first.test': [
      { address: '::1', family: 6 },
      { address: '127.0.0.1', family: 4 },
    ],
    'v4.test': [{ address: '127.0.0.1', family: 4 }],
  };
  const found = table[host];
  if (found) return found;
  if (host.includes(':')) return [{ address: host, family: 6 }];
  if (/^[\d.]+$/.test(host)) return [{ address: host, family: 4 }];
  throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
};

const announcers: Announcer[] = [];
afterEach(async () => {
  await Promise.all(announcers.splice(0).map((a) => a.stop()));
});

function announcer(url: string, port: number, extra: Partial<AnnouncerOptions> = {}): Announcer {
  const made = new Announcer({
    infoHash,
    peerId: Buffer.from(`-SH0001-${String(port).padStart(12, '0')}`),
    port,
    trackers: [[url]],
    stats: () => ({ uploaded: 0, downloaded: 0, left: 10 }),
    http: { timeoutMs: 5000 },
    udp: { retransmitMs: [2000, 2000] },
    stopTimeoutMs: 1000,
    resolve: resolver,
    ownIpv6: () => undefined,
    ...extra,
  });
  announcers.push(made);
  return made;
}

/** Starts `a` and waits for the first tracker answer (or the first error). */
async function firstAnswer(a: Announcer): Promise<PeerAddress[]> {
  const peers: PeerAddress[] = [];
  a.on('peers', (event) => peers.push(...event.peers));
  const answered = Promise.race([
    once(a, 'response'),
    once(a, 'error').then(([event]) => {
      throw (event as { error: Error }).error;
    }),
  ]);
  a.start();
  await answered;
  return peers;
}

describe('announcing over both address families', () => {
  let server: TrackerServer;
  beforeAll(async () => {
    server = new TrackerServer({
      ...TRACKER_DEFAULTS,
      whitelist: null,
      port: 0,
      bind: ['127.0.0.1', '::1'],
    });
    await server.start();
  });
  afterAll(() => server.close());

  for (const scheme of ['http', 'udp'] as const) {
    it(`${scheme}: a tracker name with both addresses hears us over each and hands out both`, async () => {
      const url = (host: string) => `${scheme}://${host}:${server.port}/announce`;
      const base = scheme === 'http' ? 7100 : 7200;
      await firstAnswer(announcer(url('dual.test'), base + 1));
      // Our address in both families is now in the swarm: a peer asking over IPv6 alone gets
      // the IPv6 one (UDP answers a request's own family only), one asking over both gets both.
      const v6only = await firstAnswer(announcer(url('[::1]'), base + 2));
      expect(v6only).toContainEqual({ host: '::1', port: base + 1 });
      const both = await firstAnswer(announcer(url('v6first.test'), base + 3));
      expect(both).toContainEqual({ host: '::1', port: base + 1 });
      expect(both).toContainEqual({ host: '127.0.0.1', port: base + 1 });
      expect(both).toContainEqual({ host: '::1', port: base + 2 });
    });
  }

  it('succeeds when only one family answers', async () => {
    const v4only = new TrackerServer({
      ...TRACKER_DEFAULTS,
      whitelist: null,
      port: 0,
      bind: ['127.0.0.1'],
    });
    await v4only.start();
    try {
      // Nothing listens on ::1 at this port: the IPv6 half is refused, the IPv4 half answers.
      const errors: unknown[] = [];
      const a = announcer(`http://dual.test:${v4only.port}/announce`, 7301);
      a.on('error', (event) => errors.push(event));
      await firstAnswer(a);
      expect(errors).toEqual([]);
      expect(v4only.stats().peers).toBe(1);
    } finally {
      await v4only.close();
    }
  });
});

describe('a family that is slow to answer', () => {
  it('does not hold back the other family, and its peers still arrive later', async () => {
    const v4only = new TrackerServer({
      ...TRACKER_DEFAULTS,
      whitelist: null,
      port: 0,
      bind: ['127.0.0.1'],
    });
    await v4only.start();
    // On ::1 at the same port: an HTTP tracker that holds every request until told to answer
    // (an IPv6 path that is slow or dead).
    const held: http.ServerResponse[] = [];
    const slow = http.createServer((_req, res) => held.push(res));
    await new Promise<void>((resolve) =>
      slow.listen({ port: v4only.port, host: '::1', ipv6Only: true }, resolve),
    );
    try {
      const a = announcer(`http://dual.test:${v4only.port}/announce`, 7501, {
        http: { timeoutMs: 60_000 },
        familyGraceMs: 100,
      });
      const late = new Promise<PeerAddress[]>((resolve) =>
        a.on('peers', (event) => {
          if (event.peers.some((p) => p.host === '2001:db8::9')) resolve(event.peers);
        }),
      );
      // Answered while the IPv6 request is still unanswered (the test would time out otherwise).
      await firstAnswer(a);
      expect(held).toHaveLength(1);
      expect(v4only.stats().peers).toBe(1);
      const peers6 = Buffer.from([
        0x20,
        0x01,
        0x0d,
        0xb8,
        ...Array<number>(11).fill(0),
        9,
        0x1a,
        0xe1,
      ]);
      held[0]!.end(
        Buffer.concat([
          Buffer.from('d8:intervali60e5:peers0:6:peers618:'),
          peers6,
          Buffer.from('e'),
        ]),
      );
      expect(await late).toEqual([{ host: '2001:db8::9', port: 6881 }]);
    } finally {
      for (const res of held) res.destroy();
      slow.closeAllConnections();
      await new Promise((resolve) => slow.close(resolve));
      await v4only.close();
    }
  });
});

describe('BEP 7 ipv6= for trackers with no IPv6 address', () => {
  let fake: HttpTrackerHandle;
  beforeAll(async () => {
    fake = await startHttpTracker();
  });
  afterAll(() => fake.close());

  const port = () => new URL(fake.base).port;

  it('tells an IPv4-only HTTP tracker our public IPv6 address', async () => {
    fake.requests.length = 0;
    const a = announcer(`http://v4.test:${port()}/announce`, 7401, {
      ownIpv6: () => '2001:DB8::0:5',
    });
    await firstAnswer(a);
    expect(fake.requests[0]?.query.get('ipv6')?.toString()).toBe('2001:db8::5');
  });

  it('sends no ipv6= without a public IPv6 address, or to a tracker reached over IPv6 too', async () => {
    fake.requests.length = 0;
    await firstAnswer(announcer(`http://v4.test:${port()}/announce`, 7402));
    expect(fake.requests[0]?.query.has('ipv6')).toBe(false);
    // dual.test: the IPv6 announce carries our address itself (its IPv6 half fails here: the
    // fake tracker listens on 127.0.0.1 only).
    fake.requests.length = 0;
    await firstAnswer(
      announcer(`http://dual.test:${port()}/announce`, 7403, { ownIpv6: () => '2001:db8::5' }),
    );
    expect(fake.requests[0]?.query.has('ipv6')).toBe(false);
  });

  it('percent-encodes the address in the announce URL and refuses anything but IPv6', () => {
    const params = {
      infoHash,
      peerId: Buffer.alloc(20, 0x41),
      port: 1,
      uploaded: 0,
      downloaded: 0,
      left: 0,
    };
    expect(buildAnnounceUrl('http://t/a', { ...params, ipv6: '2001:db8::1' })).toContain(
      '&ipv6=2001%3Adb8%3A%3A1',
    );
    expect(() => buildAnnounceUrl('http://t/a', { ...params, ipv6: '10.0.0.1' })).toThrow(
      RangeError,
    );
    expect(() => buildAnnounceUrl('http://t/a', { ...params, ipv6: 'fe80::1%eth0' })).toThrow(
      RangeError,
    );
  });

  it('finds a global unicast address among the interfaces, never a local one', () => {
    const iface = (address: string, internal = false) => ({
      address,
      netmask: 'ffff:ffff:ffff:ffff::',
      family: 'IPv6' as const,
      mac: '00:00:00:00:00:00',
      internal,
      cidr: null,
      scopeid: 0,
    });
    expect(
      globalIpv6Address({
        lo: [iface('::1', true)],
        eth0: [iface('fe80::1'), iface('fd00::2'), iface('2001:DB8::7')],
      }),
    ).toBe('2001:db8::7');
    expect(globalIpv6Address({ eth0: [iface('fe80::1'), iface('fd00::2')] })).toBeUndefined();
  });
});

describe('mergeFamilyResponses', () => {
  it('takes the peers of both, the larger counts and interval', () => {
    const answer = (peers: PeerAddress[], interval: number, seeders: number) => ({
      interval,
      minInterval: undefined,
      seeders,
      leechers: 1,
      warning: undefined,
      trackerId: undefined,
      peers,
    });
    const merged = mergeFamilyResponses([
      answer([{ host: '127.0.0.1', port: 1 }], 60, 2),
      answer(
        [
          { host: '::1', port: 1 },
          { host: '127.0.0.1', port: 1 },
        ],
        120,
        1,
      ),
    ]);
    expect(merged).toMatchObject({ interval: 120, seeders: 2, leechers: 1 });
    expect(merged.peers).toEqual([
      { host: '127.0.0.1', port: 1 },
      { host: '::1', port: 1 },
    ]);
  });
});
