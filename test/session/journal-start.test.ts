/**
 * The way to the first byte does not wait for the resume snapshot written
 * after the check: its fsync can take tens of milliseconds on a busy disk,
 * and blocks can be requested meanwhile (records of pieces verified then wait
 * for the journal on the store's own queue). In-process, because the moment
 * to observe is between two steps of the session's start.
 */
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { InterruptedError } from '../../src/core/errors.ts';
import { HashPool } from '../../src/core/hashing/pool.ts';
import type { Metainfo } from '../../src/core/metainfo/types.ts';
import { ResumeStore } from '../../src/core/resume/resume-store.ts';
import { TorrentSession } from '../../src/core/session/torrent-session.ts';
import { cleanupTempDirs, makeTree, tempDir } from '../helpers/files.ts';
import { metainfoOf } from '../helpers/metainfo.ts';

cleanupTempDirs();

/** How long a held fsync waits for the downloading phase before giving up. */
const HOLD_BOUND_MS = 10_000;

describe('starting a download', () => {
  let pool: HashPool;
  let meta: Metainfo;

  beforeAll(async () => {
    pool = new HashPool({ threads: 1 });
    const source = tempDir('shoal-journal-start-src-');
    await makeTree(source, [{ path: 'data.bin', size: 256 * 1024 }]);
    meta = await metainfoOf(path.join(source, 'data.bin'), {
      version: 'v1',
      pieceLength: 16 * 1024,
      pool,
    });
  });
  afterAll(async () => {
    await pool?.destroy();
  });

  it('starts downloading while the fresh resume snapshot is still being synced', async () => {
    const out = tempDir('shoal-journal-start-out-');
    let downloading!: () => void;
    const started = new Promise<void>((resolve) => (downloading = resolve));
    /** Set by the first fsync, the start-up snapshot's (the stop's comes after discovery anyway). */
    let startedWhileSyncHeld: boolean | null = null;
    const prototype = await fileHandlePrototype();
    const sync = prototype.sync as (this: FileHandle) => Promise<void>;
    vi.spyOn(prototype, 'sync').mockImplementation(async function (this: FileHandle) {
      const bound = new Promise<'bound'>((resolve) => {
        const timer = setTimeout(() => resolve('bound'), HOLD_BOUND_MS);
        void started.then(() => clearTimeout(timer));
      });
      if (startedWhileSyncHeld !== null) return sync.apply(this);
      startedWhileSyncHeld = false;
      startedWhileSyncHeld = (await Promise.race([started, bound])) !== 'bound';
      return sync.apply(this);
    });
    const abort = new AbortController();
    try {
      const session = new TorrentSession({
        meta,
        outDir: out,
        hashPool: pool,
        port: null,
        discoveries: [],
        signal: abort.signal,
      });
      // Peers are looked for from before the check (peers-during-check.test.ts); what must not
      // wait for the snapshot is the step after the check, from which blocks are requested.
      session.on('phase', (phase) => phase === 'downloading' && downloading());
      const running = session.run();
      await started;
      abort.abort();
      await expect(running).rejects.toBeInstanceOf(InterruptedError);
    } finally {
      vi.restoreAllMocks();
    }
    expect(startedWhileSyncHeld).toBe(true);
    // The snapshot written meanwhile is intact: the stop folded into it, nothing lost.
    const identity = {
      infoHash: meta.infoHash!,
      pieceCount: meta.pieceCount,
      pieceLength: meta.pieceLength,
    };
    expect(await new ResumeStore(out, identity).load()).toEqual(new Map());
  }, 30_000);
});

async function fileHandlePrototype(): Promise<FileHandle> {
  const probe = await open(import.meta.filename, 'r');
  await probe.close();
  return Object.getPrototypeOf(probe) as FileHandle;
}
