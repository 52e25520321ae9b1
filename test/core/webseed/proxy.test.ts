/**
 * HTTP_PROXY/HTTPS_PROXY/NO_PROXY: which requests go through which proxy, and
 * web seeds fetching through a real forward/CONNECT proxy (http and https),
 * with connections still kept alive through it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  ProxyConfigError,
  proxyFor,
  proxySettingsFromEnv,
} from '../../../src/core/net/http-proxy.ts';
import { WebSeed } from '../../../src/core/webseed/web-seed.ts';
import { cleanupTempDirs, tempDir } from '../../helpers/files.ts';
import {
  selfSignedCert,
  startHttpFileServer,
  startHttpProxy,
  type HttpFileServer,
  type TestProxy,
} from '../../helpers/http-file-server.ts';
import { expectedBytes, makePayload } from './torrent-data.ts';

cleanupTempDirs();

const PIECE = 16 * 1024;
const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

const via = (env: NodeJS.ProcessEnv, url: string): string | null =>
  proxyFor(new URL(url), proxySettingsFromEnv(env))?.href ?? null;

describe('proxy settings from the environment', () => {
  it('uses http_proxy for http and https_proxy for https, lower case first', () => {
    const env = {
      HTTP_PROXY: 'http://upper:1',
      http_proxy: 'http://lower:2',
      HTTPS_PROXY: 'sq:3128',
    };
    expect(via(env, 'http://mirror.example/x')).toBe('http://lower:2/');
    expect(via(env, 'https://mirror.example/x')).toBe('http://sq:3128/');
    expect(via({ HTTP_PROXY: 'http://p:1' }, 'https://mirror.example/x')).toBeNull();
    expect(via({}, 'http://mirror.example/x')).toBeNull();
  });

  it('NO_PROXY: names with their subdomains, addresses, CIDR blocks, ports, and *', () => {
    const env = {
      http_proxy: 'http://p:1',
      no_proxy: 'example.org, .corp.test,10.0.0.0/8 ,[::1],192.168.1.5:8080',
    };
    expect(via(env, 'http://example.org/x')).toBeNull();
    expect(via(env, 'http://cdn.example.org/x')).toBeNull();
    expect(via(env, 'http://notexample.org/x')).toBe('http://p:1/');
    expect(via(env, 'http://a.corp.test/x')).toBeNull();
    expect(via(env, 'http://10.9.8.7/x')).toBeNull();
    expect(via(env, 'http://11.0.0.1/x')).toBe('http://p:1/');
    expect(via(env, 'http://[::1]:9/x')).toBeNull();
    expect(via(env, 'http://192.168.1.5:8080/x')).toBeNull();
    expect(via(env, 'http://192.168.1.5:8081/x')).toBe('http://p:1/');
    expect(via({ http_proxy: 'http://p:1', NO_PROXY: '*' }, 'http://anything/x')).toBeNull();
  });

  it('refuses proxies it cannot speak to, with a one-line reason', () => {
    expect(() => proxySettingsFromEnv({ https_proxy: 'socks5://p:1080' })).toThrow(
      ProxyConfigError,
    );
    expect(() => proxySettingsFromEnv({ https_proxy: 'socks5://p:1080' })).toThrow(
      /only http:\/\/ proxies/,
    );
    expect(() => proxySettingsFromEnv({ http_proxy: 'http://[bad' })).toThrow(/not a valid URL/);
  });
});

async function proxyAndServer(tls?: { key: string; cert: string }) {
  const payload = await makePayload('blob.bin', [{ path: 'x', size: 16 * PIECE }], {
    pieceLength: PIECE,
    single: true,
  });
  const server: HttpFileServer = await startHttpFileServer(payload.root, { tls });
  closers.push(() => server.close());
  const proxy: TestProxy = await startHttpProxy();
  closers.push(() => proxy.close());
  return { payload, server, proxy };
}

describe('web seeds through a proxy', () => {
  it('http: forward requests through the proxy, kept alive', async () => {
    const { payload, server, proxy } = await proxyAndServer();
    const seed = new WebSeed(`${server.origin}/blob.bin`, payload.meta, {
      proxies: proxySettingsFromEnv({ HTTP_PROXY: proxy.url }),
      maxInFlight: 2,
    });
    closers.push(() => seed.close());
    const got = await Promise.all(Array.from({ length: 16 }, (_, i) => seed.fetch(i, 0, PIECE)));
    for (let i = 0; i < 16; i += 5)
      expect(got[i]!.equals(await expectedBytes(payload, i))).toBe(true);
    expect(proxy.forwards).toHaveLength(16);
    expect(proxy.forwards[0]).toBe(`${server.origin}/blob.bin`);
  });

  it('NO_PROXY sends the same requests directly', async () => {
    const { payload, server, proxy } = await proxyAndServer();
    const seed = new WebSeed(`${server.origin}/blob.bin`, payload.meta, {
      proxies: proxySettingsFromEnv({ HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.0/8' }),
    });
    closers.push(() => seed.close());
    expect((await seed.fetch(0, 0, PIECE)).equals(await expectedBytes(payload, 0))).toBe(true);
    expect(proxy.forwards).toHaveLength(0);
    expect(server.requests).toHaveLength(1);
  });

  it('https: a CONNECT tunnel per connection, TLS end to end, tunnels reused', async () => {
    const tls = selfSignedCert(tempDir('shoal-webseed-tls-'));
    const { payload, server, proxy } = await proxyAndServer(tls);
    const seed = new WebSeed(`${server.origin}/blob.bin`, payload.meta, {
      proxies: proxySettingsFromEnv({ HTTPS_PROXY: proxy.url }),
      ca: tls.cert,
      maxInFlight: 2,
    });
    closers.push(() => seed.close());
    const got = await Promise.all(Array.from({ length: 16 }, (_, i) => seed.fetch(i, 0, PIECE)));
    for (let i = 0; i < 16; i += 5)
      expect(got[i]!.equals(await expectedBytes(payload, i))).toBe(true);
    expect(proxy.connects.length).toBeGreaterThanOrEqual(1);
    expect(proxy.connects.length).toBeLessThanOrEqual(2);
    expect(proxy.connects[0]).toBe(`127.0.0.1:${server.port}`);
    expect(server.requests).toHaveLength(16);
  });

  it('redirects follow the tracker redirect policy: a public origin may not send shoal to a local address', async () => {
    const { payload, server } = await proxyAndServer();
    // The proxy alone knows mirror.test (it connects to 127.0.0.1); shoal's own
    // resolver says it is a public address, which nothing here ever connects to.
    const proxy = await startHttpProxy(['mirror.test']);
    closers.push(() => proxy.close());
    const seed = new WebSeed(`http://mirror.test:${server.port}/blob.bin`, payload.meta, {
      proxies: proxySettingsFromEnv({ HTTP_PROXY: proxy.url }),
      resolve: async (host) =>
        host === 'mirror.test'
          ? [{ address: '198.51.100.7', family: 4 }]
          : [{ address: '127.0.0.1', family: 4 }],
    });
    closers.push(() => seed.close());
    expect((await seed.fetch(0, 0, PIECE)).equals(await expectedBytes(payload, 0))).toBe(true);

    server.setBehaviour({ kind: 'redirect', to: (p) => `http://127.0.0.1:${server.port}${p}x` });
    const error = await seed.fetch(1, 0, PIECE).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'redirect' });
    expect((error as Error).message).toMatch(
      /public address 198\.51\.100\.7 redirected to local address 127\.0\.0\.1/,
    );
    expect(proxy.forwards.some((url) => url.includes('127.0.0.1'))).toBe(false);
  });

  it('a proxy that refuses the tunnel fails the request as a network error', async () => {
    const { payload, proxy } = await proxyAndServer();
    // The test proxy tunnels to 127.0.0.1 only.
    const seed = new WebSeed('https://localhost:1/blob.bin', payload.meta, {
      proxies: proxySettingsFromEnv({ HTTPS_PROXY: proxy.url }),
    });
    closers.push(() => seed.close());
    await expect(seed.fetch(0, 0, PIECE)).rejects.toMatchObject({ code: 'network' });
    expect(proxy.connects).toEqual(['localhost:1']);
  });
});
