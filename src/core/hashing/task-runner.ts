/**
 * Runs hash tasks on a piscina pool of worker threads, and on the calling
 * thread while the pool is still cold (a worker thread takes 0.1-0.3 s to
 * start on a busy two-core machine; the first pieces of a download or a check
 * should not wait for it). At most `2 * threads` tasks are in flight, so
 * memory stays bounded whatever the work's size. What the tasks are is the
 * hash pool's business (pool.ts); this only runs them.
 *
 * piscina itself loads when the first worker starts: its module graph
 * (worker_threads, perf_hooks, assert) was a few milliseconds of a download's
 * start-up, before its first piece, which the calling thread hashes anyway.
 */
import type { Piscina } from 'piscina';
import { diskErrorFrom } from '../errors.ts';
import runHashTask from './hash-worker.ts';
import { CallingThreadBudget, type CallingThreadBudgetOptions } from './calling-thread-budget.ts';
import {
  isFailure,
  type FileRangesTask,
  type HashTask,
  type HashTaskFailure,
  type HashTaskResult,
  type V1PiecesTask,
  type V1SpansTask,
  type V2BufferTask,
  type V2PiecesTask,
} from './tasks.ts';

export interface HashRunOptions {
  /** Called with the total bytes hashed so far, after each task. */
  onProgress?: (bytesHashed: number) => void;
  signal?: AbortSignal;
}

export interface TaskRunnerOptions {
  /** Worker threads; 0 only with callingThreadHashes (then every task runs on the calling thread). */
  threads: number;
  workerFilename: string;
  /** Start every thread now instead of one (bulk work such as create). */
  startAllThreads: boolean;
  /**
   * The calling thread keeps running disk tasks beside the workers, not only
   * while the pool is cold (see runAll). For callers with nothing else to do
   * on that thread (create): it is one more hashing thread that needs no
   * start-up, so such a pool needs one worker fewer.
   */
  callingThreadHashes?: boolean;
  /**
   * Pieces in shared memory are hashed on the calling thread while this
   * budget allows, and start no worker meanwhile (see HashPoolOptions).
   */
  sharedOnCallingThread?: CallingThreadBudgetOptions;
}

export class HashTaskRunner {
  readonly threads: number;
  readonly #options: TaskRunnerOptions;
  /** Undefined until first needed (see the constructor); resolves to null for a pool of no workers. */
  #pool: Promise<WorkerPool | null> | undefined = undefined;
  readonly #callingThreadHashes: boolean;
  /** The calling thread's budget for pieces in shared memory; null: only while no worker answered. */
  readonly #sharedBudget: CallingThreadBudget | null;
  #destroyed = false;
  #warm = false;
  #warmingUp = false;
  readonly #tasksRun = { callingThread: 0, workers: 0 };

  constructor(options: TaskRunnerOptions) {
    this.threads = options.threads;
    this.#callingThreadHashes = options.callingThreadHashes ?? false;
    this.#sharedBudget = options.sharedOnCallingThread
      ? new CallingThreadBudget(options.sharedOnCallingThread)
      : null;
    if (options.threads === 0 && !this.#callingThreadHashes)
      throw new RangeError('a hash pool without worker threads needs callingThreadHashes');
    this.#options = options;
    // Bulk work (create) wants its threads starting while it still walks files. Anything
    // else starts its first worker at its first task: a download's pool exists before its
    // torrent is read, and a thread starting then (its spawn on this thread, its boot on
    // the other core) competed with everything on the way to the first piece, which the
    // calling thread hashes in a millisecond or two anyway.
    // A failure to start shows in the tasks, which wait for the same start.
    if (options.startAllThreads) this.#workers().catch(() => {});
  }

  /** The worker pool, started on first use; null for a pool of no workers. */
  #workers(): Promise<WorkerPool | null> {
    this.#pool ??= this.#startWorkers();
    return this.#pool;
  }

  async #startWorkers(): Promise<WorkerPool | null> {
    const options = this.#options;
    if (options.threads === 0) return null;
    const { Piscina } = await import('piscina');
    return new Piscina({
      filename: options.workerFilename,
      // One worker stays up (unless startAllThreads); more start when work queues
      // (checks) and leave when idle. A download's steady hashing fits in one,
      // and each worker's heap costs memory.
      minThreads: options.startAllThreads ? options.threads : 1,
      maxThreads: options.threads,
      idleTimeout: 5_000,
      // When the calling thread hashes too, a worker holds its next task already: the
      // calling thread hands out work only between its own tasks (~20 ms each), and a
      // next task waiting in piscina's queue there left the worker idle meanwhile.
      // Tasks still run one at a time on the worker.
      concurrentTasksPerWorker: this.#callingThreadHashes ? 2 : 1,
    });
  }

  /** Whether a worker thread has been started (for tests: a pool that had no work starts none). */
  get started(): boolean {
    return this.#pool !== undefined && this.threads > 0;
  }

  /** True once a worker has answered a task (see the file comment). */
  get warm(): boolean {
    return this.#warm;
  }

  /** Tasks this thread ran itself while the pool was cold, and tasks the workers ran (warm-ups aside). */
  get tasksRun(): { callingThread: number; workers: number } {
    return { ...this.#tasksRun };
  }

  /** Sends an empty task now, so the pool is warm as early as possible (once is enough). */
  warmUp(): void {
    if (this.#warmingUp || this.#destroyed || this.threads === 0) return;
    this.#warmingUp = true;
    // Only readiness matters here; a failure shows in the real tasks.
    this.run({ op: 'v1-pieces', pieces: [] }).catch(() => {});
  }

  /** Stops the workers; pending tasks are rejected. */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    await (await this.#pool)?.destroy();
  }

  /**
   * Runs a task whose data is in shared memory (nothing to move): on this
   * thread while no worker has answered yet, as runAll does for disk tasks,
   * and on the pool after. The first pieces of a download are checked at once
   * instead of waiting for a thread to start. With sharedOnCallingThread,
   * on this thread while its budget allows (no worker starts for them), and
   * on the pool past it.
   */
  async runShared(task: V1PiecesTask | V2BufferTask | V2PiecesTask): Promise<HashTaskResult> {
    const budget = this.#sharedBudget;
    if (budget && !this.#destroyed && budget.allows()) {
      this.#tasksRun.callingThread++;
      return settled(budget.spend(() => runHashTask(task)));
    }
    if ((!this.#warm || this.threads === 0) && !this.#destroyed) {
      this.#tasksRun.callingThread++;
      const result = settled(runHashTask(task));
      // The worker starts after this piece's verdict is handled, not before: a download's
      // first piece is not held up by the thread's spawn.
      if (!this.#warmingUp) setImmediate(() => this.warmUp());
      return result;
    }
    const result = await this.run(task);
    this.#tasksRun.workers++;
    return result;
  }

  /** Runs `task` on a worker; `transfer` is moved to it instead of copied (detached here). */
  async run(
    task: HashTask,
    signal?: AbortSignal,
    transfer?: ArrayBuffer[],
  ): Promise<HashTaskResult> {
    if (this.#destroyed) throw new Error('the hash pool is closed');
    const pool = await this.#workers();
    if (!pool) return settled(runHashTask(task));
    const result = await pool.run(task, { signal, transferList: transfer });
    this.#warm = true;
    return settled(result);
  }

  /**
   * Runs tasks with a bounded window in flight; results are handed over in
   * completion order.
   *
   * Until a worker has answered (its thread is still starting, 50-300 ms on a
   * busy two-core machine), the calling thread runs the tasks itself, one at a
   * time with a turn of the event loop in between, and the pool gets only an
   * empty warm-up task, so the first worker answer is seen at once and no task
   * waits for thread start-up. Once the pool is warm, the workers do all the
   * work, unless callingThreadHashes: then this thread goes on taking a task
   * whenever the workers' window is full, until none is left.
   */
  async runAll<B>(
    batches: Iterable<B>,
    taskOf: (batch: B) => DiskTask,
    onResult: (batch: B, result: HashTaskResult) => void,
    options: HashRunOptions,
  ): Promise<void> {
    // Two tasks per worker: one running, one queued so it never waits for this thread to
    // hand it the next. More only lengthens the tail where one thread still works alone.
    const window = this.threads * 2;
    const iterator = batches[Symbol.iterator]();
    const inFlight = new Set<Promise<void>>();
    let failure: unknown = null;
    let exhausted = false;
    let bytes = 0;
    const accept = (batch: B, result: HashTaskResult): void => {
      if (failure !== null) return;
      onResult(batch, result);
      bytes += result.bytes;
      options.onProgress?.(bytes);
    };
    const nextBatch = (): { value: B } | null => {
      if (failure === null && options.signal?.aborted)
        failure = options.signal.reason ?? new Error('aborted');
      if (failure !== null || exhausted) return null;
      const next = iterator.next();
      if (next.done) {
        exhausted = true;
        return null;
      }
      return next;
    };
    const fillWindow = (): void => {
      while (inFlight.size < window) {
        const next = nextBatch();
        if (!next) return;
        const promise: Promise<void> = this.run(taskOf(next.value), options.signal).then(
          (result) => {
            inFlight.delete(promise);
            this.#tasksRun.workers++;
            accept(next.value, result);
          },
          (error: unknown) => {
            inFlight.delete(promise);
            failure ??= error;
          },
        );
        inFlight.add(promise);
      }
    };

    const sharing = this.#callingThreadHashes;
    while ((sharing || !this.#warm) && !this.#destroyed) {
      if (this.#warm) fillWindow();
      const next = nextBatch();
      if (!next) break;
      // A cold pool gets only the warm-up task: work queued for a thread that has not started
      // would wait for it, and a small job (create of one small file) would wait for nothing
      // else. Not before there is work: a check with nothing on disk starts no thread.
      if (!this.#warm) this.warmUp();
      try {
        this.#tasksRun.callingThread++;
        accept(next.value, settled(runHashTask(taskOf(next.value))));
      } catch (error) {
        failure ??= error;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    fillWindow();
    while (inFlight.size > 0) {
      await Promise.race(inFlight);
      fillWindow();
    }
    if (failure !== null) throw failure;
  }
}

type WorkerPool = Piscina<HashTask, HashTaskResult | HashTaskFailure>;

/** Tasks that read their data from disk: plain values, safe to run on any thread. */
type DiskTask = V1SpansTask | FileRangesTask;

/** A worker's answer as a result, or its file-system failure as a DiskError. */
function settled(result: HashTaskResult | HashTaskFailure): HashTaskResult {
  if (!isFailure(result)) return result;
  const { code, message, path, action } = result.failure;
  const error = Object.assign(new Error(message), code ? { code } : {});
  throw diskErrorFrom(error, action, path);
}
