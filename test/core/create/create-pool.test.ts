import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHashPool } from '../../../src/core/create/create-pool.ts';

let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'shoal-create-pool-'));
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

async function workersFor(threads: number, input?: string): Promise<number> {
  const pool = createHashPool(threads, input);
  try {
    return pool.threads;
  } finally {
    await pool.destroy();
  }
}

describe("create's hash pool", () => {
  it('counts the calling thread as one of the hashing threads', async () => {
    expect(await workersFor(2)).toBe(1);
    expect(await workersFor(4)).toBe(3);
    expect(await workersFor(1)).toBe(0);
  });

  it('starts no worker for a small single file, and its workers for a directory or a large file', async () => {
    const small = join(root, 'small.bin');
    writeFileSync(small, 'x');
    const dir = join(root, 'dir');
    mkdirSync(dir);
    writeFileSync(join(dir, 'a'), 'x');
    const large = join(root, 'large.bin');
    // Sparse: the length is what counts, not the blocks on disk.
    writeFileSync(large, '');
    truncateSync(large, 64 * 1024 * 1024);
    expect(await workersFor(2, small)).toBe(0);
    expect(await workersFor(2, dir)).toBe(1);
    expect(await workersFor(2, large)).toBe(1);
    // A missing path is the walk's to report; the pool is made as for a directory.
    expect(await workersFor(2, join(root, 'missing'))).toBe(1);
  });
});
