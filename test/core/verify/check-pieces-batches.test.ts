/**
 * The existing-data check runs in batches of pieces, so its memory stays flat
 * however many pieces a torrent has. These tests make the batches tiny and
 * check that the answer is the same as one large batch's across every batch
 * boundary (good, damaged, missing, claimed, stale and unclaimed pieces), that
 * no hashing call ever gets more than a batch, that progress adds up, and that
 * a cancel in the middle stops it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fingerprint } from '../../../src/core/hashing/fingerprint.ts';
import { HashPool } from '../../../src/core/hashing/pool.ts';
import { metainfoOf } from '../../helpers/metainfo.ts';
import type { Metainfo } from '../../../src/core/metainfo/types.ts';
import { checkPieces, type CheckPiecesInput } from '../../../src/core/verify/check-pieces.ts';
import { DiskStorage } from '../../../src/core/storage/disk-storage.ts';
import type { ClaimedPieces } from '../../../src/core/resume/resume-store.ts';

// The resume key (read by this thread and the hash workers, which copy the
// environment when they start) goes to a temporary state dir, not the real home.
process.env.XDG_STATE_HOME = mkdtempSync(join(tmpdir(), 'shoal-state-'));

const PIECE = 16384;

/** Pieces asked of the pool per hashSources call, recorded by wrapping the pool. */
function countingPool(pool: HashPool): { pool: HashPool; calls: number[]; algorithms: string[] } {
  const calls: number[] = [];
  const algorithms: string[] = [];
  const counting = Object.create(pool) as HashPool;
  counting.hashSources = (pieces, algorithm, options) => {
    calls.push(pieces.length);
    algorithms.push(algorithm);
    return pool.hashSources(pieces, algorithm, options);
  };
  return { pool: counting, calls, algorithms };
}

const sorted = (found: ClaimedPieces) => [...found].sort((a, b) => a[0] - b[0]);

describe.each(['v1', 'hybrid', 'v2'] as const)('checkPieces in batches (%s)', (version) => {
  let dir: string;
  let meta: Metainfo;
  let pool: HashPool;
  let all: number[];
  const input = (claimed: ClaimedPieces | null, batchPieces?: number): CheckPiecesInput => ({
    meta,
    storage: new DiskStorage({ ...meta, infoHashHex: 'ab'.repeat(20) }, { outDir: dir }),
    pool,
    wanted: all,
    claimed,
    batchPieces,
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shoal-check-batches-'));
    mkdirSync(join(dir, 'data', 'sub'), { recursive: true });
    writeFileSync(join(dir, 'data', 'a.bin'), randomBytes(10 * PIECE + 5000));
    writeFileSync(join(dir, 'data', 'sub', 'b.bin'), randomBytes(8 * PIECE + 300));
    writeFileSync(join(dir, 'data', 'sub', 'c.bin'), randomBytes(3 * PIECE));
    pool = new HashPool({ threads: 2 });
    meta = await metainfoOf(join(dir, 'data'), { version, pieceLength: PIECE, pool });
    all = Array.from({ length: meta.pieceCount }, (_, i) => i);
    // Damage a byte in a.bin's 4th piece and cut c.bin short: bad and missing pieces
    // in the middle of the torrent, so they fall inside batches, not only at their ends.
    const fd = openSync(join(dir, 'data', 'a.bin'), 'r+');
    const byte = Buffer.alloc(1);
    readSync(fd, byte, 0, 1, 3 * PIECE + 7);
    writeSync(fd, Buffer.from([byte[0]! ^ 0xff]), 0, 1, 3 * PIECE + 7);
    closeSync(fd);
    truncateSync(join(dir, 'data', 'sub', 'c.bin'), PIECE + 10);
  });
  afterAll(async () => {
    await pool.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds the same pieces and fingerprints with batches of 1, 2 and 5 pieces as in one batch', async () => {
    const whole = await checkPieces(input(null, meta.pieceCount));
    // Some pieces are good, some are not: the comparison means something.
    expect(whole.size).toBeGreaterThan(meta.pieceCount / 2);
    expect(whole.size).toBeLessThan(meta.pieceCount);
    for (const batchPieces of [1, 2, 5]) {
      const batched = await checkPieces(input(null, batchPieces));
      expect(sorted(batched)).toEqual(sorted(whole));
    }

    // With resume state: a stale fingerprint falls back to SHA-1, an unclaimed piece is not read.
    const claimed = new Map(whole);
    const [stale, unclaimed] = [...whole.keys()].filter((index) => index > 2);
    claimed.set(stale!, 12345n);
    claimed.delete(unclaimed!);
    const wholeResumed = await checkPieces(input(claimed, meta.pieceCount));
    expect(wholeResumed.has(stale!)).toBe(true);
    expect(wholeResumed.has(unclaimed!)).toBe(false);
    for (const batchPieces of [1, 3]) {
      const batched = await checkPieces(input(claimed, batchPieces));
      expect(sorted(batched)).toEqual(sorted(wholeResumed));
    }
  });

  it('reports progress that only grows and ends at the total', async () => {
    const seen: [number, number][] = [];
    await checkPieces({ ...input(null, 2), onProgress: (done, total) => seen.push([done, total]) });
    expect(seen.length).toBeGreaterThan(2);
    for (let i = 1; i < seen.length; i++)
      expect(seen[i]![0]).toBeGreaterThanOrEqual(seen[i - 1]![0]);
    for (const [done, total] of seen) expect(done).toBeLessThanOrEqual(total);
    const [done, total] = seen[seen.length - 1]!;
    expect(done).toBe(total);
    expect(total).toBeGreaterThan(0);
  });
});

describe('checkPieces batch bounds', () => {
  let dir: string;
  let meta: Metainfo;
  let pool: HashPool;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shoal-check-bounds-'));
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data', 'big.bin'), randomBytes(40 * PIECE));
    pool = new HashPool({ threads: 2 });
    meta = await metainfoOf(join(dir, 'data', 'big.bin'), {
      version: 'v1',
      pieceLength: PIECE,
      pool,
    });
  });
  afterAll(async () => {
    await pool.destroy();
    rmSync(dir, { recursive: true, force: true });
  });
  const base = () => ({
    meta,
    storage: new DiskStorage(
      { ...meta, infoHashHex: 'cd'.repeat(20) },
      { outDir: join(dir, 'data') },
    ),
    wanted: Array.from({ length: meta.pieceCount }, (_, i) => i),
  });

  it('never hands the hash pool more than a batch of pieces at once', async () => {
    const counting = countingPool(pool);
    const found = await checkPieces({
      ...base(),
      pool: counting.pool,
      claimed: null,
      batchPieces: 7,
    });
    expect(found.size).toBe(40);
    expect(Math.max(...counting.calls)).toBeLessThanOrEqual(7);
    expect(counting.calls.reduce((a, b) => a + b, 0)).toBe(40);

    const byPrint = countingPool(pool);
    const again = await checkPieces({
      ...base(),
      pool: byPrint.pool,
      claimed: found,
      batchPieces: 7,
    });
    expect(sorted(again)).toEqual(sorted(found));
    expect(Math.max(...byPrint.calls)).toBeLessThanOrEqual(7);
  });

  it('gives each piece the fingerprint of its own bytes, many pieces to a hashing task', async () => {
    const data = readFileSync(join(dir, 'data', 'big.bin'));
    const printOf = (index: number) =>
      fingerprint(data.subarray(index * PIECE, (index + 1) * PIECE));
    const found = await checkPieces({ ...base(), pool, claimed: null });
    expect(found.size).toBe(40);
    for (const [index, print] of found) expect(print).toBe(printOf(index));
    // The resume check (fingerprints only) trusts them all: nothing falls back to SHA-1.
    const counting = countingPool(pool);
    const again = await checkPieces({ ...base(), pool: counting.pool, claimed: found });
    expect(sorted(again)).toEqual(sorted(found));
    expect(counting.algorithms).toEqual(['xxh64']);
  });

  it('stops when cancelled in the middle: rejects with the reason and starts no new batch', async () => {
    const counting = countingPool(pool);
    const abort = new AbortController();
    let callsAtAbort = -1;
    const check = checkPieces({
      ...base(),
      pool: counting.pool,
      claimed: null,
      batchPieces: 2,
      signal: abort.signal,
      onProgress: () => {
        if (callsAtAbort >= 0) return;
        callsAtAbort = counting.calls.length;
        abort.abort(new Error('stopped by the test'));
      },
    });
    await expect(check).rejects.toThrow('stopped by the test');
    expect(callsAtAbort).toBeGreaterThan(0);
    // Batches already started may finish their call; none begins after the abort.
    expect(counting.calls.length).toBe(callsAtAbort);
    expect(counting.calls.length).toBeLessThan(20);
  });
});
