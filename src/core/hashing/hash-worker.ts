/**
 * Piscina worker: hashes pieces read from disk by the worker itself (so no
 * file data crosses threads) or from transferred buffers. Runs one task at a
 * time, so the module-level read buffer is reused by every task of this worker.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { allocateAligned } from '../storage/aligned-memory.ts';
import { fingerprint, fingerprintHasher } from './fingerprint.ts';
import { BLOCK_SIZE, HASH_SIZE, merkleRoot, nextPowerOfTwo, sha256 } from '../digest/merkle.ts';
import {
  ReadStatus,
  type FileRangesTask,
  type HashTask,
  type HashTaskFailure,
  type HashTaskResult,
  type V1BufferTask,
  type V1PiecesTask,
  type V1SpansTask,
  type V2BufferTask,
  type V2PiecesTask,
} from './tasks.ts';

const SHA1_SIZE = 20;
/** Read size: a multiple of the 16 KiB block so v2 leaves never straddle two reads. */
const CHUNK = 1024 * 1024;

/**
 * Page-aligned (storage/aligned-memory.ts), not malloc'ed: where malloc put a
 * 1 MiB buffer depended on what the process had allocated before, and in the
 * executable's create fast path it landed where the kernel's copy from the
 * page cache ran 3.5x slower (perf: _copy_to_iter 36% of the run against 10%;
 * 2 GiB create: 1.2 against 0.4 s of system time). docs/PERFORMANCE.md.
 */
let readBuffer: Buffer | null = null;
let zeroBuffer: Buffer | null = null;

function chunkBuffer(): Buffer {
  readBuffer ??= Buffer.from(allocateAligned(CHUNK), 0, CHUNK);
  return readBuffer;
}

function zeros(): Buffer {
  zeroBuffer ??= Buffer.alloc(CHUNK);
  return zeroBuffer;
}

/** Raised inside the worker when a file is missing or ends early; turned into a status. */
class ReadProblem {
  readonly status: number;
  constructor(status: number) {
    this.status = status;
  }
}

/** A file-system failure other than "missing": reported to the pool as a DiskError. */
class FsFailure {
  readonly failure: HashTaskFailure['failure'];
  constructor(error: unknown, action: string, path: string) {
    const e = error as NodeJS.ErrnoException;
    this.failure = { code: e?.code ?? null, message: e?.message ?? String(error), path, action };
  }
}

/** Opens each path at most once per task and closes them all at the end of it. */
class Handles {
  readonly #paths: string[];
  readonly #fds = new Map<number, number | null>();
  constructor(paths: string[]) {
    this.#paths = paths;
  }

  fd(index: number): number {
    let fd = this.#fds.get(index);
    if (fd === undefined) {
      const path = this.#paths[index]!;
      try {
        fd = openSync(path, 'r');
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') fd = null;
        else throw new FsFailure(error, 'open', path);
      }
      this.#fds.set(index, fd);
    }
    if (fd === null) throw new ReadProblem(ReadStatus.missing);
    return fd;
  }

  /** Reads exactly `length` bytes at `position` into the chunk buffer; a short file is a ReadProblem. */
  read(index: number, length: number, position: number): Buffer {
    const fd = this.fd(index);
    const buf = chunkBuffer();
    let got = 0;
    while (got < length) {
      let n: number;
      try {
        n = readSync(fd, buf, got, length - got, position + got);
      } catch (error) {
        throw new FsFailure(error, 'read', this.#paths[index]!);
      }
      if (n === 0) throw new ReadProblem(ReadStatus.short);
      got += n;
    }
    return buf.subarray(0, length);
  }

  close(): void {
    for (const fd of this.#fds.values()) {
      if (fd !== null) closeSync(fd);
    }
    this.#fds.clear();
  }
}

function v1Spans(task: V1SpansTask): HashTaskResult {
  const handles = new Handles(task.paths);
  const wantSha1 = task.algorithm !== 'xxh64';
  const wantPrint = task.algorithm === 'xxh64' || task.algorithm === 'both';
  const sha1 = new Uint8Array(wantSha1 ? task.pieces.length * SHA1_SIZE : 0);
  const fingerprints = Buffer.alloc(wantPrint ? task.pieces.length * 8 : 0);
  const status = new Uint8Array(task.pieces.length);
  let bytes = 0;
  // One fingerprint hasher for the task, reset per piece (see fingerprintHasher).
  const printHasher = wantPrint ? fingerprintHasher() : null;
  try {
    task.pieces.forEach((spans, i) => {
      const sha1Hasher = wantSha1 ? createHash('sha1') : null;
      printHasher?.reset();
      try {
        for (const span of spans) {
          for (let done = 0; done < span.length;) {
            const n = Math.min(CHUNK, span.length - done);
            const chunk =
              span.path < 0
                ? zeros().subarray(0, n)
                : handles.read(span.path, n, span.offset + done);
            sha1Hasher?.update(chunk);
            printHasher?.update(chunk);
            done += n;
            bytes += n;
          }
        }
        if (sha1Hasher) sha1.set(sha1Hasher.digest(), i * SHA1_SIZE);
        if (printHasher) fingerprints.writeBigUInt64LE(printHasher.digest(), i * 8);
      } catch (error) {
        if (!(error instanceof ReadProblem)) throw error;
        status[i] = error.status;
      }
    });
  } finally {
    handles.close();
  }
  return { sha1, sha256: new Uint8Array(0), fingerprints, status, bytes };
}

function fileRanges(task: FileRangesTask): HashTaskResult {
  const { pieceLength } = task;
  const leavesPerPiece = pieceLength / BLOCK_SIZE;
  let sha1Count = 0;
  let sha256Count = 0;
  for (const item of task.items) {
    const pieces = Math.ceil(item.length / pieceLength);
    if (item.sha1) sha1Count += pieces;
    if (item.v2 === 'pieces') sha256Count += pieces;
    else if (item.v2 === 'root') sha256Count += 1;
  }
  const sha1 = new Uint8Array(sha1Count * SHA1_SIZE);
  const sha256Out = new Uint8Array(sha256Count * HASH_SIZE);
  const status = new Uint8Array(task.items.length);
  const leaves = new Uint8Array(leavesPerPiece * HASH_SIZE);
  const handles = new Handles(task.paths);
  let sha1At = 0;
  let sha256At = 0;
  let bytes = 0;
  try {
    task.items.forEach((item, itemIndex) => {
      const pieces = Math.ceil(item.length / pieceLength);
      const sha1Start = sha1At;
      const sha256Start = sha256At;
      try {
        for (let p = 0; p < pieces; p++) {
          const pieceStart = item.start + p * pieceLength;
          const pieceBytes = Math.min(pieceLength, item.length - p * pieceLength);
          const hasher = item.sha1 ? createHash('sha1') : null;
          let leafCount = 0;
          for (let done = 0; done < pieceBytes;) {
            const n = Math.min(CHUNK, pieceBytes - done);
            const data = handles.read(item.path, n, pieceStart + done);
            hasher?.update(data);
            if (item.v2 !== 'none') {
              for (let b = 0; b < n; b += BLOCK_SIZE) {
                leaves.set(
                  sha256(data.subarray(b, Math.min(n, b + BLOCK_SIZE))),
                  leafCount * HASH_SIZE,
                );
                leafCount++;
              }
            }
            done += n;
            bytes += n;
          }
          if (hasher) {
            for (let pad = Math.max(0, item.sha1PadTo - pieceBytes); pad > 0;) {
              const n = Math.min(CHUNK, pad);
              hasher.update(zeros().subarray(0, n));
              pad -= n;
            }
            sha1.set(hasher.digest(), sha1At * SHA1_SIZE);
            sha1At++;
          }
          if (item.v2 !== 'none') {
            const width = item.v2 === 'pieces' ? leavesPerPiece : nextPowerOfTwo(leafCount);
            sha256Out.set(
              merkleRoot(leaves.subarray(0, leafCount * HASH_SIZE), width),
              sha256At * HASH_SIZE,
            );
            sha256At++;
          }
        }
      } catch (error) {
        if (!(error instanceof ReadProblem)) throw error;
        status[itemIndex] = error.status;
        // Keep every later item at its expected position; this item's hashes stay zero.
        sha1At = sha1Start + (item.sha1 ? pieces : 0);
        sha256At = sha256Start + (item.v2 === 'pieces' ? pieces : item.v2 === 'root' ? 1 : 0);
        sha1.fill(0, sha1Start * SHA1_SIZE, sha1At * SHA1_SIZE);
        sha256Out.fill(0, sha256Start * HASH_SIZE, sha256At * HASH_SIZE);
      }
    });
  } finally {
    handles.close();
  }
  return { sha1, sha256: sha256Out, status, bytes };
}

function v1Buffer(task: V1BufferTask): HashTaskResult {
  const data = new Uint8Array(task.buffer);
  const sha1 = new Uint8Array(task.sizes.length * SHA1_SIZE);
  let at = 0;
  task.sizes.forEach((size, i) => {
    sha1.set(
      createHash('sha1')
        .update(data.subarray(at, at + size))
        .digest(),
      i * SHA1_SIZE,
    );
    at += size;
  });
  return {
    sha1,
    sha256: new Uint8Array(0),
    status: new Uint8Array(0),
    bytes: at,
  };
}

function v1Pieces(task: V1PiecesTask): HashTaskResult {
  const sha1 = new Uint8Array(task.pieces.length * SHA1_SIZE);
  const fingerprints = Buffer.alloc(task.fingerprints ? task.pieces.length * 8 : 0);
  let bytes = 0;
  task.pieces.forEach(({ buffer, start, size }, i) => {
    const piece = new Uint8Array(buffer, start, size);
    sha1.set(createHash('sha1').update(piece).digest(), i * SHA1_SIZE);
    if (task.fingerprints) fingerprints.writeBigUInt64LE(fingerprint(piece), i * 8);
    bytes += size;
  });
  return { sha1, sha256: new Uint8Array(0), fingerprints, status: new Uint8Array(0), bytes };
}

/**
 * The v2 hash of `length` bytes of `data` from `at`: a piece-layer entry
 * (`pieces`: the subtree of a whole piece, padded to `leavesPerPiece`
 * leaves) or a small file's root (`root`). `leaves` is scratch space.
 */
function v2Hash(
  data: Uint8Array,
  at: number,
  length: number,
  mode: 'pieces' | 'root',
  leaves: Uint8Array,
  leavesPerPiece: number,
): Uint8Array {
  let count = 0;
  for (let b = 0; b < length; b += BLOCK_SIZE) {
    leaves.set(
      sha256(data.subarray(at + b, at + Math.min(length, b + BLOCK_SIZE))),
      count * HASH_SIZE,
    );
    count++;
  }
  const width = mode === 'pieces' ? leavesPerPiece : nextPowerOfTwo(count);
  return merkleRoot(leaves.subarray(0, count * HASH_SIZE), width);
}

function v2Buffer(task: V2BufferTask): HashTaskResult {
  const data = new Uint8Array(task.buffer);
  const out = new Uint8Array(task.items.length * HASH_SIZE);
  const leavesPerPiece = task.pieceLength / BLOCK_SIZE;
  const leaves = new Uint8Array(leavesPerPiece * HASH_SIZE);
  let at = 0;
  let bytes = 0;
  task.items.forEach((item, i) => {
    if (item.offset !== undefined) at = item.offset;
    bytes += item.length;
    out.set(v2Hash(data, at, item.length, item.mode, leaves, leavesPerPiece), i * HASH_SIZE);
    at += item.length;
  });
  return { sha1: new Uint8Array(0), sha256: out, status: new Uint8Array(0), bytes };
}

function v2Pieces(task: V2PiecesTask): HashTaskResult {
  const out = new Uint8Array(task.pieces.length * HASH_SIZE);
  const fingerprints = Buffer.alloc(task.fingerprints ? task.pieces.length * 8 : 0);
  const leavesPerPiece = task.pieceLength / BLOCK_SIZE;
  const leaves = new Uint8Array(leavesPerPiece * HASH_SIZE);
  let bytes = 0;
  task.pieces.forEach(({ buffer, start, size, length, mode }, i) => {
    const piece = new Uint8Array(buffer, start, size);
    out.set(v2Hash(piece, 0, length, mode, leaves, leavesPerPiece), i * HASH_SIZE);
    if (task.fingerprints) fingerprints.writeBigUInt64LE(fingerprint(piece), i * 8);
    bytes += size;
  });
  return { sha1: new Uint8Array(0), sha256: out, fingerprints, status: new Uint8Array(0), bytes };
}

export default function run(task: HashTask): HashTaskResult | HashTaskFailure {
  try {
    switch (task.op) {
      case 'v1-spans':
        return v1Spans(task);
      case 'file-ranges':
        return fileRanges(task);
      case 'v1-buffer':
        return v1Buffer(task);
      case 'v1-pieces':
        return v1Pieces(task);
      case 'v2-buffer':
        return v2Buffer(task);
      case 'v2-pieces':
        return v2Pieces(task);
    }
  } catch (error) {
    if (error instanceof FsFailure) return { failure: error.failure };
    throw error;
  }
}
