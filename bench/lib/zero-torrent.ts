/**
 * Torrents of zeros for the scale benchmarks: every piece of a file of zeros
 * hashes the same, so the `.torrent` is written without reading any data and
 * the data can be a sparse file (no disk) or served by fake peers from one
 * block of zeros (fake-peers.ts).
 */
import { createHash } from 'node:crypto';
import { mkdir, open, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Writes a private single-file v1 torrent of `size` zero bytes named `name`. */
export async function writeZeroTorrent(
  file: string,
  name: string,
  size: number,
  pieceLength: number,
): Promise<void> {
  const pieceCount = Math.ceil(size / pieceLength);
  const full = createHash('sha1').update(Buffer.alloc(pieceLength)).digest();
  const pieces = Buffer.alloc(20 * pieceCount);
  for (let i = 0; i < pieceCount; i++) full.copy(pieces, i * 20);
  const last = size - (pieceCount - 1) * pieceLength;
  if (last !== pieceLength)
    createHash('sha1')
      .update(Buffer.alloc(last))
      .digest()
      .copy(pieces, (pieceCount - 1) * 20);
  const head =
    `d4:infod6:lengthi${size}e4:name${Buffer.byteLength(name)}:${name}` +
    `12:piece lengthi${pieceLength}e6:pieces${pieces.length}:`;
  await writeFile(file, Buffer.concat([Buffer.from(head), pieces, Buffer.from('7:privatei1eee')]));
}

/** A sparse file of `length` zero bytes (no disk used until written). */
export async function sparseFile(file: string, length: number): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const handle = await open(file, 'w');
  await handle.truncate(length);
  await handle.close();
}
