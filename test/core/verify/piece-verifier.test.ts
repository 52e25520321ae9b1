import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fingerprint } from '../../../src/core/hashing/fingerprint.ts';
import { HashPool } from '../../../src/core/hashing/pool.ts';
import type { Metainfo } from '../../../src/core/metainfo/types.ts';
import { PieceVerifier } from '../../../src/core/verify/piece-verifier.ts';
import { metainfoOf } from '../../helpers/metainfo.ts';

const PIECE = 16384;

describe.each(['v1', 'v2'] as const)('PieceVerifier (%s)', (version) => {
  let dir: string;
  let data: Buffer;
  let meta: Metainfo;
  let pool: HashPool;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shoal-verifier-'));
    data = randomBytes(PIECE * 12);
    writeFileSync(join(dir, 'data.bin'), data);
    pool = new HashPool({ threads: 1 });
    meta = await metainfoOf(join(dir, 'data.bin'), { version, pieceLength: PIECE, pool });
  });
  afterAll(async () => {
    await pool.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Piece `index` in shared memory, with one byte flipped when `corrupt`. */
  function piece(index: number, corrupt = false): Uint8Array<SharedArrayBuffer> {
    const view = new Uint8Array(new SharedArrayBuffer(PIECE));
    view.set(data.subarray(index * PIECE, (index + 1) * PIECE));
    if (corrupt) view[100] ^= 1;
    return view;
  }

  it('answers every piece of a burst, the bad ones among them false', async () => {
    const verifier = new PieceVerifier(meta, pool);
    const bad = new Set([3, 7]);
    // All at once, as pieces completing in one tick: they are verified in batches.
    const verdicts = await Promise.all(
      Array.from({ length: 12 }, (_, i) => verifier.check(i, piece(i, bad.has(i)))),
    );
    expect(verdicts.map((v) => v.good)).toEqual(Array.from({ length: 12 }, (_, i) => !bad.has(i)));
  });

  it('gives each piece the fingerprint the resume state records, from the thread that hashed it', async () => {
    const verifier = new PieceVerifier(meta, pool);
    // A burst, so the pieces go to the worker as one batch and each print must land on its own piece.
    const verdicts = await Promise.all(
      [0, 1, 2, 3].map((i) => verifier.check(i, piece(i, i === 2))),
    );
    expect(verdicts.map((v) => v.good)).toEqual([true, true, false, true]);
    // v2-only torrents are hashed with SHA-256 trees: the caller fingerprints those itself.
    const want = (i: number) => (version === 'v1' ? fingerprint(piece(i, i === 2)) : null);
    expect(verdicts.map((v) => v.print)).toEqual([0, 1, 2, 3].map(want));
    expect(new Set(verdicts.map((v) => v.print)).size).toBe(version === 'v1' ? 4 : 1);
  });

  it('hands the pieces completed in one turn of the event loop to the worker as one task', async () => {
    const verifier = new PieceVerifier(meta, pool);
    await expect.poll(() => pool.warm, { timeout: 10_000 }).toBe(true);
    const before = pool.tasksRun.workers;
    // As pieces completed by different sockets' reads in one turn: some now, some a
    // few promise reactions later, none after a macrotask.
    const checks = [0, 1, 2].map((i) => verifier.check(i, piece(i)));
    await Promise.resolve();
    checks.push(...[3, 4, 5].map((i) => verifier.check(i, piece(i, i === 4))));
    const verdicts = await Promise.all(checks);
    expect(verdicts.map((v) => v.good)).toEqual([true, true, true, true, false, true]);
    // v2-only torrents hash each piece as a task of its own (SHA-256 trees, verifyRun).
    expect(pool.tasksRun.workers - before).toBe(version === 'v1' ? 1 : 6);
  });

  it('keeps answering after a burst', async () => {
    const verifier = new PieceVerifier(meta, pool);
    await Promise.all([verifier.check(0, piece(0)), verifier.check(1, piece(1))]);
    expect((await verifier.check(5, piece(5))).good).toBe(true);
    expect((await verifier.check(6, piece(5))).good).toBe(false);
  });

  it('checks pieces before the pool is warm, and uses the pool once it is', async () => {
    const cold = new HashPool({ threads: 1 });
    try {
      expect(cold.warm).toBe(false);
      const verifier = new PieceVerifier(meta, cold);
      // Asked at once, before any worker could answer: v1 pieces are checked right here.
      const early = [verifier.check(2, piece(2)), verifier.check(3, piece(3, true))];
      expect(cold.warm).toBe(false);
      expect((await Promise.all(early)).map((v) => v.good)).toEqual([true, false]);
      // The pool checked them on this thread (v2 pieces too), not on a worker.
      expect(cold.tasksRun.callingThread).toBeGreaterThan(0);
      // The verifier started the pool's worker; once it answered, the pool is warm.
      await expect.poll(() => cold.warm, { timeout: 10_000 }).toBe(true);
      expect((await verifier.check(4, piece(4))).good).toBe(true);
      expect((await verifier.check(4, piece(4, true))).good).toBe(false);
    } finally {
      await cold.destroy();
    }
  });
});
