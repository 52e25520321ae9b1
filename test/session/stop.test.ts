/**
 * Stopping a session at awkward moments, in-process (the CLI cannot pick the
 * moment reliably): an abort while existing data is still being checked must
 * end `run()` with InterruptedError (exit 130), not crash the process with an
 * unhandled rejection, must not wait for the whole check to finish, and must
 * leave the resume state an earlier run saved as it was.
 */
import { open, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTorrent } from '../../src/core/create/build-torrent.ts';
import { InterruptedError } from '../../src/core/errors.ts';
import { fingerprint } from '../../src/core/hashing/fingerprint.ts';
import { HashPool } from '../../src/core/hashing/pool.ts';
import { parseTorrent } from '../../src/core/metainfo/index.ts';
import type { Metainfo } from '../../src/core/metainfo/types.ts';
import { ResumeStore } from '../../src/core/resume/resume-store.ts';
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
    const { session, abort } = sessionWithAbort(extra);
    let progressEvents = 0;
    let checkDone = false;
    session.on('check-progress', () => {
      if (progressEvents++ === 0) abort.abort();
    });
    session.on('check-done', () => {
      checkDone = true;
    });
    await expect(session.run()).rejects.toBeInstanceOf(InterruptedError);
    expect(progressEvents).toBeGreaterThan(0);
    expect(checkDone, 'the check stops at the abort instead of running to its end').toBe(false);
  });

  it('leaves the resume state of an earlier run as it was', async () => {
    const identity = {
      infoHash: meta.infoHash!,
      pieceCount: meta.pieceCount,
      pieceLength: meta.pieceLength,
    };
    const earlier = new ResumeStore(dir, identity);
    await earlier.close(new Map([[0, fingerprint(await pieceZero())]]));
    const before = await readFile(earlier.snapshotPath);

    const { session, abort } = sessionWithAbort({});
    session.once('check-progress', () => abort.abort());
    await expect(session.run()).rejects.toBeInstanceOf(InterruptedError);
    expect(await readFile(earlier.snapshotPath)).toEqual(before);
    expect(await new ResumeStore(dir, identity).load()).toEqual(
      new Map([[0, fingerprint(await pieceZero())]]),
    );
  });

  function sessionWithAbort(extra: object): { session: TorrentSession; abort: AbortController } {
    const abort = new AbortController();
    const session = new TorrentSession({
      meta,
      outDir: dir,
      hashPool: pool,
      port: null,
      signal: abort.signal,
      ...extra,
    });
    return { session, abort };
  }

  async function pieceZero(): Promise<Buffer> {
    const handle = await open(path.join(dir, 'big.bin'));
    try {
      const piece = Buffer.alloc(meta.pieceLength);
      await handle.read(piece, 0, piece.length, 0);
      return piece;
    } finally {
      await handle.close();
    }
  }
});
