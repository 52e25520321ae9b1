/**
 * The hash pool: a piscina pool of worker threads that hash pieces (SHA-1 for
 * v1, SHA-256 merkle trees for v2). Data already on disk is read by the workers
 * themselves; in-memory pieces are transferred (moved), never copied.
 *
 * Work is cut into tasks of a few MiB of consecutive pieces, and at most
 * `2 * threads` tasks are in flight, so memory stays bounded whatever the
 * torrent's size.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { diskErrorFrom } from '../errors.ts';
import { PieceLayout } from '../storage/layout.ts';
import { HASH_SIZE, leavesPerPiece } from '../digest/merkle.ts';
import runHashTask from './hash-worker.ts';
import { defaultWorkerFilename } from './worker-location.ts';
import {
  isFailure,
  ReadStatus,
  type FileRangeJob,
  type HashTask,
  type HashTaskFailure,
  type HashTaskResult,
  type SpanJob,
  type FileRangesTask,
  type V1PiecesTask,
  type V1SpansTask,
  type V2BufferTask,
} from './tasks.ts';

export { ReadStatus } from './tasks.ts';

export type ProgressCallback = (bytesHashed: number) => void;

export interface HashPoolOptions {
  /** Worker threads; defaults to os.availableParallelism(). */
  threads?: number;
  /** Target bytes per task (default 8 MiB; a task always holds at least one piece). */
  batchBytes?: number;
  /** Worker module; defaults to hash-worker.ts/.js next to this module (a bundler may override it). */
  workerFilename?: string;
  /**
   * Start every thread now instead of one (bulk work such as create, where
   * the threads then start while the caller is still walking files).
   */
  startAllThreads?: boolean;
}

export interface HashRunOptions {
  /** Called with the total bytes hashed so far, after each task. */
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}

/** A file in the piece space, with where to read it. */
export interface DiskFile {
  /** Absolute path on disk; ignored for padding files. */
  path: string;
  length: number;
  offset: number;
  padding: boolean;
}

/** Where the bytes of one piece live, in order (`path: null` reads as zeros). */
export type PieceSources = { path: string | null; position: number; length: number }[];

export interface V1PiecesInput {
  pieceLength: number;
  pieceCount: number;
  spaceSize: number;
  files: DiskFile[];
}

export interface V1PiecesResult {
  /** pieceCount * 20 bytes (zeros where `status` is not ok). */
  digests: Uint8Array;
  /** ReadStatus per piece. */
  status: Uint8Array;
}

/** One whole file to hash piece by piece (create for v2/hybrid). */
export interface FileHashRequest {
  path: string;
  length: number;
  /** SHA-1 of each piece of the file (hybrid: pieces start at the file's start). */
  sha1: boolean;
  /** Pad the file's last SHA-1 piece with zeros to a full piece (hybrid: a padding file follows). */
  sha1PadLastPiece: boolean;
  /** Compute the v2 merkle root and piece layer. */
  v2: boolean;
}

export interface FileHashResult {
  /** 20 bytes per piece of the file, or null if sha1 was not asked for. */
  sha1: Uint8Array | null;
  /** v2 piece layer: 32 bytes per piece; null when not asked for or the file is at most one piece. */
  pieceLayer: Uint8Array | null;
  /**
   * v2 root: for a file of at most one piece, its root; for a larger file, null
   * here (derive it with rootFromPieceLayer, which needs no disk access).
   */
  smallRoot: Uint8Array | null;
  status: number;
}

export interface V2PiecesResult {
  /** pieceCount * 32 bytes: each piece's layer entry, or its file's root (see hashV2Pieces). */
  digests: Uint8Array;
  /** ReadStatus per piece. */
  status: Uint8Array;
}

const DEFAULT_BATCH = 8 * 1024 * 1024;
const XXH64_BATCH_FACTOR = 8;
/** Bounds the structured-clone size of one task when files are tiny. */
const MAX_ITEMS_PER_TASK = 2048;

function movable<T extends object>(value: T, transfer: ArrayBuffer[]): T {
  const wrapper = {
    [Piscina.transferableSymbol]: transfer,
    [Piscina.valueSymbol]: value,
  };
  // The pool unwraps the marker and sends `value` with `transfer` moved.
  return Piscina.move(wrapper as never) as unknown as T;
}

export class HashPool {
  readonly threads: number;
  readonly batchBytes: number;
  readonly #pool: Piscina<HashTask, HashTaskResult | HashTaskFailure>;
  #destroyed = false;
  #warm = false;
  #warmingUp = false;
  readonly #tasksRun = { callingThread: 0, workers: 0 };

  constructor(options: HashPoolOptions = {}) {
    const threads = options.threads ?? availableParallelism();
    if (!Number.isInteger(threads) || threads < 1)
      throw new RangeError(`invalid thread count ${threads}`);
    this.threads = threads;
    this.batchBytes = options.batchBytes ?? DEFAULT_BATCH;
    this.#pool = new Piscina({
      filename: options.workerFilename ?? defaultWorkerFilename(),
      // One worker stays up (unless startAllThreads); more start when work queues
      // (checks) and leave when idle. A download's steady hashing fits in one,
      // and each worker's heap costs memory.
      minThreads: options.startAllThreads ? threads : 1,
      maxThreads: threads,
      idleTimeout: 5_000,
    });
  }

  /**
   * True once a worker has answered a task. Until then a task would wait for
   * a thread to start and load the hashing code, 0.1-0.3 s on a busy two-core
   * machine, so the pool runs tasks it can on the calling thread instead
   * (#runAll, #runShared).
   */
  get warm(): boolean {
    return this.#warm;
  }

  /** Tasks this thread ran itself while the pool was cold, and tasks the workers ran (warm-ups aside). */
  get tasksRun(): { callingThread: number; workers: number } {
    return { ...this.#tasksRun };
  }

  /** Sends an empty task now, so the pool is warm as early as possible (once is enough). */
  warmUp(): void {
    if (this.#warmingUp || this.#destroyed) return;
    this.#warmingUp = true;
    // Only readiness matters here; a failure shows in the real tasks.
    this.#run({ op: 'v1-pieces', pieces: [] }).catch(() => {});
  }

  /** Stops the workers; pending tasks are rejected. */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    await this.#pool.destroy();
  }

  /** SHA-1 of every piece of a v1/hybrid piece space read from disk (pieces span files; padding reads as zeros). */
  async hashV1Pieces(input: V1PiecesInput, options: HashRunOptions = {}): Promise<V1PiecesResult> {
    const layout = new PieceLayout(input);
    const digests = new Uint8Array(input.pieceCount * 20);
    const status = new Uint8Array(input.pieceCount);
    const files = input.files;
    const batches = this.#v1Batches(layout, files);
    await this.#runAll(
      batches,
      (b) => b.task,
      (b, result) => {
        digests.set(result.sha1, b.firstPiece * 20);
        status.set(result.status, b.firstPiece);
      },
      options,
    );
    return { digests, status };
  }

  /**
   * Hashes the given pieces, each described by where its bytes live (a file
   * and position, or `path: null` for zeros), reading them in the workers.
   * Used where pieces map onto more than the torrent's own files (the parts
   * file of unselected files) and for resume checks. Returns, per input piece,
   * its SHA-1 (20 bytes, unless `xxh64` alone was asked for), its xxh64
   * fingerprint (8 bytes LE, for `xxh64` and `both`) and a ReadStatus.
   */
  async hashSources(
    pieces: readonly PieceSources[],
    algorithm: 'sha1' | 'xxh64' | 'both',
    options: HashRunOptions = {},
  ): Promise<{ sha1: Uint8Array; fingerprints: Uint8Array; status: Uint8Array }> {
    const sha1 = new Uint8Array(algorithm === 'xxh64' ? 0 : pieces.length * 20);
    const fingerprints = new Uint8Array(algorithm === 'sha1' ? 0 : pieces.length * 8);
    const status = new Uint8Array(pieces.length);
    // xxh64 costs a tenth of SHA-1 per byte: larger tasks keep the per-task
    // hand-over (a few tenths of a millisecond) from dominating.
    const batchBytes =
      algorithm === 'xxh64' ? this.batchBytes * XXH64_BATCH_FACTOR : this.batchBytes;
    const batches = {
      *[Symbol.iterator]() {
        let next = 0;
        while (next < pieces.length) {
          const first = next;
          const paths: string[] = [];
          const pathIndex = new Map<string, number>();
          const jobs: SpanJob[][] = [];
          let bytes = 0;
          while (next < pieces.length && (jobs.length === 0 || bytes < batchBytes)) {
            jobs.push(
              pieces[next]!.map((source): SpanJob => {
                if (source.path === null) return { path: -1, offset: 0, length: source.length };
                let p = pathIndex.get(source.path);
                if (p === undefined) {
                  p = paths.length;
                  paths.push(source.path);
                  pathIndex.set(source.path, p);
                }
                return { path: p, offset: source.position, length: source.length };
              }),
            );
            bytes += pieces[next]!.reduce((sum, source) => sum + source.length, 0);
            next++;
          }
          yield { first, task: { op: 'v1-spans', algorithm, paths, pieces: jobs } as V1SpansTask };
        }
      },
    };
    await this.#runAll(
      batches,
      (b) => b.task,
      (b, result) => {
        if (sha1.length) sha1.set(result.sha1, b.first * 20);
        if (fingerprints.length) fingerprints.set(result.fingerprints!, b.first * 8);
        status.set(result.status, b.first);
      },
      options,
    );
    return { sha1, fingerprints, status };
  }

  /** Per-file hashes (SHA-1 pieces from the file's start and/or v2 merkle) read from disk, in request order. */
  async hashFiles(
    requests: FileHashRequest[],
    pieceLength: number,
    options: HashRunOptions = {},
  ): Promise<FileHashResult[]> {
    if (requests.some((r) => r.v2)) leavesPerPiece(pieceLength);
    const results: FileHashResult[] = requests.map((r) => {
      const pieces = Math.ceil(r.length / pieceLength);
      return {
        sha1: r.sha1 ? new Uint8Array(pieces * 20) : null,
        pieceLayer: r.v2 && r.length > pieceLength ? new Uint8Array(pieces * HASH_SIZE) : null,
        smallRoot: null,
        status: ReadStatus.ok,
      };
    });
    const jobs = requests.map((r, i) => ({ index: i, request: r }));
    await this.#runAll(
      this.#fileBatches(jobs, pieceLength),
      (b) => b.task,
      (b, result) => {
        let sha1At = 0;
        let sha256At = 0;
        b.parts.forEach((part, k) => {
          const item = b.task.items[k]!;
          const out = results[part.request]!;
          const pieces = Math.ceil(item.length / pieceLength);
          const firstPiece = item.start / pieceLength;
          if (item.sha1) {
            out.sha1!.set(
              result.sha1.subarray(sha1At * 20, (sha1At + pieces) * 20),
              firstPiece * 20,
            );
            sha1At += pieces;
          }
          if (item.v2 === 'pieces') {
            out.pieceLayer!.set(
              result.sha256.subarray(sha256At * HASH_SIZE, (sha256At + pieces) * HASH_SIZE),
              firstPiece * HASH_SIZE,
            );
            sha256At += pieces;
          } else if (item.v2 === 'root') {
            out.smallRoot = result.sha256.slice(sha256At * HASH_SIZE, (sha256At + 1) * HASH_SIZE);
            sha256At += 1;
          }
          if (result.status[k]! > out.status) out.status = result.status[k]!;
        });
      },
      options,
    );
    return results;
  }

  /**
   * The v2 hash of every piece of a v2 piece space read from disk: for a file
   * longer than a piece, its piece-layer entries; for a file of at most one
   * piece, its merkle root. Pieces no file's data starts in (alignment after a
   * file's end) keep zeros and ReadStatus `missing`. Comparing with what a
   * torrent expects is verify/'s job.
   */
  async hashV2Pieces(
    files: DiskFile[],
    pieceLength: number,
    pieceCount: number,
    options: HashRunOptions = {},
  ): Promise<V2PiecesResult> {
    const digests = new Uint8Array(pieceCount * HASH_SIZE);
    const status = new Uint8Array(pieceCount).fill(ReadStatus.missing);
    const jobs: { index: number; request: FileHashRequest }[] = [];
    files.forEach((file, index) => {
      if (file.length === 0 || file.padding) return;
      jobs.push({
        index,
        request: {
          path: file.path,
          length: file.length,
          sha1: false,
          sha1PadLastPiece: false,
          v2: true,
        },
      });
    });
    await this.#runAll(
      this.#fileBatches(jobs, pieceLength),
      (b) => b.task,
      (b, result) => {
        let at = 0;
        b.parts.forEach((part, k) => {
          const item = b.task.items[k]!;
          const file = files[part.request]!;
          const firstPiece = (file.offset + item.start) / pieceLength;
          const count = item.v2 === 'root' ? 1 : Math.ceil(item.length / pieceLength);
          for (let p = 0; p < count; p++) {
            status[firstPiece + p] = result.status[k]!;
            digests.set(
              result.sha256.subarray((at + p) * HASH_SIZE, (at + p + 1) * HASH_SIZE),
              (firstPiece + p) * HASH_SIZE,
            );
          }
          at += count;
        });
      },
      options,
    );
    return { digests, status };
  }

  /**
   * SHA-1 of pieces in memory. `buffer` holds the pieces back to back with the
   * given sizes; it is transferred to a worker (detached here afterwards).
   */
  async sha1Buffer(buffer: ArrayBuffer, sizes: number[]): Promise<Uint8Array> {
    const result = await this.#run(movable({ op: 'v1-buffer', buffer, sizes }, [buffer]));
    return result.sha1;
  }

  /**
   * v2 hashes of pieces in memory, back to back in `buffer` (transferred): for
   * a piece of a file larger than one piece, its piece-layer hash (`pieces`);
   * for a file of at most one piece, the file's root (`root`).
   */
  async sha256Buffer(
    buffer: ArrayBuffer,
    pieceLength: number,
    items: { length: number; mode: 'pieces' | 'root' }[],
  ): Promise<Uint8Array> {
    leavesPerPiece(pieceLength);
    const result = await this.#run(
      movable({ op: 'v2-buffer', buffer, pieceLength, items }, [buffer]),
    );
    return result.sha256;
  }

  /**
   * SHA-1 of pieces held back to back in shared memory (downloaded pieces,
   * resume checks): the worker reads the same memory, so nothing is copied and
   * the caller can still write the data to disk afterwards.
   */
  async sha1Shared(
    data: Uint8Array<SharedArrayBuffer>,
    sizes: number[] = [data.length],
  ): Promise<Uint8Array> {
    let at = 0;
    const pieces = sizes.map((size) => {
      const piece = data.subarray(at, at + size);
      at += size;
      return piece;
    });
    return this.sha1SharedPieces(pieces);
  }

  /** SHA-1 of pieces each held in its own shared memory, in one task (20 bytes per piece). */
  async sha1SharedPieces(pieces: readonly Uint8Array<SharedArrayBuffer>[]): Promise<Uint8Array> {
    const result = await this.#runShared({
      op: 'v1-pieces',
      pieces: pieces.map((piece) => ({
        buffer: piece.buffer,
        start: piece.byteOffset,
        size: piece.length,
      })),
    });
    return result.sha1;
  }

  /**
   * v2 hashes of items in shared memory (see sha256Buffer for the modes). Each
   * item starts at its `offset` into `data` (default: after the previous one).
   */
  async sha256Shared(
    data: Uint8Array<SharedArrayBuffer>,
    pieceLength: number,
    items: { length: number; mode: 'pieces' | 'root'; offset?: number }[],
  ): Promise<Uint8Array> {
    leavesPerPiece(pieceLength);
    let next = 0;
    const placed = items.map((item) => {
      const offset = data.byteOffset + (item.offset ?? next);
      next = offset - data.byteOffset + item.length;
      return { ...item, offset };
    });
    const result = await this.#runShared({
      op: 'v2-buffer',
      buffer: data.buffer,
      pieceLength,
      items: placed,
    });
    return result.sha256;
  }

  #v1Batches(
    layout: PieceLayout,
    files: DiskFile[],
  ): Iterable<{ firstPiece: number; task: V1SpansTask }> {
    const batchBytes = this.batchBytes;
    return {
      *[Symbol.iterator]() {
        let piece = 0;
        while (piece < layout.pieceCount) {
          const firstPiece = piece;
          const paths: string[] = [];
          const pathIndex = new Map<number, number>();
          const pieces: SpanJob[][] = [];
          let bytes = 0;
          while (
            piece < layout.pieceCount &&
            (pieces.length === 0 || bytes + layout.pieceLength <= batchBytes)
          ) {
            const spans = layout.fileSpans(piece).map((span): SpanJob => {
              if (span.padding) return { path: -1, offset: 0, length: span.length };
              let p = pathIndex.get(span.fileIndex);
              if (p === undefined) {
                p = paths.length;
                paths.push(files[span.fileIndex]!.path);
                pathIndex.set(span.fileIndex, p);
              }
              return { path: p, offset: span.fileOffset, length: span.length };
            });
            pieces.push(spans);
            bytes += layout.pieceSize(piece);
            piece++;
          }
          yield { firstPiece, task: { op: 'v1-spans', paths, pieces } };
        }
      },
    };
  }

  /** Cuts files into piece-aligned ranges and groups them into tasks of about batchBytes. */
  #fileBatches(
    jobs: { index: number; request: FileHashRequest }[],
    pieceLength: number,
  ): Iterable<{ parts: { request: number }[]; task: HashTask & { op: 'file-ranges' } }> {
    const rangeBytes = Math.max(
      pieceLength,
      Math.floor(this.batchBytes / pieceLength) * pieceLength,
    );
    const batchBytes = this.batchBytes;
    return {
      *[Symbol.iterator]() {
        let paths: string[] = [];
        let items: FileRangeJob[] = [];
        let parts: { request: number }[] = [];
        let bytes = 0;
        for (const { index, request } of jobs) {
          if (request.length === 0) continue;
          let path = paths.push(request.path) - 1;
          for (let start = 0; start < request.length; start += rangeBytes) {
            const length = Math.min(rangeBytes, request.length - start);
            if (
              items.length > 0 &&
              (bytes + length > batchBytes || items.length >= MAX_ITEMS_PER_TASK)
            ) {
              yield { parts, task: { op: 'file-ranges', pieceLength, paths, items } };
              // The rest of the current file goes into a fresh task.
              paths = [request.path];
              path = 0;
              items = [];
              parts = [];
              bytes = 0;
            }
            items.push({
              path,
              start,
              length,
              sha1: request.sha1,
              sha1PadTo: request.sha1PadLastPiece ? pieceLength : 0,
              v2: !request.v2 ? 'none' : request.length > pieceLength ? 'pieces' : 'root',
            });
            parts.push({ request: index });
            bytes += length;
          }
        }
        if (items.length > 0)
          yield { parts, task: { op: 'file-ranges', pieceLength, paths, items } };
      },
    };
  }

  /**
   * Runs a task whose data is in shared memory (nothing to move): on this
   * thread while no worker has answered yet, as #runAll does for disk tasks,
   * and on the pool after. The first pieces of a download are checked at once
   * instead of waiting for a thread to start.
   */
  async #runShared(task: V1PiecesTask | V2BufferTask): Promise<HashTaskResult> {
    if (!this.#warm && !this.#destroyed) {
      this.warmUp();
      this.#tasksRun.callingThread++;
      return settled(runHashTask(task));
    }
    const result = await this.#run(task);
    this.#tasksRun.workers++;
    return result;
  }

  async #run(task: HashTask, signal?: AbortSignal): Promise<HashTaskResult> {
    if (this.#destroyed) throw new Error('the hash pool is closed');
    const result = await this.#pool.run(task, signal ? { signal } : {});
    this.#warm = true;
    return settled(result);
  }

  /**
   * Runs tasks with a bounded window in flight; results are handed over in
   * completion order.
   *
   * Until a worker has answered (its thread is still starting, 50-300 ms on a
   * busy two-core machine), the calling thread takes tasks from the same queue
   * and runs them itself, one at a time with a turn of the event loop in
   * between, so the first worker answer is seen at once and nothing waits for
   * thread start-up. Once the pool is warm, the workers do all the work.
   */
  async #runAll<B>(
    batches: Iterable<B>,
    taskOf: (batch: B) => DiskTask,
    onResult: (batch: B, result: HashTaskResult) => void,
    options: HashRunOptions,
  ): Promise<void> {
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
        const promise: Promise<void> = this.#run(taskOf(next.value), options.signal).then(
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

    fillWindow();
    while (!this.#warm && !this.#destroyed) {
      const next = nextBatch();
      if (!next) break;
      try {
        this.#tasksRun.callingThread++;
        accept(next.value, settled(runHashTask(taskOf(next.value))));
      } catch (error) {
        failure ??= error;
      }
      await new Promise((resolve) => setImmediate(resolve));
      fillWindow();
    }
    while (inFlight.size > 0) {
      await Promise.race(inFlight);
      fillWindow();
    }
    if (failure !== null) throw failure;
  }
}

/** Tasks that read their data from disk: plain values, safe to run on any thread. */
type DiskTask = V1SpansTask | FileRangesTask;

/** A worker's answer as a result, or its file-system failure as a DiskError. */
function settled(result: HashTaskResult | HashTaskFailure): HashTaskResult {
  if (!isFailure(result)) return result;
  const { code, message, path, action } = result.failure;
  const error = Object.assign(new Error(message), code ? { code } : {});
  throw diskErrorFrom(error, action, path);
}
