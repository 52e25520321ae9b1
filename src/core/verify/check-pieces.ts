/**
 * Finds which wanted pieces are already on disk and good, before a download
 * starts (or for --verify afterwards), and returns each with the fingerprint
 * of its data for the resume state.
 *
 * - Pieces whose files are missing or too short are skipped without reading,
 *   so a fresh download costs nothing.
 * - With resume state: the pieces it claims are checked by xxh64 fingerprint
 *   only (cheap); any that do not match fall back to SHA-1. Pieces it does not
 *   claim were never verified by us and are not read.
 * - Without it: every present piece is checked by SHA-1 (and fingerprinted in
 *   the same read).
 * The workers read the files themselves, so no data crosses threads, except
 * for v2-only torrents, whose pieces are read into shared memory and checked
 * against their merkle hashes.
 */
import { fingerprint } from '../hashing/fingerprint.ts';
import { ReadStatus, type HashPool } from '../hashing/pool.ts';
import type { Metainfo } from '../metainfo/types.ts';
import { sameBytes } from '../bytes.ts';
import { expectedSha1, SHA1_LENGTH } from './expected-hashes.ts';
import { PieceVerifier } from './piece-verifier.ts';
import type { DiskStorage } from '../storage/disk-storage.ts';
import type { ClaimedPieces } from '../resume/resume-store.ts';

export interface CheckPiecesInput {
  meta: Metainfo;
  storage: DiskStorage;
  pool: HashPool;
  /** Piece indexes to look for, ascending. */
  wanted: readonly number[];
  /** Pieces the resume state claims (null: no usable state, check everything present). */
  claimed: ClaimedPieces | null;
  onProgress?: (bytesChecked: number, totalBytes: number) => void;
  /** Stops the check (at the next task); it then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Pieces per batch (default: about BATCH_BYTES of them); tests make it tiny. */
  batchPieces?: number;
}

/**
 * The check goes through the pieces in batches of about this many bytes: only
 * one batch's piece sources and results exist at a time, so its memory stays
 * flat however many pieces a torrent has (a million 16 KiB pieces built
 * every piece's sources up front: ~1 KiB per piece). A batch is many hash
 * tasks long (8-64 MiB each), and two batches run at once, so the workers
 * never wait at a batch's end.
 */
const BATCH_BYTES = 256 * 1024 * 1024;
const BATCHES_IN_FLIGHT = 2;

export async function checkPieces(input: CheckPiecesInput): Promise<ClaimedPieces> {
  const { storage, claimed } = input;
  const present = presentPieces(storage, input.wanted);
  // With resume state only the pieces it claims are read: the others were never verified by us.
  const toCheck = claimed ? present.filter((index) => claimed.has(index)) : present;
  let totalBytes = 0;
  for (const index of toCheck) totalBytes += storage.layout.pieceSize(index);
  let checked = 0;
  /** Progress of one hashing call (which counts from zero) added to the whole check's. */
  const counter = () => {
    let seen = 0;
    return (bytes: number) => {
      checked += bytes - seen;
      seen = bytes;
      input.onProgress?.(checked, Math.max(totalBytes, checked));
    };
  };

  const batchPieces =
    input.batchPieces ?? Math.max(1, Math.floor(BATCH_BYTES / input.meta.pieceLength));
  const verified: ClaimedPieces = new Map();
  let next = 0;
  let failed = false;
  const worker = async () => {
    try {
      while (next < toCheck.length && !failed) {
        input.signal?.throwIfAborted();
        const batch = toCheck.slice(next, next + batchPieces);
        next += batch.length;
        for (const [index, print] of await checkBatch(input, batch, counter))
          verified.set(index, print);
      }
    } catch (error) {
      failed = true;
      throw error;
    }
  };
  // Settled, not Promise.all: when one batch fails (or the check is cancelled) the other
  // stops after its current batch, and the check rejects only then, so nothing reads the
  // files after it returned.
  const outcomes = await Promise.allSettled(Array.from({ length: BATCHES_IN_FLIGHT }, worker));
  for (const outcome of outcomes) if (outcome.status === 'rejected') throw outcome.reason;
  input.onProgress?.(totalBytes, totalBytes);
  return verified;
}

/**
 * One batch: claimed pieces by fingerprint first, then SHA-1 (or the v2
 * hashes) for those without a claim or whose fingerprint did not match.
 */
async function checkBatch(
  input: CheckPiecesInput,
  pieces: number[],
  counter: () => (bytes: number) => void,
): Promise<ClaimedPieces> {
  const { meta, storage, pool, claimed, signal } = input;
  const verified: ClaimedPieces = new Map();
  let toHash = pieces;
  if (claimed) {
    const { fingerprints, status } = await pool.hashSources(
      pieces.map((index) => storage.sources(index)),
      'xxh64',
      { onProgress: counter(), signal },
    );
    const view = Buffer.from(fingerprints.buffer, fingerprints.byteOffset, fingerprints.length);
    toHash = [];
    pieces.forEach((index, i) => {
      if (status[i] !== ReadStatus.ok) return;
      const print = view.readBigUInt64LE(i * 8);
      if (print === claimed.get(index)) verified.set(index, print);
      else toHash.push(index);
    });
  }
  if (toHash.length > 0) {
    const found = meta.pieces
      ? await checkV1(meta, storage, pool, toHash, counter(), signal)
      : await checkInMemory(meta, storage, pool, toHash, counter(), signal);
    for (const [index, print] of found) verified.set(index, print);
  }
  return verified;
}

/**
 * Wanted pieces whose files all exist and are long enough to hold them. A
 * symlink inside the output directory is refused here (DiskError), before any
 * worker reads through it.
 */
function presentPieces(storage: DiskStorage, wanted: readonly number[]): number[] {
  const sizes = new Map<string, number>();
  const sizeOf = (path: string) => {
    let size = sizes.get(path);
    if (size === undefined) {
      size = storage.fileSize(path);
      sizes.set(path, size);
    }
    return size;
  };
  const present: number[] = [];
  for (const index of wanted) {
    let ok = true;
    for (const source of storage.sources(index)) {
      if (source.path !== null && sizeOf(source.path) < source.position + source.length) {
        ok = false;
        break;
      }
    }
    if (ok) present.push(index);
  }
  return present;
}

async function checkV1(
  meta: Metainfo,
  storage: DiskStorage,
  pool: HashPool,
  pieces: number[],
  onProgress: (bytes: number) => void,
  signal: AbortSignal | undefined,
): Promise<ClaimedPieces> {
  const { sha1, fingerprints, status } = await pool.hashSources(
    pieces.map((index) => storage.sources(index)),
    'both',
    { onProgress, signal },
  );
  const prints = Buffer.from(fingerprints.buffer, fingerprints.byteOffset, fingerprints.length);
  const good: ClaimedPieces = new Map();
  pieces.forEach((index, i) => {
    if (status[i] !== ReadStatus.ok) return;
    const digest = sha1.subarray(i * SHA1_LENGTH, (i + 1) * SHA1_LENGTH);
    if (sameBytes(digest, expectedSha1(meta, index)!))
      good.set(index, prints.readBigUInt64LE(i * 8));
  });
  return good;
}

/** Bytes of consecutive v2 pieces read into memory at a time. */
const RUN_BYTES = 8 * 1024 * 1024;

/** v2-only torrents: read runs of pieces into shared memory and check their merkle hashes. */
async function checkInMemory(
  meta: Metainfo,
  storage: DiskStorage,
  pool: HashPool,
  pieces: number[],
  onProgress: (bytes: number) => void,
  signal: AbortSignal | undefined,
): Promise<ClaimedPieces> {
  const verifier = new PieceVerifier(meta, pool);
  const sizeOf = (index: number) => storage.layout.pieceSize(index);
  const batches = consecutiveRuns(pieces, Math.max(1, Math.floor(RUN_BYTES / meta.pieceLength)));
  const good: ClaimedPieces = new Map();
  let checked = 0;
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      signal?.throwIfAborted();
      const { first, count } = batches[next++];
      const sizes = Array.from({ length: count }, (_, i) => sizeOf(first + i));
      const data = new Uint8Array(new SharedArrayBuffer(sizes.reduce((a, b) => a + b, 0)));
      let at = 0;
      let readable = true;
      for (let i = 0; i < count && readable; i++) {
        readable = await storage.readInto(first + i, 0, data.subarray(at, at + sizes[i]));
        at += sizes[i];
      }
      if (readable) {
        const results = await verifier.verifyRun(first, count, data);
        at = 0;
        results.forEach((ok, i) => {
          if (ok) good.set(first + i, fingerprint(data.subarray(at, at + sizes[i])));
          at += sizes[i];
        });
      }
      checked += data.length;
      onProgress(checked);
    }
  };
  await Promise.all(Array.from({ length: Math.max(2, pool.threads * 2) }, worker));
  return good;
}

/** Groups ascending indexes into runs of consecutive pieces, at most `maxCount` long. */
function consecutiveRuns(indexes: number[], maxCount: number): { first: number; count: number }[] {
  const runs: { first: number; count: number }[] = [];
  for (const index of indexes) {
    const last = runs[runs.length - 1];
    if (last && last.first + last.count === index && last.count < maxCount) last.count++;
    else runs.push({ first: index, count: 1 });
  }
  return runs;
}
