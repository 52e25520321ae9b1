import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrackerError } from '../../../src/core/tracker/errors.ts';
import { httpAnnounce, httpScrape } from '../../../src/core/tracker/http-tracker.ts';
import { UdpTracker, parseUdpTrackerUrl } from '../../../src/core/tracker/udp-tracker.ts';
import type { AnnounceParams } from '../../../src/core/tracker/types.ts';
import { freePort } from '../../helpers/ports.ts';
import {
  startHttpTracker,
  startUdpTracker,
  type HttpTrackerHandle,
  type UdpTrackerHandle,
} from './fake-trackers.ts';

const params: AnnounceParams = {
  infoHash: Buffer.alloc(20, 0xab),
  peerId: Buffer.from('-SH0001-000000000001'),
  port: 6881,
  uploaded: 0,
  downloaded: 0,
  left: 100,
  event: 'started',
};
const expectedPeers = [
  { host: '10.0.0.1', port: 6881 },
  { host: '10.0.0.2', port: 6882 },
];

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(TrackerError);
    return (error as TrackerError).code;
  }
  return 'no error';
}

describe('HTTP tracker client', () => {
  let tracker: HttpTrackerHandle;
  beforeAll(async () => {
    tracker = await startHttpTracker();
  });
  afterAll(() => tracker.close());

  it('announces and reads compact peers; the tracker sees the raw info-hash', async () => {
    const res = await httpAnnounce(`${tracker.base}/announce?passkey=abc`, params);
    expect(res.peers).toEqual(expectedPeers);
    expect(res).toMatchObject({ interval: 1800, seeders: 3, leechers: 4 });
    const query = tracker.requests.at(-1)!.query;
    expect(query.get('info_hash')).toEqual(Buffer.from(params.infoHash));
    expect(query.get('peer_id')!.toString()).toBe('-SH0001-000000000001');
    expect(query.get('passkey')!.toString()).toBe('abc');
    expect(query.get('event')!.toString()).toBe('started');
  });

  it('reports failure reason, with or without a 4xx status', async () => {
    expect(await codeOf(httpAnnounce(`${tracker.base}/fail`, params))).toBe('failure');
    await expect(httpAnnounce(`${tracker.base}/fail-404`, params)).rejects.toThrow(
      'no such tracker',
    );
    expect(await codeOf(httpAnnounce(`${tracker.base}/500`, params))).toBe('http-status');
  });

  it('follows up to five redirects (the default) and no more', async () => {
    // /redirect/n answers with n + 1 redirects before /announce.
    const res = await httpAnnounce(`${tracker.base}/redirect/4`, params);
    expect(res.peers).toEqual(expectedPeers);
    // The query survives the redirects.
    expect(tracker.requests.at(-1)!.query.get('info_hash')).toEqual(Buffer.from(params.infoHash));
    expect(await codeOf(httpAnnounce(`${tracker.base}/redirect/5`, params))).toBe(
      'too-many-redirects',
    );
    expect(
      await codeOf(httpAnnounce(`${tracker.base}/redirect/1`, params, { maxRedirects: 1 })),
    ).toBe('too-many-redirects');
    expect(await codeOf(httpAnnounce(`${tracker.base}/redirect-ftp`, params))).toBe('bad-url');
  });

  it('aborts a body over the cap, declared or streamed', async () => {
    const opts = { maxBodyBytes: 256 * 1024 };
    expect(await codeOf(httpAnnounce(`${tracker.base}/huge`, params, opts))).toBe('too-large');
    expect(await codeOf(httpAnnounce(`${tracker.base}/huge-declared`, params, opts))).toBe(
      'too-large',
    );
  });

  it('times out a tracker that never answers', async () => {
    expect(await codeOf(httpAnnounce(`${tracker.base}/slow`, params, { timeoutMs: 200 }))).toBe(
      'timeout',
    );
  });

  it('can be cancelled', async () => {
    const controller = new AbortController();
    const pending = httpAnnounce(`${tracker.base}/slow`, params, { signal: controller.signal });
    controller.abort();
    expect(await codeOf(pending)).toBe('aborted');
  });

  it('rejects garbage bytes as a bad response', async () => {
    expect(await codeOf(httpAnnounce(`${tracker.base}/garbage`, params))).toBe('bad-response');
  });

  it('reports a refused connection as a network error', async () => {
    const port = await freePort();
    expect(await codeOf(httpAnnounce(`http://127.0.0.1:${port}/announce`, params))).toBe('network');
  });

  it('scrapes only trackers that follow the announce/scrape convention', async () => {
    expect(await codeOf(httpScrape(`${tracker.base}/a`, [params.infoHash]))).toBe('bad-url');
  });
});

describe('UDP tracker client', () => {
  let tracker: UdpTrackerHandle;
  const fast = { retransmitMs: [150, 300] };
  beforeAll(async () => {
    tracker = await startUdpTracker();
  });
  afterAll(() => tracker.close());

  it('parses udp://host:port/path?query and refuses URLs without a port', () => {
    expect(parseUdpTrackerUrl('udp://t.example:1337/announce?x=1')).toEqual({
      host: 't.example',
      port: 1337,
    });
    expect(parseUdpTrackerUrl('udp://[::1]:80')).toEqual({ host: '::1', port: 80 });
    expect(() => parseUdpTrackerUrl('udp://t.example/announce')).toThrow(TrackerError);
    expect(() => parseUdpTrackerUrl('http://t.example:1/')).toThrow(TrackerError);
  });

  it('connects, announces, and reuses the connection id', async () => {
    tracker.mode = 'normal';
    tracker.requests.length = 0;
    const client = new UdpTracker(tracker.url, fast);
    const res = await client.announce(params);
    expect(res.peers).toEqual(expectedPeers);
    expect(res).toMatchObject({ interval: 1200, leechers: 4, seeders: 3 });
    await client.announce({ ...params, event: undefined });
    expect(tracker.requests.map((r) => r.action)).toEqual([0, 1, 1]);
    expect(tracker.requests[1]).toMatchObject({ event: 2, port: 6881 });
    const scrape = await client.scrape([params.infoHash]);
    expect([...scrape.values()]).toEqual([{ seeders: 7, completed: 8, leechers: 9 }]);
  });

  it('ignores a wrong transaction id and keeps waiting for the right one', async () => {
    tracker.mode = 'wrong-txid-first';
    const res = await new UdpTracker(tracker.url, fast).announce(params);
    expect(res.peers).toEqual(expectedPeers);
  });

  it('retransmits after a lost datagram', async () => {
    tracker.mode = 'drop-first';
    tracker.requests.length = 0;
    const res = await new UdpTracker(tracker.url, fast).announce(params);
    expect(res.peers).toEqual(expectedPeers);
    expect(tracker.requests.map((r) => r.action)).toEqual([0, 0, 1]);
  });

  it('reports the error action as a failure with its message', async () => {
    tracker.mode = 'error';
    const pending = new UdpTracker(tracker.url, fast).announce(params);
    await expect(pending).rejects.toThrow('info_hash not allowed');
    expect(await codeOf(pending)).toBe('failure');
  });

  it('times out after its schedule when the tracker is silent', async () => {
    tracker.mode = 'silent';
    tracker.requests.length = 0;
    expect(await codeOf(new UdpTracker(tracker.url, fast).announce(params))).toBe('timeout');
    expect(tracker.requests.length).toBe(2);
  });

  it('reads 18-byte IPv6 peers from a tracker reached over IPv6', async () => {
    const tracker6 = await startUdpTracker(true);
    try {
      const res = await new UdpTracker(tracker6.url, fast).announce(params);
      expect(res.peers).toEqual([{ host: '2001:db8::9', port: 6881 }]);
    } finally {
      await tracker6.close();
    }
  });

  it('can be cancelled', async () => {
    tracker.mode = 'silent';
    const controller = new AbortController();
    const pending = new UdpTracker(tracker.url).announce(params, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    expect(await codeOf(pending)).toBe('aborted');
  });
});
