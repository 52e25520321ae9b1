/**
 * Verified pieces in page-aligned memory go to disk with direct I/O (no page
 * cache), and only where the file position lines up; the rest of a span takes
 * the ordinary path. `fincore` (util-linux) tells which pages are cached.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DiskStorage, type StorageInput } from '../../../src/core/storage/disk-storage.ts';
import { allocateAligned, isPageAligned } from '../../../src/core/storage/aligned-memory.ts';
import type { TorrentFile } from '../../../src/core/metainfo/types.ts';

const PAGE = 4096;
const PIECE = 64 * 1024;
/** tmpfs keeps every file in memory: there is no page cache to bypass. */
const TMPFS_MAGIC = 0x01021994;

function file(path: string[], length: number, offset: number): TorrentFile {
  return { path, length, offset, padding: false, attr: '', piecesRoot: null };
}

function storageInput(lengths: number[]): StorageInput {
  let offset = 0;
  const files = lengths.map((length, i) => {
    const entry = file(['d', `f${i}`], length, offset);
    offset += length;
    return entry;
  });
  return {
    pieceLength: PIECE,
    pieceCount: Math.ceil(offset / PIECE),
    spaceSize: offset,
    files,
    infoHashHex: 'cd'.repeat(20),
  };
}

/** Bytes of `path` held in the page cache. */
function cachedBytes(path: string): number {
  return Number(
    execFileSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', path]).toString().trim(),
  );
}

/** Writes every piece of `data` from one page-aligned region, one slot per piece. */
async function writeFromAlignedMemory(storage: DiskStorage, data: Uint8Array): Promise<void> {
  const region = allocateAligned(PIECE);
  for (let index = 0; index * PIECE < data.length; index++) {
    const piece = data.subarray(index * PIECE, Math.min((index + 1) * PIECE, data.length));
    const slot = new Uint8Array(region, 0, piece.length);
    slot.set(piece);
    await storage.write(index, 0, slot);
  }
}

describe('aligned memory', () => {
  it('knows which views start on a page of memory it made', () => {
    const region = allocateAligned(3 * PAGE);
    expect(region).toBeInstanceOf(SharedArrayBuffer);
    expect(region.byteLength).toBeGreaterThanOrEqual(3 * PAGE);
    expect(isPageAligned(new Uint8Array(region))).toBe(true);
    expect(isPageAligned(new Uint8Array(region, PAGE, PAGE))).toBe(true);
    expect(isPageAligned(new Uint8Array(region, 512, PAGE))).toBe(false);
    expect(isPageAligned(new Uint8Array(new SharedArrayBuffer(2 * PAGE)))).toBe(false);
    expect(isPageAligned(Buffer.alloc(PAGE))).toBe(false);
  });
});

describe('DiskStorage direct I/O', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'shoal-direct-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const pageCacheExists = () => statfsSync(dir).type !== TMPFS_MAGIC;

  it('leaves no written page in the cache except those of partial pages', async ({ skip }) => {
    if (!pageCacheExists()) skip('tmpfs has no page cache to bypass');
    const data = randomBytes(3 * PIECE + 5000);
    const direct = new DiskStorage(storageInput([data.length]), { outDir: join(dir, 'direct') });
    const cached = new DiskStorage(storageInput([data.length]), {
      outDir: join(dir, 'cached'),
      directIo: false,
    });
    await writeFromAlignedMemory(direct, data);
    await writeFromAlignedMemory(cached, data);
    await Promise.all([direct.close(), cached.close()]);
    // 5000 bytes = one whole page (direct) + 904 bytes, whose page goes through the cache.
    expect(cachedBytes(join(dir, 'direct', 'd', 'f0'))).toBe(PAGE);
    expect(cachedBytes(join(dir, 'cached', 'd', 'f0'))).toBe(3 * PIECE + 2 * PAGE);
    expect(readFileSync(join(dir, 'direct', 'd', 'f0'))).toEqual(data);
  });

  it('splits spans that start and end inside disk blocks (files not aligned to pieces)', async () => {
    // File boundaries at odd offsets: every span has an unaligned head or tail, some both.
    const lengths = [5000, 70_001, 12, 3 * PIECE + 333, 9000];
    const total = lengths.reduce((a, b) => a + b, 0);
    const data = randomBytes(total);
    const storage = new DiskStorage(storageInput(lengths), { outDir: dir });
    await writeFromAlignedMemory(storage, data);
    await storage.close();
    let at = 0;
    lengths.forEach((length, i) => {
      expect(readFileSync(join(dir, 'd', `f${i}`))).toEqual(data.subarray(at, at + length));
      at += length;
    });
  });

  it('writes ordinary (unaligned) buffers through the page cache as before', async () => {
    const data = randomBytes(2 * PIECE);
    const storage = new DiskStorage(storageInput([data.length]), { outDir: dir });
    await storage.write(0, 0, Buffer.from(data.subarray(0, PIECE)));
    await storage.write(1, 0, new Uint8Array(new SharedArrayBuffer(PIECE)).fill(7));
    await storage.close();
    const written = readFileSync(join(dir, 'd', 'f0'));
    expect(written.subarray(0, PIECE)).toEqual(data.subarray(0, PIECE));
    expect(written.subarray(PIECE).every((byte) => byte === 7)).toBe(true);
  });
});
