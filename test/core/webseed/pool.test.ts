/**
 * WebSeedPool over real servers: it spreads requests over mirrors, falls back
 * to another mirror when one fails (and says which one answered, so the
 * engine can report a bad piece against it), and says when nothing is left.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSeedPool } from '../../../src/core/webseed/web-seed-pool.ts';
import type { WebSeedOptions } from '../../../src/core/webseed/web-seed.ts';
import { cleanupTempDirs } from '../../helpers/files.ts';
import { startHttpFileServer, type HttpFileServer } from '../../helpers/http-file-server.ts';
import { expectedBytes, makePayload } from './torrent-data.ts';

cleanupTempDirs();

const PIECE = 16 * 1024;
const servers: HttpFileServer[] = [];
const pools: WebSeedPool[] = [];
afterEach(async () => {
  for (const pool of pools.splice(0)) pool.close();
  for (const server of servers.splice(0)) await server.close();
});

async function mirrors(count: number, options: WebSeedOptions = {}) {
  const payload = await makePayload('blob.bin', [{ path: 'x', size: 32 * PIECE }], {
    pieceLength: PIECE,
    single: true,
  });
  const list: HttpFileServer[] = [];
  for (let i = 0; i < count; i++) list.push(await startHttpFileServer(payload.root));
  servers.push(...list);
  const { pool, refused } = WebSeedPool.fromUrls(
    [...list.map((s) => `${s.origin}/blob.bin`), 'ftp://example.invalid/blob.bin'],
    payload.meta,
    { proxies: { http: null, https: null, bypassAll: true, noProxy: [] }, ...options },
  );
  pools.push(pool);
  return { payload, servers: list, pool, refused };
}

describe('WebSeedPool', () => {
  it('refuses non-http URLs up front and spreads concurrent requests over the mirrors', async () => {
    const { payload, servers: list, pool, refused } = await mirrors(2, { maxInFlight: 2 });
    expect(refused).toHaveLength(1);
    expect(refused[0]!.reason).toMatch(/not an http/);
    expect(pool.seeds).toHaveLength(2);
    const got = await Promise.all(Array.from({ length: 32 }, (_, i) => pool.fetch(i, 0, PIECE)));
    for (let i = 0; i < 32; i += 7) {
      expect(got[i]!.data.equals(await expectedBytes(payload, i))).toBe(true);
    }
    expect(list[0]!.requests.length).toBeGreaterThan(0);
    expect(list[1]!.requests.length).toBeGreaterThan(0);
    expect(list[0]!.requests.length + list[1]!.requests.length).toBe(32);
  });

  it('falls back to another mirror when one fails, and says which one answered', async () => {
    const { payload, servers: list, pool } = await mirrors(2);
    list[0]!.setBehaviour({ kind: 'status', status: 404 });
    for (let i = 0; i < 4; i++) {
      const { data, seed } = await pool.fetch(i, 0, PIECE);
      expect(data.equals(await expectedBytes(payload, i))).toBe(true);
      expect(seed.url).toBe(`${list[1]!.origin}/blob.bin`);
    }
    const [first, second] = pool.stats();
    expect(first).toMatchObject({ state: 'backing-off', failures: 1 });
    expect(second).toMatchObject({ state: 'ready', fetches: 4 });
    expect(pool.pick()?.url).toBe(second!.url);
  });

  it('when every mirror has failed: unusable while backing off, then not alive once dropped', async () => {
    let now = 5_000_000;
    const { servers: list, pool } = await mirrors(2, {
      now: () => now,
      maxFailures: 2,
      baseBackoffMs: 1000,
    });
    for (const server of list) server.setBehaviour({ kind: 'status', status: 500 });
    await expect(pool.fetch(0, 0, PIECE)).rejects.toMatchObject({ code: 'http-status' });
    expect(pool.pick()).toBeNull();
    expect(pool.nextReadyAt(now)).toBe(now + 1000);
    await expect(pool.fetch(0, 0, PIECE)).rejects.toMatchObject({ code: 'unusable' });
    expect(pool.alive()).toBe(true);
    now += 1000;
    await expect(pool.fetch(0, 0, PIECE)).rejects.toMatchObject({ code: 'http-status' });
    expect(pool.alive()).toBe(false);
    expect(pool.nextReadyAt(now)).toBeNull();
  });

  it('a piece the engine finds bad counts against the server that sent it', async () => {
    const { pool } = await mirrors(2);
    const { seed } = await pool.fetch(0, 0, PIECE);
    seed.reportBadPiece();
    expect(seed.stats()).toMatchObject({ badPieces: 1, state: 'backing-off' });
    const other = pool.seeds.find((s) => s !== seed)!;
    expect((await pool.fetch(1, 0, PIECE)).seed).toBe(other);
  });
});
