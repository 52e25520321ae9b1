/**
 * shoal's tracker on both stacks (its default: one dual-stack `::` socket
 * per protocol): IPv4 clients, which such a socket sees as ::ffff:a.b.c.d,
 * are stored and handed out as IPv4 (`peers`, 6-byte UDP entries); IPv6
 * clients go in `peers6` (BEP 7) and 18-byte UDP entries (BEP 15). Driven by
 * shoal's own tracker clients and raw HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeBencode, isBytes, isDict } from '../../../src/core/bencode/index.ts';
import { TRACKER_DEFAULTS } from '../../../src/core/tracker-server/defaults.ts';
import { TrackerServer } from '../../../src/core/tracker-server/tracker-server.ts';
import { buildAnnounceUrl } from '../../../src/core/tracker/http-codec.ts';
import { httpAnnounce, httpGet } from '../../../src/core/tracker/http-tracker.ts';
import type { AnnounceParams } from '../../../src/core/tracker/types.ts';
import { UdpTracker } from '../../../src/core/tracker/udp-tracker.ts';

const infoHash = Buffer.alloc(20, 0x66);
const params = (port: number): AnnounceParams => ({
  infoHash,
  peerId: Buffer.from(`-SH0001-${String(port).padStart(12, '0')}`),
  port,
  uploaded: 0,
  downloaded: 0,
  left: 1,
  event: 'started',
});

describe("shoal's tracker on both stacks", () => {
  let server: TrackerServer;
  const url = (scheme: 'http' | 'udp', host: string) =>
    `${scheme}://${host}:${server.port}/announce`;
  beforeAll(async () => {
    server = new TrackerServer({ ...TRACKER_DEFAULTS, whitelist: null, port: 0, bind: [] });
    await server.start();
    await httpAnnounce(url('http', '127.0.0.1'), params(8001));
    await httpAnnounce(url('http', '[::1]'), params(8002));
  });
  afterAll(() => server.close());

  it('listens on :: and answers both families on one port', () => {
    expect(server.urls().http).toEqual([`http://[::]:${server.port}/announce`]);
    expect(server.stats().peers).toBe(2);
  });

  it('HTTP: IPv4 peers in peers (never as ::ffff: in peers6), IPv6 peers in peers6', async () => {
    const raw = await httpGet(buildAnnounceUrl(url('http', '[::1]'), params(8003)));
    const { value } = decodeBencode(raw.body);
    if (!isDict(value)) throw new Error('not a dictionary');
    const peers = value['peers'];
    const peers6 = value['peers6'];
    if (!isBytes(peers) || !isBytes(peers6)) throw new Error('compact peers missing');
    expect(Buffer.from(peers).toString('hex')).toBe('7f0000011f41'); // 127.0.0.1:8001
    expect(Buffer.from(peers6).toString('hex')).toBe(`${'00'.repeat(15)}011f42`); // [::1]:8002
    const parsed = await httpAnnounce(url('http', '127.0.0.1'), params(8004));
    expect(parsed.peers).toEqual(
      expect.arrayContaining([
        { host: '127.0.0.1', port: 8001 },
        { host: '::1', port: 8002 },
      ]),
    );
  });

  it('UDP over ::1 hands out 18-byte IPv6 peers, over 127.0.0.1 6-byte IPv4 ones', async () => {
    const over6 = new UdpTracker(url('udp', '[::1]'), { retransmitMs: [2000, 2000] });
    const over4 = new UdpTracker(url('udp', '127.0.0.1'), { retransmitMs: [2000, 2000] });
    try {
      const six = await over6.announce(params(8005));
      expect(six.peers).toContainEqual({ host: '::1', port: 8002 });
      expect(six.peers.every((p) => p.host.includes(':'))).toBe(true);
      const four = await over4.announce(params(8006));
      expect(four.peers).toContainEqual({ host: '127.0.0.1', port: 8001 });
      expect(four.peers.every((p) => !p.host.includes(':'))).toBe(true);
    } finally {
      over6.close();
      over4.close();
    }
    expect(server.stats().malformed).toBe(0);
  });
});
