/**
 * Cuts hashing work into tasks of about `batchBytes` of consecutive pieces,
 * the unit the workers take (see task-runner.ts). Each task names the files it
 * reads by index into its own short path list, so a task stays small to send
 * to a thread however many files the torrent has.
 */
import type { PieceLayout } from '../storage/layout.ts';
import type { FileRangeJob, HashTask, SpanJob, V1SpansTask } from './tasks.ts';

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

/** Bounds the structured-clone size of one task when files are tiny. */
const MAX_ITEMS_PER_TASK = 2048;

/** The pieces of a v1/hybrid piece space, read across file boundaries; padding reads as zeros. */
export function* v1Batches(
  layout: PieceLayout,
  files: readonly DiskFile[],
  batchBytes: number,
): Generator<{ firstPiece: number; task: V1SpansTask }> {
  let piece = 0;
  while (piece < layout.pieceCount) {
    const firstPiece = piece;
    const paths = new PathList();
    const pieces: SpanJob[][] = [];
    let bytes = 0;
    while (
      piece < layout.pieceCount &&
      (pieces.length === 0 || bytes + layout.pieceLength <= batchBytes)
    ) {
      pieces.push(
        layout.fileSpans(piece).map((span): SpanJob => {
          if (span.padding) return { path: -1, offset: 0, length: span.length };
          const path = paths.index(files[span.fileIndex]!.path);
          return { path, offset: span.fileOffset, length: span.length };
        }),
      );
      bytes += layout.pieceSize(piece);
      piece++;
    }
    yield { firstPiece, task: { op: 'v1-spans', paths: paths.list, pieces } };
  }
}

/** Pieces described by where their bytes live (resume checks, the parts file). */
export function* sourceBatches(
  pieces: readonly PieceSources[],
  algorithm: 'sha1' | 'xxh64' | 'both',
  batchBytes: number,
): Generator<{ first: number; task: V1SpansTask }> {
  let next = 0;
  while (next < pieces.length) {
    const first = next;
    const paths = new PathList();
    const jobs: SpanJob[][] = [];
    let bytes = 0;
    while (next < pieces.length && (jobs.length === 0 || bytes < batchBytes)) {
      jobs.push(
        pieces[next]!.map((source): SpanJob => {
          if (source.path === null) return { path: -1, offset: 0, length: source.length };
          return { path: paths.index(source.path), offset: source.position, length: source.length };
        }),
      );
      bytes += pieces[next]!.reduce((sum, source) => sum + source.length, 0);
      next++;
    }
    yield { first, task: { op: 'v1-spans', algorithm, paths: paths.list, pieces: jobs } };
  }
}

/** Cuts whole files into piece-aligned ranges and groups them into tasks of about batchBytes. */
export function* fileBatches(
  jobs: readonly { index: number; request: FileHashRequest }[],
  pieceLength: number,
  batchBytes: number,
): Generator<{ parts: { request: number }[]; task: HashTask & { op: 'file-ranges' } }> {
  const rangeBytes = Math.max(pieceLength, Math.floor(batchBytes / pieceLength) * pieceLength);
  let paths: string[] = [];
  let items: FileRangeJob[] = [];
  let parts: { request: number }[] = [];
  let bytes = 0;
  for (const { index, request } of jobs) {
    if (request.length === 0) continue;
    let path = paths.push(request.path) - 1;
    for (let start = 0; start < request.length; start += rangeBytes) {
      const length = Math.min(rangeBytes, request.length - start);
      if (items.length > 0 && (bytes + length > batchBytes || items.length >= MAX_ITEMS_PER_TASK)) {
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
  if (items.length > 0) yield { parts, task: { op: 'file-ranges', pieceLength, paths, items } };
}

/** A task's own list of paths: each path once, named by its index. */
class PathList {
  readonly list: string[] = [];
  readonly #indexes = new Map<string, number>();

  index(path: string): number {
    let index = this.#indexes.get(path);
    if (index === undefined) {
      index = this.list.push(path) - 1;
      this.#indexes.set(path, index);
    }
    return index;
  }
}
