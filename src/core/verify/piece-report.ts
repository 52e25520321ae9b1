/**
 * Every piece of a torrent checked against data under a directory, hashed by
 * the worker pool (which reads the files itself): good, bad (wrong bytes, a
 * short file, or nothing to compare with) or missing (a file is absent).
 * `inspect --verify` builds its per-file report on this.
 */
import { join } from 'node:path';
import { sameBytes } from '../bytes.ts';
import { ReadStatus, type HashPool, type HashRunOptions } from '../hashing/pool.ts';
import type { Metainfo } from '../metainfo/types.ts';
import { PieceLayout } from '../storage/layout.ts';
import { expectedSha1, expectedV2, SHA1_LENGTH, SHA256_LENGTH } from './expected-hashes.ts';

export const PieceStatus = { good: 0, bad: 1, missing: 2 } as const;
export type PieceStatusValue = (typeof PieceStatus)[keyof typeof PieceStatus];

export interface PieceReport {
  /** PieceStatus per piece. */
  pieces: Uint8Array;
  good: number;
  bad: number;
  missing: number;
  /** Bytes read from disk. */
  bytesHashed: number;
}

export interface PieceReportOptions extends HashRunOptions {
  /** Called once per piece with its result, in piece order. */
  onPiece?: (index: number, status: PieceStatusValue) => void;
}

export async function checkPiecesOnDisk(
  pool: HashPool,
  meta: Metainfo,
  dataDir: string,
  options: PieceReportOptions = {},
): Promise<PieceReport> {
  let bytesHashed = 0;
  const run: HashRunOptions = {
    signal: options.signal,
    onProgress: (bytes) => {
      bytesHashed = bytes;
      options.onProgress?.(bytes);
    },
  };
  const files = meta.files.map((file) => ({
    path: join(dataDir, ...file.path),
    length: file.length,
    offset: file.offset,
    padding: file.padding,
  }));
  const layout = new PieceLayout(meta);
  const v1 = meta.pieces !== null;
  const { digests, status } = v1
    ? await pool.hashV1Pieces({ ...meta, files }, run)
    : await pool.hashV2Pieces(files, meta.pieceLength, meta.pieceCount, run);
  const size = v1 ? SHA1_LENGTH : SHA256_LENGTH;
  const pieces = new Uint8Array(meta.pieceCount);
  const counts = { good: 0, bad: 0, missing: 0 };
  for (let index = 0; index < meta.pieceCount; index++) {
    const expected = v1 ? expectedSha1(meta, index) : expectedV2(meta, layout, index)?.hash;
    const digest = digests.subarray(index * size, (index + 1) * size);
    let verdict: PieceStatusValue;
    if (status[index] === ReadStatus.missing && expected) verdict = PieceStatus.missing;
    else if (status[index] !== ReadStatus.ok || !expected) verdict = PieceStatus.bad;
    else verdict = sameBytes(digest, expected) ? PieceStatus.good : PieceStatus.bad;
    pieces[index] = verdict;
    if (verdict === PieceStatus.good) counts.good++;
    else if (verdict === PieceStatus.bad) counts.bad++;
    else counts.missing++;
    options.onPiece?.(index, verdict);
  }
  return { pieces, ...counts, bytesHashed };
}
