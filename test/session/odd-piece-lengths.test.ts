/**
 * v1 torrents may have any piece length (BEP 3 does not require a power of
 * two, and libtorrent and transmission accept them all). Pieces that do not
 * end on a 16 KiB block, and pieces of a few bytes (each still gets a
 * page-sized buffer), download byte-exact.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeBencode } from '../../src/core/bencode/index.ts';
import { HashPool } from '../../src/core/hashing/pool.ts';
import { parseTorrent } from '../../src/core/metainfo/index.ts';
import { sessionFromPeer } from '../helpers/session.ts';
import { FakePeer, seeder } from '../hostile/fake-peer.ts';

const root = mkdtempSync(join(tmpdir(), 'shoal-oddpieces-'));
const pool = new HashPool({ threads: 1 });

afterAll(async () => {
  await pool.destroy();
  rmSync(root, { recursive: true, force: true });
});

function torrentOf(data: Buffer, pieceLength: number): Uint8Array {
  const hashes: Buffer[] = [];
  for (let at = 0; at < data.length; at += pieceLength)
    hashes.push(
      createHash('sha1')
        .update(data.subarray(at, at + pieceLength))
        .digest(),
    );
  return encodeBencode({
    info: {
      name: new TextEncoder().encode('odd.bin'),
      length: data.length,
      'piece length': pieceLength,
      pieces: Buffer.concat(hashes),
    },
  });
}

describe('v1 piece lengths that are not powers of two', () => {
  it.each([
    [100_000, 1_000_003],
    [5000, 60_001],
    [3, 301],
  ])('piece length %d: a %d-byte file arrives byte-exact', async (pieceLength, size) => {
    const data = randomBytes(size);
    const meta = parseTorrent(torrentOf(data, pieceLength));
    expect(meta.pieceLength).toBe(pieceLength);
    const source = await FakePeer.start(meta.infoHash!, seeder(data, pieceLength));
    try {
      const out = join(root, `out-${pieceLength}`);
      await sessionFromPeer(meta, out, pool, source.port).run();
      expect(readFileSync(join(out, 'odd.bin')).equals(data)).toBe(true);
    } finally {
      await source.stop();
    }
  });
});
