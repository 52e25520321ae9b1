/**
 * `inspect --verify DIR`: hashes the data on disk against a torrent (on the
 * worker pool, which reads the files itself) and summarises the result by
 * file, so a user learns which files are missing or damaged, not only which
 * piece numbers failed.
 *
 * A file longer than the torrent says is `oversized`: its pieces may all
 * hash correctly, but the file is not the torrent's file. A symlink inside
 * DIR is refused (DiskError, exit 5) before anything is read: reading through
 * it would read, and report on, a file outside DIR.
 */
import { join } from 'node:path';
import { OutDir } from '../storage/out-dir.ts';
import type { HashPool } from '../hashing/pool.ts';
import { checkPiecesOnDisk, PieceStatus } from './piece-report.ts';
import type { Metainfo } from '../metainfo/types.ts';
import { PieceLayout } from '../storage/layout.ts';

export type FileVerifyStatus = 'ok' | 'missing' | 'damaged' | 'oversized';

export interface VerifyResult {
  dir: string;
  pieceCount: number;
  goodPieces: number;
  badPieces: number;
  missingPieces: number;
  /** One entry per non-padding file, in torrent order. */
  files: { index: number; path: string; length: number; status: FileVerifyStatus }[];
  ok: boolean;
}

export async function verifyData(
  meta: Metainfo,
  dir: string,
  pool: HashPool,
  onProgress?: (bytesHashed: number) => void,
): Promise<VerifyResult> {
  const root = new OutDir(dir);
  const sizes = meta.files.map((file) =>
    file.padding || file.symlinkPath ? -1 : root.fileSize(join(root.root, ...file.path)),
  );
  const report = await checkPiecesOnDisk(pool, meta, dir, { onProgress });
  const layout = new PieceLayout(meta);
  const files: VerifyResult['files'] = [];
  for (let index = 0; index < meta.files.length; index++) {
    const file = meta.files[index];
    // Pad files and BEP 47 links hold no data of their own: there is nothing to verify.
    if (file.padding || file.symlinkPath) continue;
    const path = file.path.join('/');
    const exists = sizes[index] >= 0;
    let status: FileVerifyStatus = exists ? 'ok' : 'missing';
    const range = layout.piecesOfFile(index);
    if (exists && range) {
      for (let piece = range[0]; piece <= range[1]; piece++) {
        if (report.pieces[piece] !== PieceStatus.good) {
          status = 'damaged';
          break;
        }
      }
    }
    if (status === 'ok' && sizes[index] > file.length) status = 'oversized';
    files.push({ index, path, length: file.length, status });
  }
  return {
    dir,
    pieceCount: meta.pieceCount,
    goodPieces: report.good,
    badPieces: report.bad,
    missingPieces: report.missing,
    files,
    ok: report.good === meta.pieceCount && files.every((f) => f.status === 'ok'),
  };
}
