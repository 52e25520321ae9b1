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
}

export async function checkPieces(input: CheckPiecesInput): Promise<ClaimedPieces> {
  const { meta, storage, pool, claimed } = input;
  const present = presentPieces(storage, input.wanted);
  const verified: ClaimedPieces = new Map();
  const byFingerprint = claimed ? present.filter((index) => claimed.has(index)) : [];
  let toHash = claimed ? [] : present;

  const sizeOf = (pieces: readonly number[]) =>
    pieces.reduce((sum, index) => sum + storage.layout.pieceSize(index), 0);
  const totalBytes = sizeOf(byFingerprint) + sizeOf(toHash);
  let doneBefore = 0;
  const progress = (bytes: number) =>
    input.onProgress?.(doneBefore + bytes, Math.max(totalBytes, doneBefore + bytes));

  if (byFingerprint.length > 0) {
    const { fingerprints, status } = await pool.hashSources(
      byFingerprint.map((index) => storage.sources(index)),
      'xxh64',
      { onProgress: progress, signal: input.signal },
    );
    const view = Buffer.from(fingerprints.buffer, fingerprints.byteOffset, fingerprints.length);
    const mismatched: number[] = [];
    byFingerprint.forEach((index, i) => {
      const print = view.readBigUInt64LE(i * 8);
      if (status[i] === ReadStatus.ok && print === claimed!.get(index)) verified.set(index, print);
      else if (status[i] === ReadStatus.ok) mismatched.push(index);
    });
    toHash = mismatched;
    doneBefore += sizeOf(byFingerprint);
  }

  if (toHash.length > 0) {
    const found = meta.pieces
      ? await checkV1(meta, storage, pool, toHash, progress, input.signal)
      : await checkInMemory(meta, storage, pool, toHash, progress, input.signal);
    for (const [index, print] of found) verified.set(index, print);
  }
  input.onProgress?.(totalBytes, totalBytes);
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

const BATCH_BYTES = 8 * 1024 * 1024;

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
  const batches = consecutiveRuns(pieces, Math.max(1, Math.floor(BATCH_BYTES / meta.pieceLength)));
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
