/**
 * The hash pool `create` hashes with. The calling thread has nothing else to
 * do while create hashes, so it hashes too (callingThreadHashes) and counts
 * as one of the `threads`: on two cores that is one worker thread, not two.
 * A worker spends ~90 ms of CPU in Node's own start-up before its first task,
 * time the 2 000-file bench tree (0.1-0.2 s of hashing) cannot win back; and
 * the main thread no longer sits idle while the workers finish.
 */
import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { HashPool } from '../hashing/pool.ts';

/**
 * A single file this small is hashed by the calling thread alone: SHA-1 reads
 * ~16 MiB in less time than a worker takes to start (and its start would
 * compete for the cores). A directory always gets its workers, which start
 * while it is walked.
 */
const ALONE_BELOW = 16 * 1024 * 1024;

/**
 * `threads`: hashing threads in all, this one included (default: available
 * parallelism). `input`, when given, is the path create will read: a small
 * single file starts no worker.
 */
export function createHashPool(threads: number = availableParallelism(), input?: string): HashPool {
  const workers = input !== undefined && isSmallFile(input) ? 0 : Math.max(0, threads - 1);
  return new HashPool({ threads: workers, startAllThreads: true, callingThreadHashes: true });
}

function isSmallFile(path: string): boolean {
  try {
    const stats = statSync(path);
    return stats.isFile() && stats.size < ALONE_BELOW;
  } catch {
    // The walk reports it, in its own words.
    return false;
  }
}
