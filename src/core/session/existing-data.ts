/**
 * Finds the wanted pieces already on disk (a rerun after an interruption, or
 * seeding existing data) by hashing them. Pieces whose files are missing or
 * too short are skipped without reading, so a fresh download costs nothing.
 * Consecutive pieces are read in batches of a few MiB straight into shared
 * memory and hashed by the worker pool, several batches in flight so both
 * disk and cores stay busy.
 */
import { stat } from 'node:fs/promises';
import type { HashPool } from '../hashing/pool.ts';
import type { Metainfo } from '../metainfo/types.ts';
import type { DiskStorage } from '../storage/disk-storage.ts';
import { PieceVerifier } from './piece-verifier.ts';

const BATCH_BYTES = 8 * 1024 * 1024;

export async function checkExistingData(
  meta: Metainfo,
  storage: DiskStorage,
  pool: HashPool,
  wanted: readonly number[],
  onProgress: (bytesChecked: number, totalBytes: number) => void,
): Promise<number[]> {
  const sizes = new Map<string, number>();
  const sizeOf = async (path: string) => {
    let size = sizes.get(path);
    if (size === undefined) {
      size = await stat(path).then(
        (info) => (info.isFile() ? info.size : -1),
        () => -1,
      );
      sizes.set(path, size);
    }
    return size;
  };
  const present: number[] = [];
  for (const index of wanted) {
    let ok = true;
    for (const source of storage.sources(index)) {
      if (source.path !== null && (await sizeOf(source.path)) < source.position + source.length) {
        ok = false;
        break;
      }
    }
    if (ok) present.push(index);
  }
  if (present.length === 0) return [];

  const verifier = new PieceVerifier(meta, pool);
  const batches = batchRuns(present, meta.pieceLength, (i) => storage.layout.pieceSize(i));
  const totalBytes = batches.reduce((sum, batch) => sum + batch.bytes, 0);
  const found: number[] = [];
  let checked = 0;
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const batch = batches[next++];
      const data = new Uint8Array(new SharedArrayBuffer(batch.bytes));
      let at = 0;
      let readable = true;
      for (let i = 0; i < batch.count; i++) {
        const size = storage.layout.pieceSize(batch.first + i);
        readable &&= await storage.readInto(batch.first + i, 0, data.subarray(at, at + size));
        at += size;
      }
      if (readable) {
        const results = await verifier.verifyRun(batch.first, batch.count, data);
        results.forEach((good, i) => good && found.push(batch.first + i));
      }
      checked += batch.bytes;
      onProgress(checked, totalBytes);
    }
  };
  await Promise.all(Array.from({ length: Math.max(2, pool.threads * 2) }, worker));
  return found.sort((a, b) => a - b);
}

interface Batch {
  first: number;
  count: number;
  bytes: number;
}

/** Groups sorted piece indexes into runs of consecutive pieces of at most BATCH_BYTES. */
function batchRuns(
  indexes: number[],
  pieceLength: number,
  sizeOf: (index: number) => number,
): Batch[] {
  const perBatch = Math.max(1, Math.floor(BATCH_BYTES / pieceLength));
  const batches: Batch[] = [];
  for (const index of indexes) {
    const last = batches[batches.length - 1];
    if (last && last.first + last.count === index && last.count < perBatch) {
      last.count++;
      last.bytes += sizeOf(index);
    } else {
      batches.push({ first: index, count: 1, bytes: sizeOf(index) });
    }
  }
  return batches;
}
