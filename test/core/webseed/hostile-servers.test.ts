/**
 * WebSeed against servers that misbehave: every answer ends in the right
 * bytes or in a WebSeedError for that request (counted, the server backed
 * off, dropped after repeated failures), and never in more memory than the
 * range asked for. The clock of the back-off is injected; no test waits on
 * one.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSeed, type WebSeedOptions } from '../../../src/core/webseed/web-seed.ts';
import type { WebSeedError } from '../../../src/core/webseed/errors.ts';
import { cleanupTempDirs } from '../../helpers/files.ts';
import { startHttpFileServer, type HttpFileServer } from '../../helpers/http-file-server.ts';
import { expectedBytes, makePayload, type Payload } from './torrent-data.ts';

cleanupTempDirs();

const PIECE = 16 * 1024;
const servers: HttpFileServer[] = [];
const seeds: WebSeed[] = [];
afterEach(async () => {
  for (const seed of seeds.splice(0)) seed.close();
  for (const server of servers.splice(0)) await server.close();
});

/** A settable clock: back-off is judged against it, so no test has to wait. */
function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

async function setUp(
  options: WebSeedOptions = {},
  size = 8 * PIECE,
): Promise<{ payload: Payload; server: HttpFileServer; seed: WebSeed; url: string }> {
  const payload = await makePayload('blob.bin', [{ path: 'x', size }], {
    pieceLength: PIECE,
    single: true,
  });
  const server = await startHttpFileServer(payload.root);
  servers.push(server);
  const url = `${server.origin}/blob.bin`;
  const seed = new WebSeed(url, payload.meta, {
    proxies: { http: null, https: null, bypassAll: true, noProxy: [] },
    baseBackoffMs: 1000,
    ...options,
  });
  seeds.push(seed);
  return { payload, server, seed, url };
}

async function failure(promise: Promise<unknown>): Promise<WebSeedError> {
  return promise.then(
    () => {
      throw new Error('expected the fetch to fail');
    },
    (error: unknown) => error as WebSeedError,
  );
}

describe('status codes', () => {
  it('404 fails the request, backs the server off, and it serves again once the back-off is over', async () => {
    const time = clock();
    const { server, seed, payload } = await setUp({ now: time.now });
    server.setBehaviour({ kind: 'status', status: 404 });
    const error = await failure(seed.fetch(0, 0, PIECE));
    expect(error.code).toBe('http-status');
    expect(seed.stats()).toMatchObject({ state: 'backing-off', failures: 1 });
    expect(seed.canServe()).toBe(false);
    // While backing off nothing is sent.
    const before = server.requests.length;
    expect((await failure(seed.fetch(0, 0, PIECE))).code).toBe('unusable');
    expect(server.requests.length).toBe(before);

    time.advance(1000);
    server.setBehaviour({ kind: 'normal' });
    expect(seed.canServe()).toBe(true);
    expect((await seed.fetch(1, 0, PIECE)).equals(await expectedBytes(payload, 1))).toBe(true);
  });

  it('503 with Retry-After is honoured: no request before it has passed', async () => {
    const time = clock();
    const { server, seed } = await setUp({ now: time.now });
    server.setBehaviour({ kind: 'status', status: 503, headers: { 'Retry-After': '30' } });
    const error = await failure(seed.fetch(0, 0, PIECE));
    expect(error.code).toBe('unavailable');
    expect(error.retryAfterMs).toBe(30_000);
    expect(seed.stats().backoffUntil).toBe(time.now() + 30_000);
    time.advance(29_999);
    expect(seed.state()).toBe('backing-off');
    time.advance(1);
    expect(seed.state()).toBe('ready');
  });

  it('backs off exponentially and drops the server after maxFailures failures in a row', async () => {
    const time = clock();
    const { server, seed } = await setUp({ now: time.now, maxFailures: 3 });
    server.setBehaviour({ kind: 'status', status: 500 });
    await failure(seed.fetch(0, 0, PIECE));
    expect(seed.stats().backoffUntil).toBe(time.now() + 1000);
    time.advance(1000);
    await failure(seed.fetch(0, 0, PIECE));
    expect(seed.stats().backoffUntil).toBe(time.now() + 2000);
    time.advance(2000);
    await failure(seed.fetch(0, 0, PIECE));
    expect(seed.stats()).toMatchObject({ state: 'dropped', failures: 3 });
    time.advance(3_600_000);
    const sent = server.requests.length;
    expect((await failure(seed.fetch(0, 0, PIECE))).code).toBe('unusable');
    expect(server.requests.length).toBe(sent);
  });

  it('requests already in flight when the server failed count once towards dropping it', async () => {
    const time = clock();
    const { server, seed } = await setUp({ now: time.now, maxFailures: 2, maxInFlight: 4 });
    server.setBehaviour({ kind: 'status', status: 500 });
    const errors = await Promise.all([0, 1, 2, 3].map((i) => failure(seed.fetch(i, 0, PIECE))));
    expect(errors.map((e) => e.code)).toEqual([
      'http-status',
      'http-status',
      'http-status',
      'http-status',
    ]);
    // One outage, four casualties: backed off once, not dropped.
    expect(seed.stats()).toMatchObject({ state: 'backing-off', failures: 4 });
    expect(seed.stats().backoffUntil).toBe(time.now() + 1000);
    time.advance(1000);
    await failure(seed.fetch(0, 0, PIECE));
    expect(seed.state()).toBe('dropped');
  });

  it('a bad piece reported by the engine counts as a failure', async () => {
    const time = clock();
    const { seed } = await setUp({ now: time.now, maxFailures: 2 });
    await seed.fetch(0, 0, PIECE);
    seed.reportBadPiece();
    expect(seed.stats()).toMatchObject({ state: 'backing-off', badPieces: 1, failures: 1 });
    time.advance(1000);
    seed.reportBadPiece();
    expect(seed.stats()).toMatchObject({ state: 'dropped', badPieces: 2 });
  });
});

describe('redirects', () => {
  it('follows a redirect to another server and keeps the data right', async () => {
    const { payload, server, seed } = await setUp();
    const mirror = await startHttpFileServer(payload.root);
    servers.push(mirror);
    server.setBehaviour({ kind: 'redirect', status: 307, to: (p) => `${mirror.origin}${p}` });
    expect((await seed.fetch(3, 0, PIECE)).equals(await expectedBytes(payload, 3))).toBe(true);
    expect(mirror.requests).toHaveLength(1);
    expect(mirror.requests[0]!.range).toBe(`bytes=${3 * PIECE}-${4 * PIECE - 1}`);
  });

  it('refuses a redirect loop and a chain longer than maxRedirects', async () => {
    const { server, seed } = await setUp({ maxRedirects: 3, maxFailures: 10, now: clock().now });
    server.setBehaviour({ kind: 'redirect', to: (p) => (p === '/a' ? '/blob.bin' : '/a') });
    const loop = await failure(seed.fetch(0, 0, PIECE));
    expect(loop.code).toBe('redirect');
    expect(loop.message).toMatch(/loop/);

    const { server: chain, seed: chained } = await setUp({ maxRedirects: 3 });
    chain.setBehaviour({
      kind: 'redirect',
      to: (p) => `/hop${Number(/\d+/.exec(p)?.[0] ?? 0) + 1}`,
    });
    const tooMany = await failure(chained.fetch(0, 0, PIECE));
    expect(tooMany.code).toBe('redirect');
    expect(tooMany.message).toMatch(/more than 3 redirects/);
    expect(chain.requests).toHaveLength(4);
  });

  it('refuses a redirect to a non-http URL', async () => {
    const { server, seed } = await setUp();
    server.setBehaviour({ kind: 'redirect', to: () => 'file:///etc/passwd' });
    expect((await failure(seed.fetch(0, 0, PIECE))).code).toBe('redirect');
  });
});

describe('bodies that do not match the range', () => {
  it('200 ignoring Range: reads only up to the bytes needed and returns the right ones', async () => {
    const { payload, server, seed } = await setUp({}, 64 * PIECE);
    server.setBehaviour({ kind: 'ignore-range' });
    const got = await seed.fetch(5, 100, 4000);
    expect(got.equals(await expectedBytes(payload, 5, 100, 4000))).toBe(true);
    expect(seed.stats()).toMatchObject({ wholeFileAnswers: 1, failures: 0, state: 'ready' });
  });

  it('206 whose Content-Length is not the range length', async () => {
    const { server, seed } = await setUp();
    server.setBehaviour({ kind: 'wrong-length' });
    const error = await failure(seed.fetch(0, 0, PIECE));
    expect(error.code).toBe('bad-response');
    expect(error.message).toMatch(/Content-Length/);
  });

  it('206 whose Content-Range is not the range asked for', async () => {
    const { server, seed } = await setUp();
    server.setBehaviour({ kind: 'wrong-range' });
    const error = await failure(seed.fetch(1, 0, PIECE));
    expect(error.code).toBe('bad-response');
    expect(error.message).toMatch(/Content-Range/);
  });

  it('a body cut short', async () => {
    const { server, seed } = await setUp();
    server.setBehaviour({ kind: 'short-body' });
    const error = await failure(seed.fetch(2, 0, PIECE));
    expect(error.code).toBe('short-body');
    expect(seed.stats().failures).toBe(1);
  });

  it('a slow drip fails on the minimum rate', async () => {
    const { server, seed } = await setUp({ minBytesPerSecond: 2000, rateWindowMs: 300 });
    server.setBehaviour({ kind: 'drip', intervalMs: 100 });
    const error = await failure(seed.fetch(0, 0, PIECE));
    expect(error.code).toBe('too-slow');
  });

  it('a server that never answers fails on the headers deadline', async () => {
    const { server, seed } = await setUp({ headersTimeoutMs: 300 });
    server.setBehaviour({ kind: 'silent' });
    const error = await failure(seed.fetch(0, 0, PIECE));
    expect(error.code).toBe('too-slow');
    expect(error.message).toMatch(/no response within 300 ms/);
    expect(seed.stats()).toMatchObject({ inFlight: 0, failures: 1 });
  });

  it('a 10 GiB Content-Length for a small file is refused from the headers', async () => {
    const { server, seed } = await setUp();
    server.setBehaviour({ kind: 'huge' });
    const memory = process.memoryUsage().rss;
    const error = await failure(seed.fetch(0, 0, PIECE));
    expect(error.code).toBe('bad-response');
    expect(error.message).toMatch(/10737418240/);
    // The request was torn down at once: the server could not push more than its socket buffers.
    expect(server.hostileBytesSent()).toBeLessThan(64 * 1024 * 1024);
    expect(process.memoryUsage().rss - memory).toBeLessThan(256 * 1024 * 1024);
  });

  it('an endless chunked body for a range is cut at the range length', async () => {
    const { server, seed } = await setUp();
    server.setBehaviour({ kind: 'endless' });
    const error = await failure(seed.fetch(0, 0, PIECE));
    expect(error.code).toBe('bad-response');
    expect(error.message).toMatch(/longer than/);
    expect(server.hostileBytesSent()).toBeLessThan(64 * 1024 * 1024);
  });

  it('one failing file of a spanning piece fails the piece once, and the other parts are cancelled', async () => {
    const payload = await makePayload(
      'multi',
      [
        { path: 'a', size: 5000 },
        { path: 'b', size: 5000 },
        { path: 'c', size: 30_000 },
      ],
      { pieceLength: PIECE },
    );
    const server = await startHttpFileServer(payload.root);
    servers.push(server);
    const seed = new WebSeed(server.origin, payload.meta, {
      proxies: { http: null, https: null, bypassAll: true, noProxy: [] },
    });
    seeds.push(seed);
    server.setBehaviour((p) =>
      p.endsWith('/b') ? { kind: 'status', status: 404 } : { kind: 'drip', intervalMs: 1000 },
    );
    const error = await failure(seed.fetch(0, 0, PIECE));
    expect(error.code).toBe('http-status');
    expect(seed.stats()).toMatchObject({ failures: 1, inFlight: 0 });
  });
});
