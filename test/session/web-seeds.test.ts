/**
 * Web seeds (BEP 19) as a source of pieces in a real download: an HTTP
 * server started here serves the files with Range; the session fetches
 * pieces from it beside (or instead of) peers, verifies them, and charges a
 * mirror that serves bad data.
 */
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/core/client/client.ts';
import { staticPeers } from '../../src/core/discovery/discovery.ts';
import { NetworkError } from '../../src/core/errors.ts';
import { HashPool } from '../../src/core/hashing/pool.ts';
import type { Metainfo } from '../../src/core/metainfo/types.ts';
import { TorrentSession } from '../../src/core/session/torrent-session.ts';
import { cleanupTempDirs, makeTree, tempDir } from '../helpers/files.ts';
import {
  afterAsked,
  startHttpFileServer,
  type HttpFileServer,
} from '../helpers/http-file-server.ts';
import { metainfoOf } from '../helpers/metainfo.ts';

cleanupTempDirs();

const FILES = [
  { path: 'tree/a.bin', size: 3 * 1024 * 1024 + 17 },
  { path: 'tree/sub dir/b #1.bin', size: 1024 * 1024 + 5 },
  { path: 'tree/c.bin', size: 700_001 },
];

let pool: HashPool;
let root: string;
let meta: Metainfo;
const servers: HttpFileServer[] = [];

beforeAll(async () => {
  pool = new HashPool({ threads: 1 });
  root = tempDir('shoal-webseed-src-');
  await makeTree(root, FILES);
  meta = await metainfoOf(path.join(root, 'tree'), { version: 'v1', pieceLength: 64 * 1024, pool });
});
afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
  await pool?.destroy();
});

async function serve(dir: string): Promise<HttpFileServer> {
  const server = await startHttpFileServer(dir);
  servers.push(server);
  return server;
}

function leecher(
  webSeeds: string[],
  extra: Partial<ConstructorParameters<typeof TorrentSession>[0]> = {},
) {
  const out = tempDir('shoal-webseed-out-');
  const session = new TorrentSession({
    meta,
    outDir: out,
    hashPool: pool,
    port: null,
    stallTimeoutMs: 20_000,
    webSeeds,
    ...extra,
  });
  return { session, out };
}

async function sameAsSource(out: string): Promise<boolean> {
  for (const file of FILES) {
    const [want, got] = await Promise.all([
      readFile(path.join(root, file.path)),
      readFile(path.join(out, file.path)),
    ]);
    if (!want.equals(got)) return false;
  }
  return true;
}

describe('web seeds', () => {
  it('download a multi-file torrent whose only source is a mirror', async () => {
    const server = await serve(root);
    const { session, out } = leecher([`${server.origin}/`]);
    const summary = await session.run();
    expect(summary.status).toBe('complete');
    expect(await sameAsSource(out)).toBe(true);
    expect(session.webSeedBytes).toBeGreaterThanOrEqual(meta.totalSize);
    // The name with a space and a '#' was asked for percent-encoded.
    expect(server.requests.some((r) => r.path.includes('b%20%231.bin'))).toBe(true);
  }, 60_000);

  it('charge a mirror that serves bad data, and finish from a good one', async () => {
    const badRoot = tempDir('shoal-webseed-bad-');
    await mkdir(path.join(badRoot, 'tree', 'sub dir'), { recursive: true });
    for (const file of FILES)
      await copyFile(path.join(root, file.path), path.join(badRoot, file.path));
    // Same length, different bytes: every piece of a.bin from this mirror fails its hash.
    await writeFile(path.join(badRoot, 'tree/a.bin'), Buffer.alloc(FILES[0]!.size, 0x5a));
    const bad = await serve(badRoot);
    const good = await serve(root);
    // Picked first, the good mirror could take every piece before the bad one is asked
    // (seen under load): it answers once the bad one has been asked, or after 8 s.
    good.setBehaviour({ kind: 'held', until: afterAsked(bad, 1000, 8000) });
    const { session, out } = leecher([`${bad.origin}/`, `${good.origin}/`]);
    const failed: number[] = [];
    session.on('piece-failed', (index) => failed.push(index));
    await session.run();
    expect(await sameAsSource(out)).toBe(true);
    expect(failed.length).toBeGreaterThan(0);
    const badStats = session.webSeedStats().find((s) => s.url.startsWith(bad.origin))!;
    expect(badStats.badPieces).toBeGreaterThan(0);
  }, 60_000);

  it('work beside a peer: both deliver, data identical', async () => {
    const server = await serve(root);
    // The peer: a shoal seeder of the same data on its own client.
    const client = new Client({ port: 0, hashPool: pool });
    await client.start();
    const seeder = new TorrentSession({
      meta,
      outDir: root,
      hashPool: pool,
      client,
      readOnly: true,
      requireComplete: true,
      seedForever: true,
    });
    const seeding = seeder.run().catch((error: unknown) => error);
    await new Promise<void>((resolve) => seeder.on('phase', (p) => p === 'seeding' && resolve()));
    const { session, out } = leecher([`${server.origin}/`], {
      discoveries: [staticPeers([{ host: '127.0.0.1', port: client.port }])],
    });
    await session.run();
    expect(await sameAsSource(out)).toBe(true);
    expect(session.webSeedBytes).toBeGreaterThan(0);
    expect(seeder.stats().uploaded).toBeGreaterThan(0);
    await seeder.interrupt();
    await seeding;
    await client.close();
  }, 60_000);

  it('a mirror that only answers 404 is backed off, and the download stalls out saying why (exit 4)', async () => {
    const server = await serve(root);
    server.setBehaviour({ kind: 'status', status: 404 });
    const { session } = leecher([`${server.origin}/`], { stallTimeoutMs: 4_000 });
    const error = await session.run().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as Error).message).toMatch(/1 web seed\(s\) \(last error: .*404/);
    // Backed off after each failure, not hammered (that would be hundreds): rounds of at
    // most 4 requests (the mirror's slots) at 0 s, 2 s and, when a loaded machine ends the
    // 4 s stall late, 6 s.
    expect(server.requests.length).toBeLessThanOrEqual(12);
  }, 60_000);
});
