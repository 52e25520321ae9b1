/**
 * HTTP trackers behind a proxy (HTTP_PROXY/NO_PROXY, as web seeds honour
 * them): the announce goes through the proxy as a forward request, a tracker
 * name only the proxy can resolve still works, NO_PROXY sends it direct, and
 * an unusable proxy setting fails the announce with a clear reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proxySettingsFromEnv } from '../../../src/core/net/http-proxy.ts';
import { TrackerError } from '../../../src/core/tracker/errors.ts';
import { httpAnnounce } from '../../../src/core/tracker/http-tracker.ts';
import type { AnnounceParams } from '../../../src/core/tracker/types.ts';
import { startHttpProxy, type TestProxy } from '../../helpers/http-file-server.ts';
import { startHttpTracker, type HttpTrackerHandle } from './fake-trackers.ts';

const params: AnnounceParams = {
  infoHash: Buffer.alloc(20, 0x5a),
  peerId: Buffer.from('-SH0001-proxyproxy01'),
  port: 6881,
  uploaded: 0,
  downloaded: 0,
  left: 100,
  event: 'started',
};

describe('HTTP tracker behind a proxy', () => {
  let tracker: HttpTrackerHandle;
  let proxy: TestProxy;
  beforeAll(async () => {
    tracker = await startHttpTracker();
    // tracker.internal is a name the proxy alone resolves (to 127.0.0.1).
    proxy = await startHttpProxy(['tracker.internal']);
  });
  afterAll(async () => {
    await proxy.close();
    await tracker.close();
  });

  it('announces through HTTP_PROXY as a forward request', async () => {
    const proxies = proxySettingsFromEnv({ HTTP_PROXY: proxy.url });
    const response = await httpAnnounce(`${tracker.base}/announce`, params, { proxies });
    expect(response.peers).toHaveLength(2);
    expect(proxy.forwards.at(-1)).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/announce\?info_hash=/);
  });

  it('reaches a tracker whose name only the proxy resolves', async () => {
    const proxies = proxySettingsFromEnv({ http_proxy: proxy.url });
    const port = new URL(tracker.base).port;
    const response = await httpAnnounce(`http://tracker.internal:${port}/announce`, params, {
      proxies,
      timeoutMs: 10_000,
    });
    expect(response.peers).toHaveLength(2);
    expect(proxy.forwards.at(-1)).toMatch(/^http:\/\/tracker\.internal:/);
  });

  it('goes direct for a host NO_PROXY names', async () => {
    const before = proxy.forwards.length;
    const proxies = proxySettingsFromEnv({ HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1' });
    const response = await httpAnnounce(`${tracker.base}/announce`, params, { proxies });
    expect(response.peers).toHaveLength(2);
    expect(proxy.forwards.length).toBe(before);
  });

  it('fails the announce with the reason when the proxy setting is unusable', async () => {
    // The lower-case name is the one read first.
    const saved = process.env.http_proxy;
    process.env.http_proxy = 'socks5://127.0.0.1:1080';
    try {
      const failure = await httpAnnounce(`${tracker.base}/announce`, params).catch(
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(TrackerError);
      expect((failure as TrackerError).message).toMatch(/only http:\/\/ proxies/);
    } finally {
      if (saved === undefined) delete process.env.http_proxy;
      else process.env.http_proxy = saved;
    }
  });
});
