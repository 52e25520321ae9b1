import { describe, expect, it } from 'vitest';
import { READ_CHUNK, UploadReader } from '../../../src/core/session/upload-reader.ts';

const PIECE = 4 * READ_CHUNK;
const BLOCK = 16 * 1024;

/** A reader over a fake disk whose byte at torrent offset o is o % 251. */
function setup() {
  const reads: { index: number; begin: number; length: number }[] = [];
  const reader = new UploadReader({
    pieceLength: PIECE,
    pieceSize: (index) => (index === 9 ? 100_000 : PIECE),
    cacheBytes: 2 * READ_CHUNK,
    read: async (index, begin, target) => {
      reads.push({ index, begin, length: target.length });
      for (let i = 0; i < target.length; i++) target[i] = (index * PIECE + begin + i) % 251;
      return true;
    },
  });
  return { reader, reads };
}

const expected = (index: number, begin: number, length: number) =>
  Array.from({ length }, (_, i) => (index * PIECE + begin + i) % 251);

describe('UploadReader', () => {
  it('reads the chunk holding a request, not the piece, and serves neighbours from it', async () => {
    const { reader, reads } = setup();
    for (let begin = 0; begin < READ_CHUNK; begin += BLOCK) {
      const lease = (await reader.read({ index: 2, begin, length: BLOCK }))!;
      expect([...lease.data]).toEqual(expected(2, begin, BLOCK));
      lease.release();
    }
    expect(reads).toEqual([{ index: 2, begin: 0, length: READ_CHUNK }]);
    expect(reader.stats).toEqual({ diskBytesRead: READ_CHUNK, bytesRequested: READ_CHUNK });
  });

  it('reads a request that straddles two chunks exactly, and a short last piece to its end', async () => {
    const { reader, reads } = setup();
    const begin = READ_CHUNK - 100;
    const lease = (await reader.read({ index: 1, begin, length: 300 }))!;
    expect([...lease.data]).toEqual(expected(1, begin, 300));
    const last = (await reader.read({ index: 9, begin: 99_000, length: 1000 }))!;
    expect([...last.data]).toEqual(expected(9, 99_000, 1000));
    expect(reads).toEqual([
      { index: 1, begin, length: 300 },
      { index: 9, begin: 0, length: 100_000 },
    ]);
  });
});
