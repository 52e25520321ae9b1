/**
 * The hash pool `create` hashes with. The calling thread has nothing else to
 * do while create hashes, so it hashes too (callingThreadHashes) and counts
 * as one of the `threads`: on two cores that is one worker thread, not two.
 * A worker spends ~90 ms of CPU in Node's own start-up before its first task,
 * time the 2 000-file bench tree (0.1-0.2 s of hashing) cannot win back; and
 * the main thread no longer sits idle while the workers finish.
 */
import { availableParallelism } from 'node:os';
import { HashPool } from '../hashing/pool.ts';

/** `threads`: hashing threads in all, this one included (default: available parallelism). */
export function createHashPool(threads: number = availableParallelism()): HashPool {
  return new HashPool({
    threads: Math.max(0, threads - 1),
    startAllThreads: true,
    callingThreadHashes: true,
  });
}
