/**
 * Builds a .torrent (v1, v2 or hybrid) from a file or directory.
 *
 * - v1 (BEP 3): files back to back in the piece space; `pieces` is the SHA-1 of
 *   each piece, pieces spanning files.
 * - v2 (BEP 52): `meta version` 2, a `file tree` of `{'': {length, pieces root}}`
 *   leaves, and top-level `piece layers` for files larger than one piece.
 * - hybrid: both. The v1 file list carries BEP 47 padding files (`.pad/<N>`,
 *   attr `p`) so every file starts on a piece boundary, as in the v2 view;
 *   a padding file goes before each file that would start mid-piece, hence
 *   never after the last file. The v1 list is in file-tree order.
 *
 * With `creationDate: null` the output depends only on the input data and
 * options: same input, same bytes.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DiskError, InputError } from '../errors.ts';
import { rootFromPieceLayer } from '../digest/merkle.ts';
import { ReadStatus, type DiskFile, type FileHashResult, type HashPool } from '../hashing/pool.ts';
import type { TorrentVersion } from '../metainfo/types.ts';
import { createHashPool } from './create-pool.ts';
import { encodeCanonical, RawBencode, type EncodeDict, type EncodeValue } from './encode.ts';
import { resolvePieceLength } from './piece-length.ts';
import { walk, type SkippedEntry, type WalkedFile } from './walk.ts';

export interface CreateOptions {
  /** File or directory to share; its base name becomes the torrent name. */
  path: string;
  version: TorrentVersion;
  pieceLength: number | 'auto';
  /** BEP 12 tiers; the first URL of the first tier also becomes `announce`. */
  announce?: string[][];
  private?: boolean;
  comment?: string | null;
  /** Stored in the info dictionary (changes the info-hash), as private trackers expect. */
  source?: string | null;
  /** BEP 19 `url-list`. */
  webSeeds?: string[];
  /** Default `shoal/<version>`; null leaves the field out. */
  createdBy?: string | null;
  /** Default now; null leaves the field out (reproducible output). */
  creationDate?: Date | null;
  /** Hashing threads, this one included, when no `pool` is given (default: available parallelism). */
  threads?: number;
  /** A pool to reuse; when absent one is created and destroyed here. */
  pool?: HashPool;
  exclude?: string[];
  includeHidden?: boolean;
  signal?: AbortSignal;
}

export interface CreateProgress {
  bytesHashed: number;
  /** Bytes to read in all (the sum of the file lengths). */
  totalBytes: number;
}

export type CreateProgressCallback = (progress: CreateProgress) => void;

export interface CreatedFile {
  /** Components relative to the download directory (the torrent name first for multi-file torrents). */
  path: string[];
  length: number;
  padding: boolean;
}

export interface CreateResult {
  torrentBytes: Uint8Array;
  infoBytes: Uint8Array;
  /** SHA-1 of the info dictionary (v1 and hybrid), else null. */
  infoHash: Uint8Array | null;
  /** SHA-256 of the info dictionary (v2 and hybrid), else null. */
  infoHashV2: Uint8Array | null;
  name: string;
  version: TorrentVersion;
  pieceLength: number;
  pieceCount: number;
  /** Sum of the file lengths (padding excluded). */
  totalSize: number;
  /** Files in the torrent (padding excluded). */
  fileCount: number;
  /** Files in metainfo order, padding files included (hybrid). */
  files: CreatedFile[];
  /** Entries left out while walking the input (symlinks to directories, dangling links, sockets...). */
  skipped: SkippedEntry[];
}

export async function createTorrent(
  options: CreateOptions,
  onProgress?: CreateProgressCallback,
): Promise<CreateResult> {
  // The workers start now, so their start-up overlaps the walk.
  const pool = options.pool ?? createHashPool(options.threads, options.path);
  try {
    return await hashAndEncode(options, pool, onProgress);
  } finally {
    if (!options.pool) await pool.destroy();
  }
}

async function hashAndEncode(
  options: CreateOptions,
  pool: HashPool,
  onProgress?: CreateProgressCallback,
): Promise<CreateResult> {
  const walked = await walk(options.path, {
    includeHidden: options.includeHidden,
    exclude: options.exclude,
  });
  const { name, files } = walked;
  const totalSize = files.reduce((sum, f) => sum + f.length, 0);
  if (totalSize === 0)
    throw new InputError(`${options.path}: every file is empty; a torrent needs some data`);
  const pieceLength = resolvePieceLength(options.pieceLength, totalSize);
  const version = options.version;
  const multiFile = !walked.single;

  const progress = onProgress
    ? (bytesHashed: number): void => onProgress({ bytesHashed, totalBytes: totalSize })
    : undefined;
  let pieces: Uint8Array | null = null;
  let hashes: FileHashResult[] | null = null;
  onProgress?.({ bytesHashed: 0, totalBytes: totalSize });
  if (version === 'v1') {
    pieces = await hashV1(pool, files, pieceLength, totalSize, options.signal, progress);
  } else {
    const hybrid = version === 'hybrid';
    const lastIndex = files.length - 1;
    hashes = await pool.hashFiles(
      files.map((f, i) => ({
        path: f.absolutePath,
        length: f.length,
        sha1: hybrid,
        // A padding file follows every file but the last (see the module comment).
        sha1PadLastPiece: i < lastIndex,
        v2: true,
      })),
      pieceLength,
      { onProgress: progress, signal: options.signal },
    );
    hashes.forEach((h, i) => {
      if (h.status !== ReadStatus.ok) throw changedError(files[i]!);
    });
    if (hybrid) pieces = Buffer.concat(hashes.filter((h) => h.sha1).map((h) => h.sha1!));
  }

  const info: Record<string, EncodeValue | null> = {
    name,
    'piece length': pieceLength,
    private: options.private ? 1 : null,
    source: options.source ?? null,
  };
  const created: CreatedFile[] = [];
  // Keyed by hex: identical files share one root and one piece layer.
  const pieceLayers = new Map<string, [Uint8Array, Uint8Array]>();
  const roots: (Uint8Array | null)[] = [];

  if (hashes) {
    hashes.forEach((h, i) => {
      const file = files[i]!;
      if (file.length === 0) {
        roots.push(null);
      } else if (h.pieceLayer) {
        const root = rootFromPieceLayer(h.pieceLayer, pieceLength);
        roots.push(root);
        pieceLayers.set(Buffer.from(root).toString('hex'), [root, h.pieceLayer]);
      } else {
        roots.push(h.smallRoot!);
      }
    });
    info['meta version'] = 2;
    info['file tree'] = fileTree(files, roots, walked.single ? name : null);
  }

  let pieceCount: number;
  if (version === 'v2') {
    pieceCount = files.reduce((n, f) => n + Math.ceil(f.length / pieceLength), 0);
    for (const f of files)
      created.push({ path: displayPath(name, multiFile, f), length: f.length, padding: false });
  } else {
    pieceCount = pieces!.length / 20;
    info.pieces = pieces!;
    const v1Files: EncodeValue[] = [];
    let offset = 0;
    files.forEach((f) => {
      const misaligned = offset % pieceLength;
      if (version === 'hybrid' && misaligned !== 0) {
        const pad = pieceLength - misaligned;
        v1Files.push({ attr: 'p', length: pad, path: ['.pad', String(pad)] });
        created.push({
          path: multiFile ? [name, '.pad', String(pad)] : ['.pad', String(pad)],
          length: pad,
          padding: true,
        });
        offset += pad;
      }
      v1Files.push({ length: f.length, path: f.relativePath });
      created.push({ path: displayPath(name, multiFile, f), length: f.length, padding: false });
      offset += f.length;
    });
    if (multiFile) info.files = v1Files;
    else info.length = files[0]!.length;
    if (Math.ceil(offset / pieceLength) !== pieceCount) {
      throw new Error('internal: v1 piece count does not match the file layout');
    }
  }

  const infoBytes = encodeCanonical(info);
  const torrent: Record<string, EncodeValue | null | undefined> = {};
  const tiers = (options.announce ?? [])
    .map((tier) => tier.filter((u) => u.length > 0))
    .filter((t) => t.length > 0);
  if (tiers.length > 0) {
    torrent.announce = tiers[0]![0]!;
    if (tiers.length > 1 || tiers[0]!.length > 1) torrent['announce-list'] = tiers;
  }
  if (options.comment) torrent.comment = options.comment;
  const createdBy = options.createdBy === undefined ? defaultCreatedBy() : options.createdBy;
  if (createdBy) torrent['created by'] = createdBy;
  const date = options.creationDate === undefined ? new Date() : options.creationDate;
  if (date) torrent['creation date'] = Math.floor(date.getTime() / 1000);
  if (pieceLayers.size > 0) torrent['piece layers'] = new Map([...pieceLayers.values()]);
  if (options.webSeeds && options.webSeeds.length > 0) {
    torrent['url-list'] = options.webSeeds.length === 1 ? options.webSeeds[0]! : options.webSeeds;
  }
  // The info dictionary goes in verbatim: the info-hashes are over exactly these bytes.
  torrent.info = new RawBencode(infoBytes);
  const torrentBytes = encodeCanonical(torrent);

  return {
    torrentBytes,
    infoBytes,
    infoHash: version === 'v2' ? null : createHash('sha1').update(infoBytes).digest(),
    infoHashV2: version === 'v1' ? null : createHash('sha256').update(infoBytes).digest(),
    name,
    version,
    pieceLength,
    pieceCount,
    totalSize,
    fileCount: files.length,
    files: created,
    skipped: walked.skipped,
  };
}

async function hashV1(
  pool: HashPool,
  files: WalkedFile[],
  pieceLength: number,
  totalSize: number,
  signal: AbortSignal | undefined,
  onProgress: ((bytes: number) => void) | undefined,
): Promise<Uint8Array> {
  const disk: DiskFile[] = [];
  let offset = 0;
  for (const f of files) {
    disk.push({ path: f.absolutePath, length: f.length, offset, padding: false });
    offset += f.length;
  }
  const result = await pool.hashV1Pieces(
    {
      pieceLength,
      pieceCount: Math.ceil(totalSize / pieceLength),
      spaceSize: totalSize,
      files: disk,
    },
    { onProgress, signal },
  );
  const bad = result.status.findIndex((s) => s !== ReadStatus.ok);
  if (bad >= 0) {
    // Name a file the failed piece touches.
    const start = bad * pieceLength;
    const culprit = disk.find((d) => d.offset + d.length > start && d.length > 0) ?? disk[0]!;
    throw changedError(files[disk.indexOf(culprit)]!);
  }
  return result.digests;
}

function changedError(file: WalkedFile): DiskError {
  return new DiskError(
    `${file.absolutePath} changed or disappeared while it was being hashed; run create again when it is stable`,
  );
}

/** The BEP 52 file tree: nested dictionaries of path components down to `{'': {length, pieces root}}`. */
function fileTree(
  files: WalkedFile[],
  roots: (Uint8Array | null)[],
  singleName: string | null,
): EncodeDict {
  const tree = new Map<string, EncodeValue>();
  files.forEach((f, i) => {
    const parts = singleName !== null ? [singleName] : f.relativePath;
    let node = tree;
    for (const part of parts.slice(0, -1)) {
      let child = node.get(part);
      if (!(child instanceof Map)) {
        child = new Map<string, EncodeValue>();
        node.set(part, child);
      }
      node = child as Map<string, EncodeValue>;
    }
    const leaf: Record<string, EncodeValue> = { length: f.length };
    if (roots[i]) leaf['pieces root'] = roots[i]!;
    node.set(parts[parts.length - 1]!, new Map([['', leaf]]));
  });
  return tree;
}

function displayPath(name: string, multiFile: boolean, f: WalkedFile): string[] {
  return multiFile ? [name, ...f.relativePath] : [name];
}

let createdByCache: string | null = null;

/** `shoal/<version>` from package.json; plain `shoal` where that file is not around (the single executable). */
function defaultCreatedBy(): string {
  if (createdByCache === null) {
    try {
      const pkg = JSON.parse(
        readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'),
      ) as {
        name?: string;
        version?: string;
      };
      createdByCache = pkg.name === 'shoal' && pkg.version ? `shoal/${pkg.version}` : 'shoal';
    } catch {
      createdByCache = 'shoal';
    }
  }
  return createdByCache;
}
