/**
 * A download's hash worker starts only after its first piece (hashing/task-runner.ts):
 * every piece is still judged right, on the calling thread until the worker answers
 * and on the worker after, and a bad piece is caught on either.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { HashPool } from '../../../src/core/hashing/pool.ts';
import type { Metainfo } from '../../../src/core/metainfo/types.ts';
import { PieceVerifier } from '../../../src/core/verify/piece-verifier.ts';
import { metainfoOf } from '../../helpers/metainfo.ts';

const PIECE = 16384;
const PIECES = 12;

describe.each(['v1', 'v2'] as const)(
  'PieceVerifier with a worker that starts late (%s)',
  (version) => {
    let dir: string;
    let data: Buffer;
    let meta: Metainfo;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'shoal-late-worker-'));
      data = randomBytes(PIECE * PIECES);
      writeFileSync(join(dir, 'data.bin'), data);
      const maker = new HashPool({ threads: 1 });
      try {
        meta = await metainfoOf(join(dir, 'data.bin'), {
          version,
          pieceLength: PIECE,
          pool: maker,
        });
      } finally {
        await maker.destroy();
      }
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    function piece(index: number, corrupt: boolean): Uint8Array<SharedArrayBuffer> {
      const view = new Uint8Array(new SharedArrayBuffer(PIECE));
      view.set(data.subarray(index * PIECE, (index + 1) * PIECE));
      if (corrupt) view[PIECE - 1] ^= 0x80;
      return view;
    }

    it('starts the worker after the first piece, not with the verifier, and judges every piece', async () => {
      // The real worker, ready only after two seconds (a slow start on a busy machine).
      const pool = new HashPool({
        threads: 1,
        workerFilename: new URL('../../helpers/slow-start-hash-worker.ts', import.meta.url).href,
      });
      try {
        const verifier = new PieceVerifier(meta, pool);
        // Made with the session, before the torrent's first piece: no thread competes yet.
        expect(pool.workersStarted).toBe(false);

        // While the worker starts: pieces one at a time, as a download's first ones arrive.
        const bad = new Set([1, 4, 9]);
        const early: boolean[] = [];
        for (let i = 0; i < 6; i++)
          early.push((await verifier.check(i, piece(i, bad.has(i)))).good);
        expect(early).toEqual([0, 1, 2, 3, 4, 5].map((i) => !bad.has(i)));
        expect(pool.workersStarted).toBe(true);
        expect(pool.tasksRun.workers).toBe(0);

        // Once it answers, the rest go to the worker, and a bad one is still caught there.
        await vi.waitFor(() => expect(pool.warm).toBe(true), { timeout: 30_000, interval: 50 });
        const late = await Promise.all(
          [6, 7, 8, 9, 10, 11].map((i) => verifier.check(i, piece(i, bad.has(i)))),
        );
        expect(late).toEqual(
          [6, 7, 8, 9, 10, 11].map((i) => expect.objectContaining({ good: !bad.has(i) })),
        );
        expect(pool.tasksRun.workers).toBeGreaterThan(0);
      } finally {
        await pool.destroy();
      }
    });
  },
);
