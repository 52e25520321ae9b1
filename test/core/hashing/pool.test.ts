import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DiskError } from '../../../src/core/errors.ts';
import { fileMerkle, rootFromPieceLayer } from '../../../src/core/digest/merkle.ts';
import { HashPool, ReadStatus, type DiskFile } from '../../../src/core/hashing/pool.ts';
import { checkPiecesOnDisk, PieceStatus } from '../../../src/core/verify/piece-report.ts';
import type { Metainfo, TorrentFile } from '../../../src/core/metainfo/types.ts';

const KiB = 1024;
const sha1 = (d: Uint8Array): Buffer => createHash('sha1').update(d).digest();

function data(length: number, seed: number): Buffer {
  const buf = Buffer.alloc(length);
  for (let i = 0; i < length; i++) buf[i] = (i * 131 + seed * 17 + (i >> 9)) & 0xff;
  return buf;
}

let dir: string;
let pool: HashPool;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'shoal-hash-'));
  // Small batches so that even these small files span several tasks.
  pool = new HashPool({ threads: 2, batchBytes: 64 * KiB });
});

afterAll(async () => {
  await pool.destroy();
  rmSync(dir, { recursive: true, force: true });
});

/** Writes files back to back (with optional padding) and returns them with their concatenation. */
function layout(
  names: (string | { pad: number })[],
  lengths: number[],
): { files: DiskFile[]; space: Buffer } {
  const files: DiskFile[] = [];
  const parts: Buffer[] = [];
  let offset = 0;
  let li = 0;
  for (const name of names) {
    if (typeof name === 'object') {
      files.push({ path: '', length: name.pad, offset, padding: true });
      parts.push(Buffer.alloc(name.pad));
      offset += name.pad;
      continue;
    }
    const d = data(lengths[li]!, li + 1);
    li++;
    writeFileSync(join(dir, name), d);
    files.push({ path: join(dir, name), length: d.length, offset, padding: false });
    parts.push(d);
    offset += d.length;
  }
  return { files, space: Buffer.concat(parts) };
}

function expectedPieces(space: Buffer, pieceLength: number): Buffer {
  const out: Buffer[] = [];
  for (let at = 0; at < space.length; at += pieceLength)
    out.push(sha1(space.subarray(at, at + pieceLength)));
  return Buffer.concat(out);
}

/** One thread whose worker is ready only after two seconds; 16 KiB tasks. */
function slowStartPool(): HashPool {
  return new HashPool({
    threads: 1,
    batchBytes: 16 * KiB,
    workerFilename: new URL('../../helpers/slow-start-hash-worker.ts', import.meta.url).href,
  });
}

describe('HashPool', () => {
  it('hashes v1 pieces spanning files and padding, reporting progress', async () => {
    const pieceLength = 32 * KiB;
    const { files, space } = layout(['a', 'b', { pad: 1000 }, 'c', 'd'], [50_000, 3, 0, 200_001]);
    const progress: number[] = [];
    const pieceCount = Math.ceil(space.length / pieceLength);
    const result = await pool.hashV1Pieces(
      { pieceLength, pieceCount, spaceSize: space.length, files },
      { onProgress: (b) => progress.push(b) },
    );
    expect(Buffer.from(result.digests)).toEqual(expectedPieces(space, pieceLength));
    expect([...result.status].every((s) => s === ReadStatus.ok)).toBe(true);
    expect(progress.at(-1)).toBe(space.length);
    expect(progress).toEqual([...progress].sort((x, y) => x - y));
  });

  it('hashes whole files: SHA-1 from each file start (padded) and v2 merkle', async () => {
    const pieceLength = 32 * KiB;
    const { files } = layout(['f1', 'f2', 'f3', 'f4'], [100, 32 * KiB, 32 * KiB + 1, 300_000]);
    const results = await pool.hashFiles(
      files.map((f, i) => ({
        path: f.path,
        length: f.length,
        sha1: true,
        sha1PadLastPiece: i < 3,
        v2: true,
      })),
      pieceLength,
    );
    files.forEach((f, i) => {
      const d = data(f.length, i + 1);
      const expected = fileMerkle(d, pieceLength);
      const r = results[i]!;
      expect(r.status).toBe(ReadStatus.ok);
      const padded =
        i < 3
          ? Buffer.concat([d, Buffer.alloc((pieceLength - (d.length % pieceLength)) % pieceLength)])
          : d;
      expect(Buffer.from(r.sha1!)).toEqual(expectedPieces(padded, pieceLength));
      if (expected.pieceLayer) {
        expect(Buffer.from(r.pieceLayer!)).toEqual(Buffer.from(expected.pieceLayer));
        expect(rootFromPieceLayer(r.pieceLayer!, pieceLength)).toEqual(expected.root);
        expect(r.smallRoot).toBeNull();
      } else {
        expect(r.pieceLayer).toBeNull();
        expect(Buffer.from(r.smallRoot!)).toEqual(Buffer.from(expected.root!));
      }
    });
  });

  it('hashes transferred buffers without copying them', async () => {
    const a = data(40_000, 3);
    const b = data(7, 4);
    const buffer = new ArrayBuffer(a.length + b.length);
    new Uint8Array(buffer).set(a, 0);
    new Uint8Array(buffer).set(b, a.length);
    const digests = await pool.sha1Buffer(buffer, [a.length, b.length]);
    expect(buffer.byteLength).toBe(0); // moved to the worker
    expect(Buffer.from(digests)).toEqual(Buffer.concat([sha1(a), sha1(b)]));

    const pieceLength = 32 * KiB;
    const file = data(70_000, 5);
    const expected = fileMerkle(file, pieceLength);
    const buf2 = new Uint8Array(file.length - 2 * pieceLength + 10);
    buf2.set(file.subarray(2 * pieceLength), 0);
    buf2.set(data(10, 9), file.length - 2 * pieceLength);
    const hashes = await pool.sha256Buffer(buf2.buffer, pieceLength, [
      { length: file.length - 2 * pieceLength, mode: 'pieces' },
      { length: 10, mode: 'root' },
    ]);
    expect(Buffer.from(hashes.subarray(0, 32))).toEqual(
      Buffer.from(expected.pieceLayer!.subarray(64, 96)),
    );
    expect(Buffer.from(hashes.subarray(32))).toEqual(
      Buffer.from(fileMerkle(data(10, 9), pieceLength).root!),
    );
  });

  it('verifies a v1 torrent: good, bad (changed or short) and missing pieces', async () => {
    const pieceLength = 16 * KiB;
    const { files, space } = layout(['v1', 'v2', 'v3'], [40_000, 20_000, 30_000]);
    const meta = metainfo('v1', pieceLength, files, space, expectedPieces(space, pieceLength));
    const all = await checkPiecesOnDisk(pool, meta, '/');
    expect(all.good).toBe(meta.pieceCount);

    const changed = data(40_000, 1);
    changed[20_000] ^= 1; // piece 1
    writeFileSync(join(dir, 'v1'), changed);
    truncateSync(join(dir, 'v3'), 29_000); // last piece
    rmSync(join(dir, 'v2')); // bytes 40000..60000: pieces 2, 3
    const seen = new Map<number, number>();
    const report = await checkPiecesOnDisk(pool, meta, '/', { onPiece: (i, s) => seen.set(i, s) });
    expect([...report.pieces]).toEqual([
      PieceStatus.good,
      PieceStatus.bad,
      PieceStatus.missing,
      PieceStatus.missing,
      PieceStatus.good,
      PieceStatus.bad,
    ]);
    expect(seen.size).toBe(meta.pieceCount);
    expect(report).toMatchObject({ good: 2, bad: 2, missing: 2 });
  });

  it('verifies a v2 torrent against piece layers and small-file roots', async () => {
    const pieceLength = 16 * KiB;
    const { files } = layout(['w1', 'w2'], [50_000, 300]);
    // v2 piece space: every file starts on a piece boundary.
    files[1]!.offset = 4 * pieceLength;
    const space = Buffer.alloc(0);
    const meta = metainfo('v2', pieceLength, files, space, null);
    meta.spaceSize = 4 * pieceLength + 300;
    meta.pieceCount = 5;
    const big = fileMerkle(data(50_000, 1), pieceLength);
    const small = fileMerkle(data(300, 2), pieceLength);
    meta.files[0]!.piecesRoot = big.root;
    meta.files[1]!.piecesRoot = small.root;
    meta.pieceLayers.set(Buffer.from(big.root!).toString('hex'), big.pieceLayer!);
    expect((await checkPiecesOnDisk(pool, meta, '/')).good).toBe(5);

    const changed = data(50_000, 1);
    changed[20_000] ^= 0xff; // piece 1
    writeFileSync(join(dir, 'w1'), changed);
    rmSync(join(dir, 'w2'));
    const report = await checkPiecesOnDisk(pool, meta, '/');
    expect([...report.pieces]).toEqual([0, 1, 0, 0, 2]);
  });

  it('maps an unreadable file to a DiskError', async () => {
    const locked = join(dir, 'locked');
    mkdirSync(locked); // reading a directory fails with EISDIR, even as root
    const files: DiskFile[] = [{ path: locked, length: 1000, offset: 0, padding: false }];
    const run = pool.hashV1Pieces({ pieceLength: 16 * KiB, pieceCount: 1, spaceSize: 1000, files });
    await expect(run).rejects.toThrow(DiskError);
    await expect(run).rejects.toThrow(/cannot read .*locked: is a directory/);
    if (process.getuid?.() !== 0) {
      const { files: unreadable } = layout(['unreadable'], [1000]);
      chmodSync(unreadable[0]!.path, 0o000);
      const run2 = pool.hashV1Pieces({
        pieceLength: 16 * KiB,
        pieceCount: 1,
        spaceSize: 1000,
        files: unreadable,
      });
      await expect(run2).rejects.toThrow(/cannot open .*unreadable: permission denied/);
    }
  });

  it('hashes on the calling thread while no worker has started, then leaves the work to the workers', async () => {
    const slow = slowStartPool();
    try {
      const pieceLength = 16 * KiB;
      const { files, space } = layout(['s1', 's2', 's3'], [100_000, 7, 160_000]);
      const pieceCount = Math.ceil(space.length / pieceLength);
      const result = await slow.hashV1Pieces({
        pieceLength,
        pieceCount,
        spaceSize: space.length,
        files,
      });
      expect(Buffer.from(result.digests)).toEqual(expectedPieces(space, pieceLength));
      // Nothing waited for the worker (it starts in 2 s): this thread did every task, none
      // was left queued for a thread that had not started.
      expect(slow.tasksRun).toEqual({ callingThread: pieceCount, workers: 0 });
      // Meanwhile the pool was started; once its worker answers, the pool is warm.
      await vi.waitFor(() => expect(slow.warm).toBe(true), { timeout: 30_000, interval: 50 });

      // A warm pool hands everything to its workers.
      const again = await slow.hashSources(
        [[{ path: files[0]!.path, position: 0, length: 100_000 }]],
        'sha1',
      );
      expect(Buffer.from(again.sha1)).toEqual(sha1(space.subarray(0, 100_000)));
      expect(slow.tasksRun).toEqual({ callingThread: pieceCount, workers: 1 });
    } finally {
      await slow.destroy();
    }
  });

  it('starts no worker thread before its first task, and none for a job with nothing to hash', async () => {
    const lazy = new HashPool({ threads: 1 });
    try {
      // A download makes its pool before it reads its torrent: no thread may start yet.
      expect(lazy.workersStarted).toBe(false);
      // An existing-data check that finds nothing on disk hashes nothing.
      const none = await lazy.hashSources([], 'both');
      expect(none.status.length).toBe(0);
      expect(lazy.workersStarted).toBe(false);
      // The first real job starts one and runs meanwhile on this thread.
      const { files, space } = layout(['lazy1'], [40_000]);
      const result = await lazy.hashV1Pieces({
        pieceLength: 16 * KiB,
        pieceCount: 3,
        spaceSize: space.length,
        files,
      });
      expect(Buffer.from(result.digests)).toEqual(expectedPieces(space, 16 * KiB));
      expect(lazy.workersStarted).toBe(true);
    } finally {
      await lazy.destroy();
    }
  });

  it('starts every thread at once with startAllThreads (create)', async () => {
    const eager = new HashPool({ threads: 2, startAllThreads: true, callingThreadHashes: true });
    try {
      expect(eager.workersStarted).toBe(true);
    } finally {
      await eager.destroy();
    }
  });

  it('with callingThreadHashes, keeps hashing on the calling thread once the workers answer', async () => {
    const sharing = new HashPool({
      threads: 1,
      batchBytes: 16 * KiB,
      workerFilename: new URL('../../helpers/slow-start-hash-worker.ts', import.meta.url).href,
      callingThreadHashes: true,
    });
    try {
      const pieceLength = 16 * KiB;
      const { files, space } = layout(['w1', 'w2'], [150_000, 90_001]);
      const pieceCount = Math.ceil(space.length / pieceLength);
      const input = { pieceLength, pieceCount, spaceSize: space.length, files };
      await sharing.hashV1Pieces(input);
      await vi.waitFor(() => expect(sharing.warm).toBe(true), { timeout: 30_000, interval: 50 });
      const before = sharing.tasksRun;
      const result = await sharing.hashV1Pieces(input);
      expect(Buffer.from(result.digests)).toEqual(expectedPieces(space, pieceLength));
      const after = sharing.tasksRun;
      // The worker's window holds two tasks; this thread took the others as the job went.
      expect(after.callingThread - before.callingThread).toBeGreaterThan(0);
      expect(after.workers - before.workers).toBeGreaterThan(0);
      expect(after.callingThread - before.callingThread + after.workers - before.workers).toBe(
        pieceCount,
      );
    } finally {
      await sharing.destroy();
    }
  });

  it('with callingThreadHashes and no workers, hashes every job on the calling thread', async () => {
    const alone = new HashPool({ threads: 0, callingThreadHashes: true });
    try {
      const pieceLength = 16 * KiB;
      const { files, space } = layout(['z1', 'z2'], [70_000, 5]);
      const pieceCount = Math.ceil(space.length / pieceLength);
      const v1 = await alone.hashV1Pieces({
        pieceLength,
        pieceCount,
        spaceSize: space.length,
        files,
      });
      expect(Buffer.from(v1.digests)).toEqual(expectedPieces(space, pieceLength));
      const perFile = await alone.hashFiles(
        [{ path: files[0]!.path, length: 70_000, sha1: true, sha1PadLastPiece: false, v2: true }],
        pieceLength,
      );
      expect(rootFromPieceLayer(perFile[0]!.pieceLayer!, pieceLength)).toEqual(
        fileMerkle(space.subarray(0, 70_000), pieceLength).root,
      );
      expect(alone.tasksRun.workers).toBe(0);
      expect(alone.warm).toBe(false);
    } finally {
      await alone.destroy();
    }
    expect(() => new HashPool({ threads: 0 })).toThrow(RangeError);
  });

  it('reports a file-system failure met on the calling thread as a DiskError', async () => {
    const slow = slowStartPool();
    try {
      const pieceLength = 16 * KiB;
      const { files } = layout(['t1'], [3 * pieceLength]);
      const directory = join(dir, 'a-directory');
      mkdirSync(directory);
      // Pieces 0-1 go to the (slow) worker; 2-3 are read here, and piece 3 is a directory.
      files.push({ path: directory, length: pieceLength, offset: 3 * pieceLength, padding: false });
      const run = slow.hashV1Pieces({
        pieceLength,
        pieceCount: 4,
        spaceSize: 4 * pieceLength,
        files,
      });
      await expect(run).rejects.toThrow(/cannot read .*a-directory: is a directory/);
    } finally {
      await slow.destroy();
    }
  });

  it('rejects work after destroy', async () => {
    const p = new HashPool({ threads: 1 });
    await p.destroy();
    await expect(p.sha1Buffer(new ArrayBuffer(1), [1])).rejects.toThrow(/closed/);
  });
});

function metainfo(
  version: 'v1' | 'v2',
  pieceLength: number,
  disk: DiskFile[],
  space: Buffer,
  pieces: Buffer | null,
): Metainfo {
  const files: TorrentFile[] = disk.map((f) => ({
    path: f.padding ? ['.pad', String(f.length)] : f.path.split('/'),
    length: f.length,
    offset: f.offset,
    padding: f.padding,
    attr: f.padding ? 'p' : '',
    piecesRoot: null,
  }));
  return {
    name: 'x',
    infoHash: null,
    infoHashV2: null,
    version,
    multiFile: true,
    pieceLength,
    pieceCount: Math.ceil(space.length / pieceLength),
    totalSize: space.length,
    spaceSize: space.length,
    private: false,
    files,
    pieces,
    pieceLayers: new Map(),
    trackers: [],
    webSeeds: [],
    comment: null,
    createdBy: null,
    creationDate: null,
    source: null,
    infoBytes: new Uint8Array(0),
  };
}
