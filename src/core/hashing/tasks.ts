/**
 * Messages between the hash pool (main thread) and its workers. Everything
 * here crosses a thread boundary by structured clone, except the ArrayBuffers
 * of the `*-buffer` tasks, which are transferred (moved, not copied).
 */

/** A run of bytes of one piece: from a file on disk (`path` indexes `paths`) or zeros (`path` -1). */
export interface SpanJob {
  path: number;
  offset: number;
  length: number;
}

/** SHA-1 of consecutive pieces read from disk; padding and gaps read as zeros. */
export interface V1SpansTask {
  op: 'v1-spans';
  /**
   * 'sha1' (default): 20-byte digests in `sha1`; 'xxh64': 8-byte LE
   * fingerprints in `fingerprints`; 'both': both from one read.
   */
  algorithm?: 'sha1' | 'xxh64' | 'both';
  paths: string[];
  /** One entry per piece: the spans that make it up, in order. */
  pieces: SpanJob[][];
}

/**
 * Hashes of a piece-aligned range of one file on disk. `start` is a multiple
 * of `pieceLength`; the range is split into pieces of `pieceLength` bytes (the
 * last may be shorter).
 */
export interface FileRangeJob {
  path: number;
  start: number;
  length: number;
  /** SHA-1 per piece; the last piece is extended with zeros to `sha1PadTo` bytes when that is larger. */
  sha1: boolean;
  sha1PadTo: number;
  /**
   * v2: `pieces` = one piece-subtree hash per piece (piece layer entries);
   * `root` = the root of a file of at most one piece; `none` = no SHA-256.
   */
  v2: 'pieces' | 'root' | 'none';
}

export interface FileRangesTask {
  op: 'file-ranges';
  pieceLength: number;
  paths: string[];
  items: FileRangeJob[];
}

/** SHA-1 of pieces held in memory: `buffer` holds the pieces back to back. */
export interface V1BufferTask {
  op: 'v1-buffer';
  /** Moved to the worker (shared memory goes as a `v1-pieces` task). */
  buffer: ArrayBuffer;
  sizes: number[];
}

/** SHA-1 of pieces each in its own shared buffer (downloaded pieces verified as a batch). */
export interface V1PiecesTask {
  op: 'v1-pieces';
  pieces: { buffer: SharedArrayBuffer; start: number; size: number }[];
  /**
   * Also the resume fingerprint of each piece (`fingerprints`), computed on the
   * thread that hashes it: the main thread would otherwise read every
   * downloaded piece a second time (docs/PERFORMANCE.md, many files).
   */
  fingerprints?: boolean;
}

/** v2 hash of pieces held in memory: each is a piece-layer hash (`pieces`) or a small file's root (`root`). */
export interface V2BufferTask {
  op: 'v2-buffer';
  buffer: ArrayBuffer | SharedArrayBuffer;
  pieceLength: number;
  /** `offset`: where the item starts in `buffer` (default: right after the previous item). */
  items: { length: number; mode: 'pieces' | 'root'; offset?: number }[];
}

/**
 * v2 hashes of pieces each in its own shared buffer (downloaded pieces of a
 * v2-only torrent verified as a batch): `length` bytes from `start` are
 * hashed as in V2BufferTask; with `fingerprints`, the resume fingerprint of
 * all `size` bytes of each piece too, as for v1-pieces.
 */
export interface V2PiecesTask {
  op: 'v2-pieces';
  pieceLength: number;
  pieces: {
    buffer: SharedArrayBuffer;
    start: number;
    size: number;
    length: number;
    mode: 'pieces' | 'root';
  }[];
  fingerprints?: boolean;
}

export type HashTask =
  V1SpansTask | FileRangesTask | V1BufferTask | V1PiecesTask | V2BufferTask | V2PiecesTask;

/** Per-piece (v1-spans) or per-item (file-ranges) read status. */
export const ReadStatus = {
  ok: 0,
  /** A file (or a directory above it) does not exist. */
  missing: 1,
  /** A file ended before the bytes the torrent expects. */
  short: 2,
} as const;

export interface HashTaskResult {
  /** Concatenated SHA-1 digests (20 bytes each), in task order. */
  sha1: Uint8Array;
  /** Concatenated SHA-256 hashes (32 bytes each), in task order. */
  sha256: Uint8Array;
  /** v1-spans with algorithm xxh64 or both, v1-pieces and v2-pieces with fingerprints: 8-byte little-endian fingerprints per piece. */
  fingerprints?: Uint8Array;
  /** ReadStatus per piece (v1-spans) or per item (file-ranges); empty for buffer tasks. */
  status: Uint8Array;
  /** Bytes read from disk or memory (progress). */
  bytes: number;
}

/** A file-system failure a worker could not handle: the pool maps it with diskErrorFrom. */
export interface HashTaskFailure {
  failure: { code: string | null; message: string; path: string; action: string };
}

export function isFailure(value: HashTaskResult | HashTaskFailure): value is HashTaskFailure {
  return 'failure' in value;
}
