import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fingerprint } from '../../../src/core/hashing/fingerprint.ts';
import { HashPool } from '../../../src/core/hashing/pool.ts';
import type { Metainfo } from '../../../src/core/metainfo/types.ts';
import { PieceLayout } from '../../../src/core/storage/layout.ts';
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
    // v2-only torrents too: the worker fingerprints what it hashed with SHA-256 trees.
    const want = (i: number) => fingerprint(piece(i, i === 2));
    expect(verdicts.map((v) => v.print)).toEqual([0, 1, 2, 3].map(want));
    expect(new Set(verdicts.map((v) => v.print)).size).toBe(4);
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
    expect(pool.tasksRun.workers - before).toBe(1);
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

describe('PieceVerifier (v2, files ending inside a piece)', () => {
  it('hashes only the file bytes of each piece, a small file as its root, in one task with each fingerprint', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shoal-verifier-v2-'));
    const pool = new HashPool({ threads: 1 });
    try {
      // a: two and a half pieces (its last piece is followed by the alignment gap); b: under a piece.
      const contents = { a: randomBytes(PIECE * 2.5), b: randomBytes(1000) };
      mkdirSync(join(dir, 't'));
      for (const [name, bytes] of Object.entries(contents))
        writeFileSync(join(dir, 't', name), bytes);
      const meta = await metainfoOf(join(dir, 't'), { version: 'v2', pieceLength: PIECE, pool });
      const layout = new PieceLayout(meta);
      const piece = (index: number, corrupt = false): Uint8Array<SharedArrayBuffer> => {
        const view = new Uint8Array(new SharedArrayBuffer(layout.pieceSize(index)));
        let at = 0;
        for (const span of layout.fileSpans(index, 0)) {
          if (span.kind === 'data') {
            const name = meta.files[span.fileIndex]!.path.at(-1) as 'a' | 'b';
            view.set(contents[name].subarray(span.fileOffset, span.fileOffset + span.length), at);
          }
          at += span.length;
        }
        if (corrupt) view[10] ^= 1;
        return view;
      };
      expect(meta.pieceCount).toBe(4);
      const verifier = new PieceVerifier(meta, pool);
      await verifier.check(0, piece(0)); // the pool's first piece, on this thread
      await expect.poll(() => pool.warm, { timeout: 10_000 }).toBe(true);
      const before = pool.tasksRun.workers;
      const pieces = [0, 1, 2, 3, 3].map((index, i) => piece(index, i === 4));
      const verdicts = await Promise.all(
        pieces.map((data, i) => verifier.check(i === 4 ? 3 : i, data)),
      );
      expect(verdicts.map((v) => v.good)).toEqual([true, true, true, true, false]);
      expect(verdicts.map((v) => v.print)).toEqual(pieces.map((data) => fingerprint(data)));
      expect(pool.tasksRun.workers - before).toBe(1);
    } finally {
      await pool.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
