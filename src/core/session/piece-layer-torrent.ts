/**
 * A .torrent completed with the v2 piece layers fetched from peers (BEP 52):
 * `download --save-torrent` writes a magnet link's metainfo as soon as it
 * has it, before any layer is known; once the session has them all, the
 * file is rewritten with its `piece layers`, so it is a whole v2 torrent
 * that any client (libtorrent included) can verify and seed from.
 *
 * A hybrid from a magnet link never fetches layers (its pieces are checked
 * by SHA-1): given the finished download's folder, they are built from its
 * data and kept when they match the pieces roots (piece-layer-builder.ts).
 *
 * Only a file that holds this very info dictionary and has no `piece layers`
 * of its own is touched, and the info dictionary is kept byte for byte (the
 * info-hashes are over those bytes).
 */
import { constants } from 'node:fs';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeBencode } from '../bencode/index.ts';
import { HashPool } from '../hashing/pool.ts';
import { sameBytes } from '../bytes.ts';
import type { Metainfo } from '../metainfo/types.ts';
import { encodePieceLayers } from '../resume/piece-layer-state.ts';
import { missingPieceLayers } from '../verify/expected-hashes.ts';
import { buildsPieceLayers, PieceLayerBuilder } from './piece-layer-builder.ts';

/** A completed download's data, from which a hybrid's layers can be built. */
export interface FinishedData {
  outDir: string;
  /** The pool to hash with; without it one is made for the build (`threads`, default one per core). */
  pool?: HashPool;
  threads?: number;
}

const PIECE_LAYERS_KEY = 'piece layers';

/**
 * `torrent` (a bencoded metainfo dictionary) with a top-level `piece layers`
 * entry holding `layers`, placed where sorted keys put it; null when it
 * already has one.
 */
export function withPieceLayers(
  torrent: Uint8Array,
  layers: ReadonlyMap<string, Uint8Array>,
): Buffer | null {
  const { topLevelRanges } = decodeBencode(torrent);
  if (topLevelRanges.has(PIECE_LAYERS_KEY)) return null;
  // Keys are in order: the entry goes before the first key that sorts after it
  // (its key starts where the value before it ends), else before the final `e`.
  let insertAt = torrent.length - 1;
  let previousEnd = 1;
  for (const [key, [, end]] of topLevelRanges) {
    if (Buffer.compare(Buffer.from(key, 'latin1'), Buffer.from(PIECE_LAYERS_KEY)) > 0) {
      insertAt = previousEnd;
      break;
    }
    previousEnd = end;
  }
  return Buffer.concat([
    torrent.subarray(0, insertAt),
    Buffer.from(`${PIECE_LAYERS_KEY.length}:${PIECE_LAYERS_KEY}`),
    encodePieceLayers(layers),
    torrent.subarray(insertAt),
  ]);
}

/**
 * Rewrites the .torrent at `path` with `meta`'s piece layers when `meta` is
 * v2, has every layer now (or, for a hybrid, once they are built from
 * `finished`), and the file is this torrent without them.
 * Returns whether it was rewritten. The write is atomic (temp file, rename).
 */
export async function addPieceLayersToTorrentFile(
  path: string,
  meta: Metainfo,
  finished?: FinishedData,
): Promise<boolean> {
  const buildable = finished !== undefined && buildsPieceLayers(meta);
  if (!buildable && (meta.pieceLayers.size === 0 || missingPieceLayers(meta).length > 0))
    return false;
  let torrent: Buffer;
  try {
    torrent = await readFile(path);
  } catch {
    return false; // not written (a .torrent source, or the run failed before the metadata)
  }
  let infoRange: [number, number] | undefined;
  try {
    infoRange = decodeBencode(torrent).topLevelRanges.get('info');
  } catch {
    return false;
  }
  if (!infoRange || !sameBytes(torrent.subarray(...infoRange), meta.infoBytes)) return false;
  if (buildable) await buildFromFinished(meta, finished);
  if (meta.pieceLayers.size === 0 || missingPieceLayers(meta).length > 0) return false;
  const completed = withPieceLayers(torrent, meta.pieceLayers);
  if (!completed) return false;
  const temp = `${path}.shoal-tmp`;
  await rm(temp, { force: true });
  const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
  try {
    await handle.writeFile(completed);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, path);
  return true;
}

/** Builds a hybrid's missing layers from the files of its finished download. */
async function buildFromFinished(meta: Metainfo, finished: FinishedData): Promise<void> {
  const pool = finished.pool ?? new HashPool({ threads: finished.threads });
  try {
    const builder = new PieceLayerBuilder({
      meta,
      pool,
      filePath: (index) => join(finished.outDir, ...meta.files[index]!.path),
    });
    await builder.buildAll();
  } finally {
    if (pool !== finished.pool) await pool.destroy();
  }
}
