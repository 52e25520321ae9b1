/** In-process downloads for session tests: one TorrentSession fed a single peer on 127.0.0.1. */
import type { HashPool } from '../../src/core/hashing/pool.ts';
import type { Metainfo } from '../../src/core/metainfo/types.ts';
import { staticPeers } from '../../src/core/discovery/discovery.ts';
import { TorrentSession } from '../../src/core/session/torrent-session.ts';

export function sessionFromPeer(
  meta: Metainfo,
  outDir: string,
  pool: HashPool,
  peerPort: number,
): TorrentSession {
  return new TorrentSession({
    meta,
    outDir,
    hashPool: pool,
    port: 0,
    stallTimeoutMs: 20_000,
    discoveries: [staticPeers([{ host: '127.0.0.1', port: peerPort }])],
  });
}
