/**
 * A download whose existing-data check finds every piece: its trackers were
 * told `started` with left=<size> while the check ran (peers are looked for
 * meanwhile), so once it turns to seeding it tells them left=0 at once, with
 * no event (BEP 3 sends `completed` only for a download that completed),
 * instead of at the next regular announce half an hour later. An HTTP
 * tracker written here records every announce.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trackerDiscovery } from '../../src/core/discovery/tracker-discovery.ts';
import { HashPool } from '../../src/core/hashing/pool.ts';
import type { Metainfo } from '../../src/core/metainfo/types.ts';
import { TorrentSession } from '../../src/core/session/torrent-session.ts';
import { startHttpTracker, type HttpTrackerHandle } from '../core/tracker/fake-trackers.ts';
import { cleanupTempDirs, makeTree, tempDir } from '../helpers/files.ts';
import { metainfoOf } from '../helpers/metainfo.ts';
import { until } from '../helpers/swarm.ts';

cleanupTempDirs();

const SIZE = 24 * 1024 * 1024;

let pool: HashPool;
let root: string;
let meta: Metainfo;
let tracker: HttpTrackerHandle;

beforeAll(async () => {
  pool = new HashPool({ threads: 1 });
  root = tempDir('shoal-check-announce-');
  await makeTree(root, [{ path: 'data.bin', size: SIZE }]);
  meta = await metainfoOf(path.join(root, 'data.bin'), {
    version: 'v1',
    pieceLength: 256 * 1024,
    pool,
  });
  tracker = await startHttpTracker();
  // No regular announce comes during the test, nor one asking for more peers (the min interval).
  tracker.announceBody = {
    interval: 1800,
    'min interval': 1800,
    complete: 0,
    incomplete: 0,
    peers: Buffer.alloc(0),
  };
}, 60_000);

afterAll(async () => {
  await tracker?.close();
  await pool?.destroy();
});

describe('the existing-data check finds every piece', () => {
  it('tells the trackers left=0 at once, without event=completed', async () => {
    const announces = () =>
      tracker.requests
        .filter((r) => r.path === '/announce')
        .map((r) => ({
          event: r.query.get('event')?.toString() ?? '',
          left: Number(r.query.get('left')!.toString()),
        }));
    const session = new TorrentSession({
      meta,
      outDir: root,
      hashPool: pool,
      port: null,
      seedForever: true,
      discoveries: [trackerDiscovery([[`${tracker.base}/announce`]])],
    });
    const running = session.run().catch(() => {});
    try {
      await new Promise<void>((resolve) =>
        session.on('phase', (p) => p === 'seeding' && resolve()),
      );
      const describe = () => JSON.stringify(announces());
      await until(() => announces().some((a) => a.left === 0), 30_000, describe);
      const [started, ...rest] = announces();
      // The started announce went out during the check, before it found the data.
      expect(started, describe()).toEqual({ event: 'started', left: SIZE });
      expect(rest, describe()).toEqual([{ event: '', left: 0 }]);
    } finally {
      await session.interrupt();
      await running;
    }
  }, 60_000);
});
