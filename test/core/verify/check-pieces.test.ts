import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  writeFileSync,
  writeSync,
  closeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { HashPool } from '../../../src/core/hashing/pool.ts';
import { metainfoOf } from '../../helpers/metainfo.ts';
import type { Metainfo } from '../../../src/core/metainfo/types.ts';
import { checkPieces } from '../../../src/core/verify/check-pieces.ts';
import { DiskStorage } from '../../../src/core/storage/disk-storage.ts';

// The resume key (read by this thread and the hash workers, which copy the
// environment when they start) goes to a temporary state dir, not the real home.
process.env.XDG_STATE_HOME = mkdtempSync(join(tmpdir(), 'shoal-state-'));

describe.each(['v1', 'hybrid', 'v2'] as const)('checkPieces (%s)', (version) => {
  let dir: string;
  let meta: Metainfo;
  let pool: HashPool;
  const storageFor = () =>
    new DiskStorage({ ...meta, infoHashHex: 'ab'.repeat(20) }, { outDir: dir });
  const all = () => Array.from({ length: meta.pieceCount }, (_, i) => i);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shoal-check-'));
    mkdirSync(join(dir, 'data', 'sub'), { recursive: true });
    writeFileSync(join(dir, 'data', 'a.bin'), randomBytes(100_000));
    writeFileSync(join(dir, 'data', 'sub', 'b.bin'), randomBytes(70_000));
    pool = new HashPool({ threads: 2 });
    meta = await metainfoOf(join(dir, 'data'), { version, pieceLength: 16384, pool });
  });
  afterAll(async () => {
    await pool.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds every piece by SHA-1 when there is no resume state, with fingerprints', async () => {
    const found = await checkPieces({
      meta,
      storage: storageFor(),
      pool,
      wanted: all(),
      claimed: null,
    });
    expect(found.size).toBe(meta.pieceCount);
    const again = await checkPieces({
      meta,
      storage: storageFor(),
      pool,
      wanted: all(),
      claimed: found,
    });
    expect(again).toEqual(found);
  });

  it('trusts only what the fingerprints confirm and re-hashes the rest', async () => {
    const found = await checkPieces({
      meta,
      storage: storageFor(),
      pool,
      wanted: all(),
      claimed: null,
    });
    const claimed = new Map(found);
    claimed.set(1, 12345n); // stale fingerprint: falls back to SHA-1, which passes
    claimed.delete(2); // unclaimed: not read at all
    const result = await checkPieces({ meta, storage: storageFor(), pool, wanted: all(), claimed });
    expect(result.has(1)).toBe(true);
    expect(result.has(2)).toBe(false);
    expect(result.size).toBe(meta.pieceCount - 1);

    // Damage piece 0 on disk: its fingerprint and its SHA-1 both fail.
    const fd = openSync(join(dir, 'data', 'a.bin'), 'r+');
    writeSync(fd, Buffer.from([0xff, 0x00, 0xff]), 0, 3, 10);
    closeSync(fd);
    const damaged = await checkPieces({
      meta,
      storage: storageFor(),
      pool,
      wanted: all(),
      claimed: found,
    });
    expect(damaged.has(0)).toBe(false);
    expect(damaged.size).toBe(meta.pieceCount - 1);
  });
});
