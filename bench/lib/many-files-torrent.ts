/**
 * A v1 `.torrent` listing `fileCount` one-byte files spread over 1000
 * directories, written straight as bencode (no data on disk: `inspect` never
 * reads the data). 400 000 files make a 14 MB file, the size issue #18 asks
 * `inspect` to handle as fast as transmission-show.
 */
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';

const PIECE_LENGTH = 1 << 20;

function str(text: string): string {
  return `${Buffer.byteLength(text)}:${text}`;
}

/** Writes the torrent to `file`; returns its size in bytes. */
export async function writeManyFilesTorrent(file: string, fileCount: number): Promise<number> {
  const entries: string[] = [];
  for (let i = 0; i < fileCount; i++) {
    entries.push(`d6:lengthi1e4:pathl${str(`d${i % 1000}`)}${str(`f${i}.bin`)}ee`);
  }
  const pieceCount = Math.ceil(fileCount / PIECE_LENGTH);
  // The hashes need not match any data: inspect only checks there is one per piece.
  const pieces = createHash('sha1').update('x').digest().toString('latin1').repeat(pieceCount);
  const info =
    `d5:filesl${entries.join('')}e4:name${str(`many-${fileCount}`)}` +
    `12:piece lengthi${PIECE_LENGTH}e6:pieces${pieces.length}:${pieces}e`;
  const torrent = Buffer.from(
    `d8:announce${str('http://127.0.0.1:1/announce')}4:info${info}e`,
    'latin1',
  );
  await writeFile(file, torrent);
  return torrent.length;
}
