/**
 * The hash pool: what shoal hashes (SHA-1 for v1, SHA-256 merkle trees for
 * v2) as jobs over whole piece spaces, files or pieces in memory. Data already
 * on disk is read by the workers themselves; in-memory pieces are
 * transferred (moved) or shared, never copied. Jobs are cut into tasks
 * (task-batches.ts) that HashTaskRunner (task-runner.ts) runs on worker
 * threads. Comparing results with a torrent is verify/'s job, not this one.
 */
import { availableParallelism } from 'node:os';
import { PieceLayout } from '../storage/layout.ts';
import { HASH_SIZE, leavesPerPiece } from '../digest/merkle.ts';
import {
  fileBatches,
  sourceBatches,
  v1Batches,
  type DiskFile,
  type FileHashRequest,
  type PieceSources,
} from './task-batches.ts';
import {
  DEFAULT_CALLING_THREAD_BUDGET,
  type CallingThreadBudgetOptions,
} from './calling-thread-budget.ts';
import { HashTaskRunner, type HashRunOptions } from './task-runner.ts';
import { ReadStatus, type HashTaskResult } from './tasks.ts';
import { defaultWorkerFilename } from './worker-location.ts';

export { ReadStatus } from './tasks.ts';
export type { DiskFile, FileHashRequest, PieceSources } from './task-batches.ts';
export type { HashRunOptions } from './task-runner.ts';

export interface HashPoolOptions {
  /** Worker threads; defaults to os.availableParallelism(). 0 only with callingThreadHashes. */
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
  /**
   * The calling thread hashes beside the workers until a job is done, not only
   * while they start (task-runner.ts). For callers that only wait meanwhile
   * (create); its event loop is busy for a task at a time (8 MiB by default).
   */
  callingThreadHashes?: boolean;
  /**
   * Pieces in shared memory (a download's received pieces, sha1SharedPieces
   * and the like) are hashed on the calling thread while it spends less
   * than a share of its time on them (`true`: half, see
   * calling-thread-budget.ts), and start no worker meanwhile; past that
   * share, and for work read from disk (checks), the workers hash. A worker
   * thread costs a download ~18 MiB of peak RSS (its isolate, heap, malloc
   * arena and the binary's pages its bootstrap touches) and more CPU than
   * hashing a piece on the main thread saves it (handing the piece over,
   * waking two threads per piece): docs/PERFORMANCE.md, "Download memory
   * (2026-12-07, morning)".
   */
  sharedOnCallingThread?: boolean | CallingThreadBudgetOptions;
}

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

export class HashPool {
  readonly threads: number;
  readonly batchBytes: number;
  readonly #runner: HashTaskRunner;

  constructor(options: HashPoolOptions = {}) {
    const threads = options.threads ?? availableParallelism();
    const fewest = options.callingThreadHashes ? 0 : 1;
    if (!Number.isInteger(threads) || threads < fewest)
      throw new RangeError(`invalid thread count ${threads}`);
    this.threads = threads;
    this.batchBytes = options.batchBytes ?? DEFAULT_BATCH;
    this.#runner = new HashTaskRunner({
      threads,
      workerFilename: options.workerFilename ?? defaultWorkerFilename(),
      startAllThreads: options.startAllThreads ?? false,
      callingThreadHashes: options.callingThreadHashes ?? false,
      sharedOnCallingThread:
        options.sharedOnCallingThread === true
          ? DEFAULT_CALLING_THREAD_BUDGET
          : options.sharedOnCallingThread || undefined,
    });
  }

  /**
   * True once a worker has answered a task. Until then a task would wait for
   * a thread to start and load the hashing code, 0.1-0.3 s on a busy two-core
   * machine, so the pool runs tasks it can on the calling thread instead
   * (#runAll, #runShared).
   */
  get warm(): boolean {
    return this.#runner.warm;
  }

  /**
   * Whether a worker thread was started. Not before the pool's first task (or
   * warmUp): see HashTaskRunner's constructor. startAllThreads starts them at once.
   */
  get workersStarted(): boolean {
    return this.#runner.started;
  }

  /** Tasks this thread ran itself while the pool was cold, and tasks the workers ran (warm-ups aside). */
  get tasksRun(): { callingThread: number; workers: number } {
    return this.#runner.tasksRun;
  }

  /** Sends an empty task now, so the pool is warm as early as possible (once is enough). */
  warmUp(): void {
    this.#runner.warmUp();
  }

  /** Stops the workers; pending tasks are rejected. */
  async destroy(): Promise<void> {
    await this.#runner.destroy();
  }

  /** SHA-1 of every piece of a v1/hybrid piece space read from disk (pieces span files; padding reads as zeros). */
  async hashV1Pieces(input: V1PiecesInput, options: HashRunOptions = {}): Promise<V1PiecesResult> {
    const layout = new PieceLayout(input);
    const digests = new Uint8Array(input.pieceCount * 20);
    const status = new Uint8Array(input.pieceCount);
    await this.#runner.runAll(
      v1Batches(layout, input.files, this.batchBytes),
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
    await this.#runner.runAll(
      sourceBatches(pieces, algorithm, batchBytes),
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
    await this.#runner.runAll(
      fileBatches(jobs, pieceLength, this.batchBytes),
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
    await this.#runner.runAll(
      fileBatches(jobs, pieceLength, this.batchBytes),
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
    const result = await this.#runner.run({ op: 'v1-buffer', buffer, sizes }, undefined, [buffer]);
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
    const result = await this.#runner.run(
      { op: 'v2-buffer', buffer, pieceLength, items },
      undefined,
      [buffer],
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
    return (await this.#v1Pieces(pieces, false)).sha1;
  }

  /**
   * As sha1SharedPieces, plus each piece's resume fingerprint (8 bytes LE per
   * piece, hashing/fingerprint.ts) from the same thread and pass over the data.
   */
  async sha1AndFingerprintSharedPieces(
    pieces: readonly Uint8Array<SharedArrayBuffer>[],
  ): Promise<{ sha1: Uint8Array; fingerprints: Uint8Array }> {
    const result = await this.#v1Pieces(pieces, true);
    return { sha1: result.sha1, fingerprints: result.fingerprints! };
  }

  #v1Pieces(
    pieces: readonly Uint8Array<SharedArrayBuffer>[],
    fingerprints: boolean,
  ): Promise<HashTaskResult> {
    return this.#runner.runShared({
      op: 'v1-pieces',
      pieces: pieces.map((piece) => ({
        buffer: piece.buffer,
        start: piece.byteOffset,
        size: piece.length,
      })),
      fingerprints,
    });
  }

  /**
   * v2 hashes of pieces each held in its own shared memory, in one task (32
   * bytes per piece; see sha256Buffer for the modes): `length` bytes of each
   * are hashed (a v2 file's last piece ends at the file's end), and each
   * piece's resume fingerprint covers all of it (8 bytes LE per piece).
   */
  async sha256AndFingerprintSharedPieces(
    pieceLength: number,
    pieces: readonly {
      data: Uint8Array<SharedArrayBuffer>;
      length: number;
      mode: 'pieces' | 'root';
    }[],
  ): Promise<{ sha256: Uint8Array; fingerprints: Uint8Array }> {
    leavesPerPiece(pieceLength);
    const result = await this.#runner.runShared({
      op: 'v2-pieces',
      pieceLength,
      pieces: pieces.map(({ data, length, mode }) => ({
        buffer: data.buffer,
        start: data.byteOffset,
        size: data.length,
        length,
        mode,
      })),
      fingerprints: true,
    });
    return { sha256: result.sha256, fingerprints: result.fingerprints! };
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
    const result = await this.#runner.runShared({
      op: 'v2-buffer',
      buffer: data.buffer,
      pieceLength,
      items: placed,
    });
    return result.sha256;
  }
}
