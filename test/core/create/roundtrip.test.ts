import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTorrent } from '../../../src/core/create/build-torrent.ts';
import { HashPool } from '../../../src/core/hashing/pool.ts';
import { checkPiecesOnDisk, PieceStatus } from '../../../src/core/verify/piece-report.ts';
import { parseTorrent, type TorrentVersion } from '../../../src/core/metainfo/index.ts';

const KiB = 1024;
let root: string;
let pool: HashPool;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'shoal-roundtrip-'));
  pool = new HashPool({ threads: 2, batchBytes: 64 * KiB });
});

afterAll(async () => {
  await pool.destroy();
  rmSync(root, { recursive: true, force: true });
});

function fill(length: number, seed: number): Buffer {
  const buf = Buffer.alloc(length);
  for (let i = 0; i < length; i++) buf[i] = (i * 7 + seed * 13 + (i >> 11)) & 0xff;
  return buf;
}

describe('create -> parse -> verify', () => {
  it.each<TorrentVersion>(['v1', 'v2', 'hybrid'])(
    '%s: the parsed torrent verifies, then catches damage',
    async (version) => {
      const base = join(root, version);
      const files: Record<string, number> = {
        'd/a': 40_000,
        'd/b/empty': 0,
        'd/b/c': 16 * KiB,
        'd/e': 5,
      };
      let seed = 1;
      for (const [rel, length] of Object.entries(files)) {
        mkdirSync(dirname(join(base, rel)), { recursive: true });
        writeFileSync(join(base, rel), fill(length, seed++));
      }
      const created = await createTorrent({
        path: join(base, 'd'),
        version,
        pieceLength: 16 * KiB,
        creationDate: null,
        pool,
      });
      const meta = parseTorrent(created.torrentBytes);
      expect(meta.version).toBe(version);
      expect(meta.pieceCount).toBe(created.pieceCount);
      expect(meta.totalSize).toBe(created.totalSize);
      expect(Buffer.from(meta.infoBytes).equals(Buffer.from(created.infoBytes))).toBe(true);

      const clean = await checkPiecesOnDisk(pool, meta, base);
      expect(clean).toMatchObject({ good: meta.pieceCount, bad: 0, missing: 0 });

      const damaged = fill(40_000, 1);
      damaged[17_000] ^= 1; // second piece of d/a
      writeFileSync(join(base, 'd/a'), damaged);
      rmSync(join(base, 'd/e'));
      const report = await checkPiecesOnDisk(pool, meta, base);
      expect(report.pieces[1]).toBe(PieceStatus.bad);
      expect(report.pieces[meta.pieceCount - 1]).toBe(PieceStatus.missing);
      expect(report.good).toBe(meta.pieceCount - 2);
    },
  );
});
