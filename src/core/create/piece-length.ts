/**
 * Piece length for `shoal create`.
 *
 * Auto rule: the smallest power of two from 16 KiB up to 16 MiB that cuts the
 * data into at most 2048 pieces, so a torrent has between about 1000 and 2048
 * pieces (fewer for data under 16 MiB, more for data over 32 GiB). That keeps
 * the v1 `pieces` string under ~40 KiB (fast metadata exchange) while pieces
 * stay small enough for good swarm parallelism.
 *
 * Explicit lengths must be a power of two from 16 KiB to 128 MiB: v2 requires
 * a power of two of at least one 16 KiB block, and every client handles those.
 */
import { UsageError } from '../errors.ts';

export const MIN_PIECE_LENGTH = 16 * 1024;
export const MAX_PIECE_LENGTH = 128 * 1024 * 1024;
export const AUTO_MAX_PIECE_LENGTH = 16 * 1024 * 1024;
export const AUTO_TARGET_PIECES = 2048;

export function autoPieceLength(totalSize: number): number {
  let length = MIN_PIECE_LENGTH;
  while (length < AUTO_MAX_PIECE_LENGTH && Math.ceil(totalSize / length) > AUTO_TARGET_PIECES)
    length *= 2;
  return length;
}

/** Returns `length` if it is a valid explicit piece length, else throws UsageError. */
export function validatePieceLength(length: number): number {
  const isPowerOfTwo = Number.isSafeInteger(length) && length > 0 && (length & (length - 1)) === 0;
  if (!isPowerOfTwo || length < MIN_PIECE_LENGTH || length > MAX_PIECE_LENGTH) {
    throw new UsageError(
      `invalid piece length ${length}: use a power of two from 16KiB to 128MiB (for example 256KiB, 1MiB, 4MiB) or auto`,
    );
  }
  return length;
}

export function resolvePieceLength(spec: number | 'auto', totalSize: number): number {
  return spec === 'auto' ? autoPieceLength(totalSize) : validatePieceLength(spec);
}
