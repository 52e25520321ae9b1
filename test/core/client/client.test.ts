/**
 * One client running several torrents over TCP on 127.0.0.1: incoming
 * connections reach the torrent they name through one port; a torrent
 * removed from a running client is no longer served while the others carry
 * on; one added later is. And an exception escaping the engine ends the
 * run with that error (exit 1), never as a peer's fault.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../../src/core/client/client.ts';
import { staticPeers } from '../../../src/core/discovery/discovery.ts';
import { NetworkError } from '../../../src/core/errors.ts';
import { HashPool } from '../../../src/core/hashing/pool.ts';
import type { Metainfo } from '../../../src/core/metainfo/types.ts';
import { TorrentSession } from '../../../src/core/session/torrent-session.ts';
import { cleanupTempDirs, makeTree, tempDir } from '../../helpers/files.ts';
import { metainfoOf } from '../../helpers/metainfo.ts';

cleanupTempDirs();

let pool: HashPool;
let dataDir: string;
const metas: Record<'a' | 'b', Metainfo> = {} as Record<'a' | 'b', Metainfo>;

beforeAll(async () => {
  pool = new HashPool({ threads: 1 });
  dataDir = tempDir('shoal-client-');
  await makeTree(dataDir, [
    { path: 'a.bin', size: 3 * 1024 * 1024 + 123 },
    { path: 'b.bin', size: 2 * 1024 * 1024 + 7 },
  ]);
  for (const name of ['a', 'b'] as const) {
    metas[name] = await metainfoOf(path.join(dataDir, `${name}.bin`), {
      version: 'v1',
      pieceLength: 32 * 1024,
      pool,
    });
  }
});
afterAll(async () => {
  await pool?.destroy();
});

function seeder(
  name: 'a' | 'b',
  client: Client,
): { session: TorrentSession; ended: Promise<unknown> } {
  const session = new TorrentSession({
    meta: metas[name],
    outDir: dataDir,
    hashPool: pool,
    client,
    readOnly: true,
    requireComplete: true,
    seedForever: true,
  });
  const ended = session.run().catch((error: unknown) => error);
  return { session, ended };
}

function downloader(name: 'a' | 'b', port: number, stallTimeoutMs = 20_000): TorrentSession {
  return new TorrentSession({
    meta: metas[name],
    outDir: tempDir('shoal-client-out-'),
    hashPool: pool,
    port: null,
    stallTimeoutMs,
    discoveries: [staticPeers([{ host: '127.0.0.1', port }])],
  });
}

async function downloaded(session: TorrentSession, name: 'a' | 'b'): Promise<boolean> {
  const bytes = await readFile(path.join(dataDir, `${name}.bin`));
  const got = await readFile(path.join(sessionOut.get(session)!, `${name}.bin`));
  return bytes.equals(got);
}
const sessionOut = new WeakMap<TorrentSession, string>();

function tracked(name: 'a' | 'b', port: number, stallTimeoutMs?: number): TorrentSession {
  const session = downloader(name, port, stallTimeoutMs);
  sessionOut.set(session, session.storage.outDir);
  return session;
}

const seeding = (session: TorrentSession) =>
  new Promise<void>((resolve) => {
    if (session.phase === 'seeding') resolve();
    session.on('phase', (phase) => phase === 'seeding' && resolve());
  });

describe('a client running several torrents', () => {
  it('serves each on one port; a removed torrent stops being served, an added one starts', async () => {
    const client = new Client({ port: 0, hashPool: pool });
    await client.start();
    const a = seeder('a', client);
    const b = seeder('b', client);
    await Promise.all([seeding(a.session), seeding(b.session)]);
    expect(client.torrents.size).toBe(2);

    const [gotA, gotB] = [tracked('a', client.port), tracked('b', client.port)];
    await Promise.all([gotA.run(), gotB.run()]);
    expect(await downloaded(gotA, 'a')).toBe(true);
    expect(await downloaded(gotB, 'b')).toBe(true);

    // Torrent a leaves the running client; b stays.
    await a.session.interrupt();
    await a.ended;
    expect(client.torrents.size).toBe(1);
    const orphan = tracked('a', client.port, 3_000);
    const stillB = tracked('b', client.port);
    const [orphanResult] = await Promise.allSettled([orphan.run(), stillB.run()]);
    expect(orphanResult.status).toBe('rejected');
    expect((orphanResult as PromiseRejectedResult).reason).toBeInstanceOf(NetworkError);
    expect(await downloaded(stillB, 'b')).toBe(true);

    // Added again to the same running client: served again.
    const again = seeder('a', client);
    await seeding(again.session);
    const late = tracked('a', client.port);
    await late.run();
    expect(await downloaded(late, 'a')).toBe(true);

    await Promise.all([b.session.interrupt(), again.session.interrupt()]);
    await client.close();
  }, 120_000);
});

describe('an exception escaping the engine', () => {
  for (const event of ['peer-connected', 'piece-verified'] as const) {
    it(`thrown by a '${event}' listener ends the run with that error`, async () => {
      const client = new Client({ port: 0, hashPool: pool });
      await client.start();
      const source = seeder('b', client);
      await seeding(source.session);
      const session = tracked('b', client.port);
      const bug = new TypeError(`a bug in a '${event}' listener`);
      session.on(event, () => {
        throw bug;
      });
      await expect(session.run()).rejects.toBe(bug);
      await source.session.interrupt();
      await client.close();
    }, 60_000);
  }
});
