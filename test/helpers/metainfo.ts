/** Metainfo for test data, made in-process (no CLI): createTorrent, then parse it back. */
import { createTorrent } from '../../src/core/create/build-torrent.ts';
import type { HashPool } from '../../src/core/hashing/pool.ts';
import { parseTorrent } from '../../src/core/metainfo/index.ts';
import type { Metainfo } from '../../src/core/metainfo/types.ts';

export async function metainfoOf(
  path: string,
  options: { version: 'v1' | 'v2' | 'hybrid'; pieceLength: number; pool: HashPool },
): Promise<Metainfo> {
  const created = await createTorrent({ path, creationDate: null, ...options });
  return parseTorrent(created.torrentBytes);
}
