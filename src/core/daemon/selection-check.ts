/**
 * Which pieces a torrent's file selection covers, and the check of the
 * others. A run checks only the pieces of wanted files; torrent-verify of a
 * running torrent with unwanted files must check the rest too (their bytes
 * are reported and kept, and fetched again if forgotten). It checks just
 * those in place, and the restarted run checks the wanted ones: each piece
 * is read once, where checking the whole torrent first read every wanted
 * piece twice.
 */
import { join } from 'node:path';
import { sameBytes } from '../bytes.ts';
import { ReadStatus, type HashPool, type PieceSources } from '../hashing/pool.ts';
import type { Metainfo } from '../metainfo/types.ts';
import { PieceLayout } from '../storage/layout.ts';
import { expectedSha1, SHA1_LENGTH } from '../verify/expected-hashes.ts';

/** Bitfield (wire order) of the pieces that hold bytes of a wanted, non-padding file. */
export function wantedPieces(meta: Metainfo, unwanted: ReadonlySet<number>): Uint8Array {
  const bits = new Uint8Array(Math.ceil(meta.pieceCount / 8));
  meta.files.forEach((file, index) => {
    if (file.padding || file.length === 0 || unwanted.has(index)) return;
    const last = Math.floor((file.offset + file.length - 1) / meta.pieceLength);
    for (let piece = Math.floor(file.offset / meta.pieceLength); piece <= last; piece++) {
      bits[piece >> 3] |= 0x80 >> (piece & 7);
    }
  });
  return bits;
}

/**
 * The pieces outside the selection (no wanted file in them) whose data in
 * `dataDir` matches their SHA-1, for v1 and hybrid torrents; reports bytes
 * read through `onProgress`.
 */
export async function checkOutsideSelection(
  pool: HashPool,
  meta: Metainfo,
  dataDir: string,
  unwanted: ReadonlySet<number>,
  onProgress?: (bytes: number) => void,
): Promise<number[]> {
  const wanted = wantedPieces(meta, unwanted);
  const layout = new PieceLayout(meta);
  const outside: number[] = [];
  for (let index = 0; index < meta.pieceCount; index++)
    if ((wanted[index >> 3]! & (0x80 >> (index & 7))) === 0) outside.push(index);
  const sources = outside.map((index): PieceSources =>
    layout.fileSpans(index).map((span) => ({
      path: span.kind === 'data' ? join(dataDir, ...meta.files[span.fileIndex]!.path) : null,
      position: span.fileOffset,
      length: span.length,
    })),
  );
  const { sha1, status } = await pool.hashSources(sources, 'sha1', { onProgress });
  return outside.filter((index, i) => {
    const expected = expectedSha1(meta, index);
    const digest = sha1.subarray(i * SHA1_LENGTH, (i + 1) * SHA1_LENGTH);
    return status[i] === ReadStatus.ok && expected !== null && sameBytes(digest, expected);
  });
}
