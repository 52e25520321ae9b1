/**
 * A download looks for peers while it checks the data already on disk, so
 * the tracker's and the peers' round trips overlap the check instead of
 * following it; but it asks no peer for anything before the check says what
 * it has. In-process, because the moments to observe are inside the
 * session's start.
 */
import { copyFile, readFile, truncate } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { staticPeers, type PeerDiscovery } from '../../src/core/discovery/discovery.ts';
import { InterruptedError } from '../../src/core/errors.ts';
import { HashPool } from '../../src/core/hashing/pool.ts';
import type { Metainfo } from '../../src/core/metainfo/types.ts';
import { TorrentSession } from '../../src/core/session/torrent-session.ts';
import { cleanupTempDirs, makeTree, tempDir } from '../helpers/files.ts';
import { metainfoOf } from '../helpers/metainfo.ts';
import { until } from '../helpers/swarm.ts';

cleanupTempDirs();

const PIECE = 16 * 1024;
const PIECES = 64;
/** Pieces the leecher finds on disk at its start; the rest it must download. */
const ON_DISK = 40;
/** How long the held check waits for an unchoking peer (the old order connects none during it). */
const HOLD_BOUND_MS = 10_000;

describe('peers during the existing-data check', () => {
  let pool: HashPool;
  let source: string;
  let meta: Metainfo;

  beforeAll(async () => {
    pool = new HashPool({ threads: 1 });
    source = tempDir('shoal-peers-check-src-');
    await makeTree(source, [{ path: 'data.bin', size: PIECES * PIECE }]);
    meta = await metainfoOf(path.join(source, 'data.bin'), {
      version: 'v1',
      pieceLength: PIECE,
      pool,
    });
  });
  afterAll(async () => {
    await pool?.destroy();
  });

  it('a fresh download starts its peer sources before its check ends', async () => {
    let checkDoneAtDiscovery: boolean | null = null;
    let checkDone = false;
    const abort = new AbortController();
    const discovery: PeerDiscovery = {
      name: 'test',
      start() {
        checkDoneAtDiscovery = checkDone;
        abort.abort();
      },
      async stop() {},
    };
    const session = new TorrentSession({
      meta,
      outDir: tempDir('shoal-peers-check-fresh-'),
      hashPool: pool,
      port: null,
      discoveries: [discovery],
      signal: abort.signal,
    });
    session.on('check-done', () => (checkDone = true));
    await expect(session.run()).rejects.toBeInstanceOf(InterruptedError);
    expect(checkDoneAtDiscovery).toBe(false);
  });

  /**
   * A leecher with ON_DISK pieces on disk whose check's hashing is held until a
   * seeder has connected and unchoked it (bounded): from then on a request could
   * go out while the leecher does not yet know what it has.
   */
  async function downloadWithHeldCheck(options: { lateHavesLimit?: number } = {}) {
    const seedAbort = new AbortController();
    const seeder = new TorrentSession({
      meta,
      outDir: source,
      hashPool: pool,
      port: 0,
      readOnly: true,
      requireComplete: true,
      seedForever: true,
      signal: seedAbort.signal,
    });
    const seederPort = new Promise<number>((resolve) => seeder.once('listening', resolve));
    const seeding = seeder.run().catch((error: unknown) => error);

    const out = tempDir('shoal-peers-check-out-');
    await copyFile(path.join(source, 'data.bin'), path.join(out, 'data.bin'));
    await truncate(path.join(out, 'data.bin'), ON_DISK * PIECE);
    const leecherPool = new HashPool({ threads: 1 });
    const leecher = new TorrentSession({
      meta,
      outDir: out,
      hashPool: leecherPool,
      port: null,
      stallTimeoutMs: 20_000,
      discoveries: [staticPeers([{ host: '127.0.0.1', port: await seederPort }])],
      ...options,
    });
    let checkDone = false;
    let connectedDuringCheck = false;
    const disconnects: string[] = [];
    leecher.on('check-done', () => (checkDone = true));
    leecher.once('peer-connected', () => (connectedDuringCheck = !checkDone));
    leecher.on('peer-disconnected', ({ reason }) => disconnects.push(reason));
    const hashSources = leecherPool.hashSources.bind(leecherPool);
    vi.spyOn(leecherPool, 'hashSources').mockImplementation(async (...args) => {
      await until(
        () => leecher.peerInfo().some((peer) => !peer.choked),
        HOLD_BOUND_MS,
        () => 'no peer connected and unchoked us during the check',
      );
      return hashSources(...args);
    });
    try {
      const summary = await leecher.run();
      const same = (await readFile(path.join(out, 'data.bin'))).equals(
        await readFile(path.join(source, 'data.bin')),
      );
      return { summary, connectedDuringCheck, disconnects, same };
    } finally {
      vi.restoreAllMocks();
      seedAbort.abort();
      await seeding;
      await leecherPool.destroy();
    }
  }

  it('a download with data on disk asks a peer that connected during the check for none of it', async () => {
    const result = await downloadWithHeldCheck();
    expect(result.summary.status).toBe('complete');
    expect(result.connectedDuringCheck).toBe(true);
    // Every byte received was of a piece the check did not find: nothing on disk was asked for.
    expect(result.summary.downloaded).toBe((PIECES - ON_DISK) * PIECE);
    expect(result.same).toBe(true);
  }, 40_000);

  it('lets such a peer go when the check found more pieces than it would announce one by one', async () => {
    const result = await downloadWithHeldCheck({ lateHavesLimit: ON_DISK - 1 });
    expect(result.summary.status).toBe('complete');
    expect(result.connectedDuringCheck).toBe(true);
    expect(result.disconnects.some((reason) => /during the check/.test(reason))).toBe(true);
    // Found again (after the pool's redial backoff), it sent only what the check had not found.
    expect(result.summary.downloaded).toBe((PIECES - ON_DISK) * PIECE);
    expect(result.same).toBe(true);
  }, 40_000);
});
