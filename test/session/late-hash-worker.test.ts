/**
 * A download's hash worker starts only after its first piece
 * (hashing/task-runner.ts): the session is built, checks an empty folder and
 * dials with no thread started, its first pieces are hashed on the calling
 * thread, and every piece is still judged: a peer's junk is caught and the
 * file comes out byte-identical. Fake peers on 127.0.0.1, in-process.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { staticPeers } from '../../src/core/discovery/discovery.ts';
import { HashPool } from '../../src/core/hashing/pool.ts';
import type { Metainfo } from '../../src/core/metainfo/types.ts';
import { TorrentSession } from '../../src/core/session/torrent-session.ts';
import { FakePeer, seeder } from '../hostile/fake-peer.ts';
import { cleanupTempDirs, tempDir } from '../helpers/files.ts';
import { metainfoOf } from '../helpers/metainfo.ts';

cleanupTempDirs();

const PIECE = 16 * 1024;
const PIECES = 256;

describe('a download whose hash worker starts late', () => {
  let data: Buffer;
  let meta: Metainfo;
  const fakes: FakePeer[] = [];

  beforeAll(async () => {
    const source = tempDir('shoal-late-worker-src-');
    data = randomBytes(PIECE * PIECES);
    writeFileSync(path.join(source, 'data.bin'), data);
    const maker = new HashPool({ threads: 1 });
    try {
      meta = await metainfoOf(path.join(source, 'data.bin'), {
        version: 'v1',
        pieceLength: PIECE,
        pool: maker,
      });
    } finally {
      await maker.destroy();
    }
  });
  afterEach(async () => {
    await Promise.all(fakes.splice(0).map((fake) => fake.stop()));
  });

  it('starts no thread through its build and check, catches a junk peer, and writes every byte right', async () => {
    // The real worker, ready two seconds after it is spawned (a slow start on a busy machine).
    const pool = new HashPool({
      threads: 1,
      workerFilename: new URL('../helpers/slow-start-hash-worker.ts', import.meta.url).href,
    });
    try {
      const honest = await FakePeer.start(meta.infoHash!, seeder(data, PIECE));
      const junk = await FakePeer.start(
        meta.infoHash!,
        seeder(data, PIECE, (_index, _begin, block) => block.fill(0x5a)),
      );
      fakes.push(honest, junk);
      const out = tempDir('shoal-late-worker-out-');
      const session = new TorrentSession({
        meta,
        outDir: out,
        hashPool: pool,
        port: 0,
        stallTimeoutMs: 30_000,
        discoveries: [
          staticPeers([
            { host: '127.0.0.1', port: junk.port },
            { host: '127.0.0.1', port: honest.port },
          ]),
        ],
      });
      expect(pool.workersStarted).toBe(false);
      // Its worker is spawned in the turn after the first piece it hashes, so this is the
      // last moment to look: the session is built and the empty folder checked.
      let startedAtCheck: boolean | null = null;
      session.once('check-done', () => (startedAtCheck = pool.workersStarted));
      const failed: number[] = [];
      session.on('piece-failed', (index) => failed.push(index));

      await session.run();

      expect(readFileSync(path.join(out, 'data.bin')).equals(data)).toBe(true);
      // The check found nothing and started nothing; the first pieces were hashed here.
      expect(startedAtCheck).toBe(false);
      expect(pool.tasksRun.callingThread).toBeGreaterThan(0);
      // The junk peer's pieces failed their check (on whichever thread hashed them).
      expect(failed.length).toBeGreaterThan(0);
    } finally {
      await pool.destroy();
    }
  }, 60_000);
});
