import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DiskStorage, type StorageInput } from '../../../src/core/storage/disk-storage.ts';
import type { TorrentFile } from '../../../src/core/metainfo/types.ts';

function file(path: string[], length: number, offset: number, padding = false): TorrentFile {
  return { path, length, offset, padding, attr: padding ? 'p' : '', piecesRoot: null };
}

// Three files over 16-byte pieces: a (20 bytes), padding (12), empty, b (10), c (30).
const files = [
  file(['t', 'a'], 20, 0),
  file(['t', '.pad', '12'], 12, 20, true),
  file(['t', 'empty'], 0, 32),
  file(['t', 'b'], 10, 32),
  file(['t', 'sub', 'c'], 30, 42),
];
const input: StorageInput = {
  pieceLength: 16,
  pieceCount: 5,
  spaceSize: 72,
  files,
  infoHashHex: 'ab'.repeat(20),
};

describe('DiskStorage', () => {
  let dir: string;
  const data = randomBytes(72);
  // Padding bytes are zeros in any valid piece.
  data.fill(0, 20, 32);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'shoal-storage-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function writeAll(storage: DiskStorage) {
    for (let piece = 0; piece < 5; piece++) {
      const start = piece * 16;
      await storage.write(piece, 0, data.subarray(start, Math.min(start + 16, 72)));
    }
  }

  it('writes pieces across file boundaries, never writing padding, and reads them back', async () => {
    const storage = new DiskStorage(input, { outDir: dir });
    await writeAll(storage);
    await storage.finish();
    expect(readFileSync(join(dir, 't', 'a'))).toEqual(data.subarray(0, 20));
    expect(readFileSync(join(dir, 't', 'b'))).toEqual(data.subarray(32, 42));
    expect(readFileSync(join(dir, 't', 'sub', 'c'))).toEqual(data.subarray(42, 72));
    expect(statSync(join(dir, 't', 'empty')).size).toBe(0);
    expect(existsSync(join(dir, 't', '.pad'))).toBe(false);
    expect(await storage.read(1, 0, 16)).toEqual(data.subarray(16, 32));
    expect(await storage.read(4, 0, 8)).toEqual(data.subarray(64, 72));
    await storage.close();
  });

  it('keeps bytes of unselected files in the parts file, never creating those files', async () => {
    const selected = [true, false, true, false, true];
    const storage = new DiskStorage(input, { outDir: dir, selected });
    await writeAll(storage);
    await storage.finish();
    expect(existsSync(join(dir, 't', 'b'))).toBe(false);
    expect(readFileSync(join(dir, 't', 'sub', 'c'))).toEqual(data.subarray(42, 72));
    // Piece 2 (bytes 32..48) spans b (unselected) and c: still readable whole.
    expect(await storage.read(2, 0, 16)).toEqual(data.subarray(32, 48));
    expect(existsSync(storage.partsPath)).toBe(true);
    await storage.close();
  });

  it('reports a piece whose file is missing or short as absent', async () => {
    const storage = new DiskStorage(input, { outDir: dir });
    expect(await storage.read(0, 0, 16)).toBeNull();
    await storage.write(0, 0, data.subarray(0, 16));
    expect(await storage.read(1, 0, 16)).toBeNull();
    await storage.close();
  });

  it('keeps working with a tiny handle pool under concurrent writes', async () => {
    const storage = new DiskStorage(input, { outDir: dir, maxOpenFiles: 1 });
    await Promise.all(
      [0, 1, 2, 3, 4].map((piece) =>
        storage.write(piece, 0, data.subarray(piece * 16, Math.min(piece * 16 + 16, 72))),
      ),
    );
    for (let piece = 0; piece < 5; piece++) {
      const length = Math.min(16, 72 - piece * 16);
      expect(await storage.read(piece, 0, length)).toEqual(
        data.subarray(piece * 16, piece * 16 + length),
      );
    }
    await storage.close();
  });

  it('refuses paths that would leave the output directory', () => {
    const evil = { ...input, files: [file(['..', 'escape'], 72, 0)] };
    expect(() => new DiskStorage(evil, { outDir: dir })).toThrow(/outside the output directory/);
  });

  /** Descriptors this process holds on files below `root` (Linux: /proc/self/fd). */
  function openFilesBelow(root: string): number {
    return readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`).startsWith(`${root}/`);
      } catch {
        return false; // closed meanwhile (the directory listing's own descriptor)
      }
    }).length;
  }

  /** A torrent of `count` one-piece files of 16 bytes. */
  function manyFiles(count: number): StorageInput {
    const list = Array.from({ length: count }, (_, i) => file(['t', `f${i}`], 16, i * 16));
    return { ...input, files: list, pieceCount: count, spaceSize: count * 16 };
  }

  it('keeps a handle for every file of a torrent of up to 256 files, and 256 for more', async () => {
    // Pieces come in no file order: with fewer handles than files, files are closed and
    // opened again all through a download.
    for (const [count, kept] of [
      [100, 100],
      [300, 256],
    ]) {
      const storage = new DiskStorage(manyFiles(count), { outDir: dir });
      for (let piece = 0; piece < count; piece++)
        await storage.write(piece, 0, data.subarray(0, 16));
      expect(openFilesBelow(dir)).toBe(kept);
      await storage.close();
      expect(openFilesBelow(dir)).toBe(0);
      for (let i = 0; i < count; i += 37)
        expect(readFileSync(join(dir, 't', `f${i}`))).toEqual(data.subarray(0, 16));
    }
  });
});
