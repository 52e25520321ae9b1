/**
 * A download's pool (sharedOnCallingThread): received pieces, which sit in
 * shared memory, are hashed on the calling thread and start no worker thread
 * (a worker cost a download ~18 MiB of peak RSS and more CPU than it saved);
 * a check of data on disk still starts and uses the workers.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HashPool } from '../../../src/core/hashing/pool.ts';

const KiB = 1024;
const sha1 = (data: Uint8Array): Buffer => createHash('sha1').update(data).digest();

function sharedPiece(length: number, seed: number): Uint8Array<SharedArrayBuffer> {
  const piece = new Uint8Array(new SharedArrayBuffer(length));
  for (let i = 0; i < length; i++) piece[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return piece;
}

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'shoal-shared-hash-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('HashPool with sharedOnCallingThread', () => {
  it('hashes shared pieces on the calling thread and starts no worker for them', async () => {
    const pool = new HashPool({ threads: 1, sharedOnCallingThread: true });
    try {
      // Batches one event-loop turn apart, as a download's pieces arrive: a pool without the
      // option starts its worker after the first batch and hands it the later ones.
      const batches = 40;
      for (let batch = 0; batch < batches; batch++) {
        const pieces = [sharedPiece(16 * KiB, batch), sharedPiece(16 * KiB + 5, batch + 1000)];
        const digests = await pool.sha1SharedPieces(pieces);
        expect(Buffer.from(digests)).toEqual(Buffer.concat(pieces.map(sha1)));
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(pool.tasksRun).toEqual({ callingThread: batches, workers: 0 });
      expect(pool.workersStarted).toBe(false);
    } finally {
      await pool.destroy();
    }
  });

  it('sends the pieces to a worker once the calling thread has spent its share of time on them', async () => {
    // A share of zero and a 1 ms burst: the first task spends the budget, so the
    // later ones go to the pool, as a download too fast for the main thread's share does.
    const pool = new HashPool({ threads: 1, sharedOnCallingThread: { share: 0, burstMs: 1 } });
    try {
      // Until the worker (started by the first task over the budget) has booted and
      // taken pieces; a bounded number of batches either way.
      for (let batch = 0; batch < 400 && pool.tasksRun.workers < 3; batch++) {
        const pieces = [sharedPiece(64 * KiB, batch)];
        const digests = await pool.sha1SharedPieces(pieces);
        expect(Buffer.from(digests)).toEqual(Buffer.concat(pieces.map(sha1)));
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(pool.workersStarted).toBe(true);
      expect(pool.tasksRun.workers).toBeGreaterThanOrEqual(3);
    } finally {
      await pool.destroy();
    }
  });

  it('still starts a worker for a check of data on disk', async () => {
    const pool = new HashPool({ threads: 1, sharedOnCallingThread: true });
    try {
      const content = sharedPiece(40 * KiB, 3);
      const path = join(dir, 'on-disk');
      writeFileSync(path, content);
      const result = await pool.hashSources(
        [[{ path, position: 0, length: content.length }]],
        'sha1',
      );
      expect(Buffer.from(result.sha1)).toEqual(sha1(content));
      expect(pool.workersStarted).toBe(true);
    } finally {
      await pool.destroy();
    }
  });
});
