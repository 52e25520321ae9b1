/**
 * A torrent named `.shoal` (shoal's state directory) is downloaded under
 * another name: it neither fails on the state directory nor writes into it.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTorrent } from '../../src/core/create/build-torrent.ts';
import { HashPool } from '../../src/core/hashing/pool.ts';
import { parseTorrent } from '../../src/core/metainfo/index.ts';
import { sessionFromPeer } from '../helpers/session.ts';
import { FakePeer, seeder } from '../hostile/fake-peer.ts';

const PIECE = 16 * 1024;
const root = mkdtempSync(join(tmpdir(), 'shoal-statedir-'));
const pool = new HashPool({ threads: 1 });

afterAll(async () => {
  await pool.destroy();
  rmSync(root, { recursive: true, force: true });
});

describe('a torrent named like the state directory', () => {
  it('is saved as ".shoal (1)" next to the real .shoal/', async () => {
    const data = randomBytes(5 * PIECE + 123);
    writeFileSync(join(root, '.shoal'), data);
    const made = await createTorrent({
      path: join(root, '.shoal'),
      version: 'v1',
      pieceLength: PIECE,
      creationDate: null,
      pool,
    });
    const meta = parseTorrent(made.torrentBytes);
    expect(meta.name).toBe('.shoal (1)');
    const source = await FakePeer.start(meta.infoHash!, seeder(data, PIECE));
    try {
      const out = join(root, 'out');
      const session = sessionFromPeer(meta, out, pool, source.port);
      await session.run();
      expect(readFileSync(join(out, '.shoal (1)')).equals(data)).toBe(true);
      // A complete download leaves no state behind, and nothing else was written.
      expect(readdirSync(out).sort()).toEqual(['.shoal (1)']);
    } finally {
      await source.stop();
    }
  });
});
