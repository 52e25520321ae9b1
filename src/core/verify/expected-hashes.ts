/**
 * The one place that says what hash a piece must have: its SHA-1 from
 * `pieces` (v1 and hybrid), or for a v2-only torrent its entry in the file's
 * piece layer, or the file's root for a file of at most one piece. Download,
 * the check of data on disk and `inspect --verify` all ask here.
 */
import type { Metainfo, TorrentFile } from '../metainfo/types.ts';
import type { PieceLayout } from '../storage/layout.ts';

export const SHA1_LENGTH = 20;
export const SHA256_LENGTH = 32;

/** The SHA-1 piece `index` must have (v1 and hybrid torrents), or null for v2-only. */
export function expectedSha1(meta: Metainfo, index: number): Uint8Array | null {
  if (!meta.pieces) return null;
  return meta.pieces.subarray(index * SHA1_LENGTH, (index + 1) * SHA1_LENGTH);
}

/** A file's v2 hashes: its piece layer, or its root when it is at most one piece long. */
export function expectedV2OfFile(meta: Metainfo, file: TorrentFile): Uint8Array | null {
  if (!file.piecesRoot) return null;
  if (file.length <= meta.pieceLength) return file.piecesRoot;
  return meta.pieceLayers.get(Buffer.from(file.piecesRoot).toString('hex')) ?? null;
}

/**
 * The v2 hash piece `index` must have, and how it is computed ('root': the
 * file's whole merkle root, for a file of at most one piece; 'pieces': a
 * piece-layer entry). Each v2 piece lies inside exactly one file. Null when
 * the torrent does not say (no data in the piece, no layer for its file).
 */
export function expectedV2(
  meta: Metainfo,
  layout: PieceLayout,
  index: number,
): { hash: Uint8Array; mode: 'pieces' | 'root' } | null {
  const span = layout.fileSpans(index, 0).find((s) => s.kind === 'data');
  if (!span) return null;
  const file = meta.files[span.fileIndex]!;
  const hashes = expectedV2OfFile(meta, file);
  if (!hashes) return null;
  if (file.length <= meta.pieceLength) return { hash: hashes, mode: 'root' };
  const at = Math.floor(span.fileOffset / meta.pieceLength) * SHA256_LENGTH;
  if (at + SHA256_LENGTH > hashes.length) return null;
  return { hash: hashes.subarray(at, at + SHA256_LENGTH), mode: 'pieces' };
}

/**
 * The v2 files whose piece layer is not known yet (a magnet link's metadata,
 * or a .torrent without `piece layers`): one per distinct pieces root, since
 * identical files share a root and a layer. Their pieces cannot be verified
 * until the layers are fetched from peers (session/piece-layer-fetcher.ts).
 */
export function missingPieceLayers(meta: Metainfo): TorrentFile[] {
  const missing = new Map<string, TorrentFile>();
  for (const file of meta.files) {
    if (!file.piecesRoot || file.padding || file.length <= meta.pieceLength) continue;
    const key = Buffer.from(file.piecesRoot).toString('hex');
    if (!meta.pieceLayers.has(key) && !missing.has(key)) missing.set(key, file);
  }
  return [...missing.values()];
}
