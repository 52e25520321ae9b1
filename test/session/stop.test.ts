/**
 * Stopping a session at awkward moments, in-process (the CLI cannot pick the
 * moment reliably): an abort while existing data is still being checked must
 * end `run()` with InterruptedError (exit 130), not crash the process with an
 * unhandled rejection, and must not wait for the whole check to finish.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTorrent } from '../../src/core/create/build-torrent.ts';
import { InterruptedError } from '../../src/core/errors.ts';
import { HashPool } from '../../src/core/hashing/pool.ts';
import { parseTorrent } from '../../src/core/metainfo/index.ts';
import type { Metainfo } from '../../src/core/metainfo/types.ts';
import { TorrentSession } from '../../src/core/session/torrent-session.ts';
import { cleanupTempDirs, makeTree, tempDir } from '../helpers/files.ts';

cleanupTempDirs();

describe('aborting while existing data is checked', () => {
  let pool: HashPool;
  let dir: string;
  let meta: Metainfo;

  beforeAll(async () => {
    pool = new HashPool({ threads: 1 });
    dir = tempDir('shoal-stop-');
    // 48 MiB in 16 KiB pieces: several check batches, so the check is still running at the first one.
    await makeTree(dir, [{ path: 'big.bin', size: 48 * 1024 * 1024 }]);
    const made = await createTorrent({
      path: path.join(dir, 'big.bin'),
      version: 'v1',
      pieceLength: 16 * 1024,
      creationDate: null,
      pool,
    });
    meta = parseTorrent(made.torrentBytes);
  });
  afterAll(async () => {
    await pool?.destroy();
  });

  it.each([
    [
      'seed (read-only, must be complete)',
      { readOnly: true, requireComplete: true, seedForever: true },
    ],
    ['download', {}],
  ])('%s: run() rejects with InterruptedError', async (_name, extra) => {
    const abort = new AbortController();
    const session = new TorrentSession({
      meta,
      outDir: dir,
      hashPool: pool,
      port: null,
      signal: abort.signal,
      ...extra,
    });
    let progressEvents = 0;
    session.on('check-progress', () => {
      if (progressEvents++ === 0) abort.abort();
    });
    await expect(session.run()).rejects.toBeInstanceOf(InterruptedError);
    expect(progressEvents).toBeGreaterThan(0);
  });
});
