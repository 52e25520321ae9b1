/**
 * WebSeed against a real HTTP(S) server serving real files: single-file and
 * multi-file torrents, pieces spanning files, BEP 47 padding never asked
 * for, the in-flight cap, keep-alive reuse, and HTTPS with a self-signed
 * certificate made by openssl in the test.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSeed, type WebSeedOptions } from '../../../src/core/webseed/web-seed.ts';
import { WebSeedError } from '../../../src/core/webseed/errors.ts';
import type { ProxySettings } from '../../../src/core/net/http-proxy.ts';
import { cleanupTempDirs, tempDir } from '../../helpers/files.ts';
import {
  selfSignedCert,
  startHttpFileServer,
  type HttpFileServer,
} from '../../helpers/http-file-server.ts';
import { expectedBytes, makePayload, pieceSize } from './torrent-data.ts';

cleanupTempDirs();

const PIECE = 16 * 1024;
/** No proxy, whatever the environment running the tests says. */
export const noProxies: ProxySettings = { http: null, https: null, bypassAll: true, noProxy: [] };
const direct: WebSeedOptions = { proxies: noProxies };

const servers: HttpFileServer[] = [];
const seeds: WebSeed[] = [];
afterEach(async () => {
  for (const seed of seeds.splice(0)) seed.close();
  for (const server of servers.splice(0)) await server.close();
});

async function serve(root: string, tls?: { key: string; cert: string }): Promise<HttpFileServer> {
  const server = await startHttpFileServer(root, { tls });
  servers.push(server);
  return server;
}

function seedOf(...args: ConstructorParameters<typeof WebSeed>): WebSeed {
  const seed = new WebSeed(...args);
  seeds.push(seed);
  return seed;
}

describe('single-file torrent', () => {
  it('fetches every piece, whole and by block, from the file URL', async () => {
    const payload = await makePayload('blob.bin', [{ path: 'blob.bin', size: 5 * PIECE + 123 }], {
      pieceLength: PIECE,
      single: true,
    });
    const server = await serve(payload.root);
    const seed = seedOf(`${server.origin}/blob.bin`, payload.meta, direct);
    for (let i = 0; i < payload.meta.pieceCount; i++) {
      const size = i === payload.meta.pieceCount - 1 ? 123 : PIECE;
      expect((await seed.fetch(i, 0, size)).equals(await expectedBytes(payload, i))).toBe(true);
    }
    const block = await seed.fetch(2, 1000, 5000);
    expect(block.equals(await expectedBytes(payload, 2, 1000, 5000))).toBe(true);
    expect(server.requests.every((r) => r.path === '/blob.bin')).toBe(true);
    expect(server.requests.at(-1)!.range).toBe(`bytes=${2 * PIECE + 1000}-${2 * PIECE + 5999}`);
    expect(seed.stats()).toMatchObject({ state: 'ready', failures: 0, fetches: 7 });
  });

  it('appends the torrent name to a URL that ends in /', async () => {
    const payload = await makePayload('named file.bin', [{ path: 'x', size: PIECE }], {
      pieceLength: PIECE,
      single: true,
    });
    const server = await serve(payload.root);
    const seed = seedOf(`${server.origin}/`, payload.meta, direct);
    expect((await seed.fetch(0, 0, PIECE)).equals(await expectedBytes(payload, 0))).toBe(true);
    expect(server.requests[0]!.path).toBe('/named%20file.bin');
  });
});

describe('multi-file torrent', () => {
  const files = [
    { path: 'a.bin', size: 10_000 },
    { path: 'sub dir/b#1.bin', size: 3 * PIECE + 7 },
    { path: 'sub dir/empty', size: 0 },
    { path: 'c.bin', size: 5 },
    { path: 'z/last.bin', size: 2 * PIECE + 999 },
  ];

  it('appends name and path to the directory URL, each component percent-encoded, and splits spanning pieces per file', async () => {
    const payload = await makePayload('my torrent', files, { pieceLength: PIECE });
    const server = await serve(payload.root);
    // No trailing slash: BEP 19 says the client adds one.
    const seed = seedOf(server.origin, payload.meta, direct);
    for (let i = 0; i < payload.meta.pieceCount; i++) {
      const got = await seed.fetch(i, 0, pieceSize(payload, i));
      expect(got.equals(await expectedBytes(payload, i))).toBe(true);
    }
    // Piece 0 spans a.bin (10 000 bytes) and the start of b#1.bin.
    const paths = new Set(server.requests.map((r) => r.path));
    expect(paths).toContain('/my%20torrent/a.bin');
    expect(paths).toContain('/my%20torrent/sub%20dir/b%231.bin');
    expect(paths).not.toContain('/my%20torrent/sub%20dir/empty');
    const first = server.requests.filter((r) => r.path === '/my%20torrent/a.bin');
    expect(first[0]!.range).toBe('bytes=0-9999');
  }, 30_000);

  it('never requests BEP 47 padding files and returns zeros for them', async () => {
    const payload = await makePayload('padded', files, { pieceLength: PIECE, pad: true });
    const pads = payload.meta.files.filter((f) => f.padding);
    expect(pads.length).toBeGreaterThan(0);
    const server = await serve(payload.root);
    const seed = seedOf(`${server.origin}/`, payload.meta, direct);
    for (let i = 0; i < payload.meta.pieceCount; i++) {
      const got = await seed.fetch(i, 0, pieceSize(payload, i));
      expect(got.equals(await expectedBytes(payload, i))).toBe(true);
    }
    expect(server.requests.some((r) => r.path.includes('.pad'))).toBe(false);
    expect(server.requests.every((r) => r.path.startsWith('/padded/'))).toBe(true);
  }, 30_000);

  it('fetchSpace: several pieces across files in one go, into a reused buffer, reporting a growing prefix', async () => {
    const payload = await makePayload('run', files, { pieceLength: PIECE, pad: true });
    const server = await serve(payload.root);
    const seed = seedOf(`${server.origin}/`, payload.meta, direct);
    const all = Buffer.concat(
      await Promise.all(
        Array.from({ length: payload.meta.pieceCount }, (_, i) => expectedBytes(payload, i)),
      ),
    );
    // A dirty buffer: padding must come back as zeros all the same.
    const target = Buffer.alloc(all.length + 100, 0xee);
    const reported: number[] = [];
    const got = await seed.fetchSpace(0, all.length, {
      target,
      onProgress: (filled) => {
        // Every byte of a reported prefix is final already.
        expect(target.subarray(0, filled).equals(all.subarray(0, filled))).toBe(true);
        reported.push(filled);
      },
    });
    expect(got.equals(all)).toBe(true);
    expect(got.buffer).toBe(target.buffer);
    expect(reported.at(-1)).toBe(all.length);
    expect(reported.every((filled, i) => i === 0 || filled > reported[i - 1]!)).toBe(true);
    // One request per file with data, whatever the number of pieces.
    const dataFiles = payload.meta.files.filter((f) => !f.padding && f.length > 0).length;
    expect(server.requests.length).toBe(dataFiles);
  }, 30_000);
});

describe('connections', () => {
  it('keeps connections alive and never opens more than maxInFlight', async () => {
    const payload = await makePayload('blob.bin', [{ path: 'x', size: 64 * PIECE }], {
      pieceLength: PIECE,
      single: true,
    });
    const server = await serve(payload.root);
    const seed = seedOf(`${server.origin}/blob.bin`, payload.meta, { ...direct, maxInFlight: 3 });
    const results = await Promise.all(
      Array.from({ length: 64 }, (_, i) => seed.fetch(i, 0, PIECE)),
    );
    for (let i = 0; i < 64; i += 9) {
      expect(results[i]!.equals(await expectedBytes(payload, i))).toBe(true);
    }
    expect(server.requests).toHaveLength(64);
    // 64 requests over at most 3 sockets: each connection carried many.
    expect(server.connections()).toBeLessThanOrEqual(3);
    expect(server.connections()).toBeGreaterThanOrEqual(1);
    expect(seed.stats()).toMatchObject({ inFlight: 0, queued: 0, fetches: 64 });
  });

  it('canServe() is false while every slot is taken', async () => {
    const payload = await makePayload('blob.bin', [{ path: 'x', size: 4 * PIECE }], {
      pieceLength: PIECE,
      single: true,
    });
    const server = await serve(payload.root);
    server.setBehaviour({ kind: 'drip', intervalMs: 50 });
    const seed = seedOf(`${server.origin}/blob.bin`, payload.meta, { ...direct, maxInFlight: 2 });
    expect(seed.canServe()).toBe(true);
    const abort = new AbortController();
    const pending = [seed.fetch(0, 0, 10, abort.signal), seed.fetch(1, 0, 10, abort.signal)];
    expect(seed.canServe()).toBe(false);
    abort.abort();
    for (const p of pending) await expect(p).rejects.toMatchObject({ code: 'aborted' });
    // Cancelling is not the server's fault.
    expect(seed.stats()).toMatchObject({ failures: 0, state: 'ready', inFlight: 0 });
    expect(seed.canServe()).toBe(true);
  });
});

describe('https', () => {
  it('fetches over TLS from a server whose self-signed certificate is trusted through `ca`', async () => {
    const tls = selfSignedCert(tempDir('shoal-webseed-tls-'));
    const payload = await makePayload('blob.bin', [{ path: 'x', size: 8 * PIECE }], {
      pieceLength: PIECE,
      single: true,
    });
    const server = await serve(payload.root, tls);
    expect(server.origin.startsWith('https://')).toBe(true);

    const trusted = seedOf(`${server.origin}/blob.bin`, payload.meta, { ...direct, ca: tls.cert });
    const pieces = await Promise.all(
      Array.from({ length: 8 }, (_, i) => trusted.fetch(i, 0, PIECE)),
    );
    for (let i = 0; i < 8; i++)
      expect(pieces[i]!.equals(await expectedBytes(payload, i))).toBe(true);
    expect(server.connections()).toBeLessThanOrEqual(4);

    // Without the certificate trusted, the same server is refused.
    const untrusted = seedOf(`${server.origin}/blob.bin`, payload.meta, direct);
    const error = await untrusted.fetch(0, 0, PIECE).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WebSeedError);
    expect((error as WebSeedError).code).toBe('network');
  });
});
