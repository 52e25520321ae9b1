/**
 * The real hash worker, ready only after two seconds: stands in for a worker
 * thread that starts slowly on a busy machine (tests of what the calling
 * thread does meanwhile).
 */
import run from '../../src/core/hashing/hash-worker.ts';

export default new Promise<typeof run>((resolve) => setTimeout(() => resolve(run), 2000));
