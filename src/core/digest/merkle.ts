/**
 * BEP 52 merkle maths (SHA-256, 16 KiB leaf blocks). Pure functions, shared by
 * the hash workers and the main thread.
 *
 * - A leaf is SHA-256 of one 16 KiB block of a file; the last block of a file
 *   is hashed as it is (shorter), never zero-filled.
 * - Leaves beyond the end of a file are 32 zero bytes, so the hash of an
 *   all-padding subtree of 2^k leaves is `zeroSubtreeHash(2^k)`.
 * - Piece layer: for a file larger than one piece, the roots of the subtrees of
 *   pieceLength / 16 KiB leaves, one per piece (the last one padded with zero
 *   leaves). The file's root is the merkle root of the piece layer padded to a
 *   power of two with `zeroSubtreeHash(pieceLength / 16 KiB)`.
 * - A file of at most one piece has no piece layer; its root is the merkle root
 *   of its own leaves padded to the next power of two of its leaf count.
 * - Empty files have no root.
 */
import type { hash as Hash } from 'node:crypto';

export const BLOCK_SIZE = 16 * 1024;
export const HASH_SIZE = 32;

const zeroSubtreeCache: Uint8Array[] = [new Uint8Array(HASH_SIZE)];

/**
 * node:crypto's one-shot hash, loaded on first use: .torrent parsing imports
 * this file, and a plain inspect of a v1 torrent should not pay for loading
 * node:crypto (see sha1.ts).
 */
let oneShot: typeof Hash | null = null;

export function sha256(data: Uint8Array): Uint8Array {
  oneShot ??= process.getBuiltinModule('node:crypto').hash;
  return oneShot('sha256', data, 'buffer');
}

/** SHA-256 of two concatenated 32-byte nodes. */
export function hashPair(left: Uint8Array, right: Uint8Array): Uint8Array {
  const both = new Uint8Array(HASH_SIZE * 2);
  both.set(left, 0);
  both.set(right, HASH_SIZE);
  return sha256(both);
}

/** Smallest power of two >= n (1 for n <= 1). */
export function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** Root of a subtree of `leafCount` (a power of two) zero leaves. */
export function zeroSubtreeHash(leafCount: number): Uint8Array {
  const level = Math.log2(leafCount);
  if (!Number.isInteger(level) || level < 0)
    throw new RangeError(`leaf count ${leafCount} is not a power of two`);
  while (zeroSubtreeCache.length <= level) {
    const below = zeroSubtreeCache[zeroSubtreeCache.length - 1]!;
    zeroSubtreeCache.push(hashPair(below, below));
  }
  return zeroSubtreeCache[level]!;
}

/**
 * Merkle root over `nodes` (concatenated 32-byte hashes) in a tree `width`
 * nodes wide (a power of two >= the node count); missing nodes are `pad`, and
 * the padding of each level above is the hash of two pads below.
 */
export function merkleRoot(
  nodes: Uint8Array,
  width: number,
  pad: Uint8Array = zeroSubtreeCache[0]!,
): Uint8Array {
  if (nodes.length % HASH_SIZE !== 0)
    throw new RangeError('node buffer is not a multiple of 32 bytes');
  let count = nodes.length / HASH_SIZE;
  if (width < count || nextPowerOfTwo(width) !== width) {
    throw new RangeError(`tree width ${width} cannot hold ${count} nodes`);
  }
  let level = nodes;
  let padding = pad;
  while (width > 1) {
    const parents = Math.ceil(count / 2);
    const next = new Uint8Array(parents * HASH_SIZE);
    const pair = new Uint8Array(HASH_SIZE * 2);
    for (let i = 0; i < parents; i++) {
      const left = 2 * i * HASH_SIZE;
      pair.set(level.subarray(left, left + HASH_SIZE), 0);
      if (2 * i + 1 < count)
        pair.set(level.subarray(left + HASH_SIZE, left + 2 * HASH_SIZE), HASH_SIZE);
      else pair.set(padding, HASH_SIZE);
      next.set(sha256(pair), i * HASH_SIZE);
    }
    padding = hashPair(padding, padding);
    level = next;
    count = parents;
    width /= 2;
  }
  return count === 0 ? padding : level.slice(0, HASH_SIZE);
}

/** Concatenated SHA-256 hashes of the 16 KiB blocks of `data` (the last one may be shorter). */
export function blockHashes(data: Uint8Array): Uint8Array {
  const n = Math.ceil(data.length / BLOCK_SIZE);
  const out = new Uint8Array(n * HASH_SIZE);
  for (let i = 0; i < n; i++) {
    out.set(
      sha256(data.subarray(i * BLOCK_SIZE, Math.min(data.length, (i + 1) * BLOCK_SIZE))),
      i * HASH_SIZE,
    );
  }
  return out;
}

/** Leaves in one piece's subtree. */
export function leavesPerPiece(pieceLength: number): number {
  if (pieceLength < BLOCK_SIZE || nextPowerOfTwo(pieceLength) !== pieceLength) {
    throw new RangeError(`v2 piece length ${pieceLength} must be a power of two >= 16 KiB`);
  }
  return pieceLength / BLOCK_SIZE;
}

/**
 * Hash of one piece of a file larger than one piece: the root of the
 * piece-sized subtree over the piece's data (zero leaves after a short last piece).
 */
export function pieceLayerHash(data: Uint8Array, pieceLength: number): Uint8Array {
  return merkleRoot(blockHashes(data), leavesPerPiece(pieceLength));
}

/** Root of a file of at most one piece, from its data. */
export function smallFileRoot(data: Uint8Array): Uint8Array {
  const leaves = blockHashes(data);
  return merkleRoot(leaves, nextPowerOfTwo(leaves.length / HASH_SIZE));
}

/** File root from its piece layer (file larger than one piece). */
export function rootFromPieceLayer(layer: Uint8Array, pieceLength: number): Uint8Array {
  const pieces = layer.length / HASH_SIZE;
  return merkleRoot(layer, nextPowerOfTwo(pieces), zeroSubtreeHash(leavesPerPiece(pieceLength)));
}

/**
 * Root and piece layer of a whole file held in memory (small inputs and tests;
 * the pool computes the same thing from disk in bounded memory).
 */
export function fileMerkle(
  data: Uint8Array,
  pieceLength: number,
): { root: Uint8Array | null; pieceLayer: Uint8Array | null } {
  if (data.length === 0) return { root: null, pieceLayer: null };
  if (data.length <= pieceLength) return { root: smallFileRoot(data), pieceLayer: null };
  const pieces = Math.ceil(data.length / pieceLength);
  const layer = new Uint8Array(pieces * HASH_SIZE);
  for (let i = 0; i < pieces; i++) {
    layer.set(
      pieceLayerHash(data.subarray(i * pieceLength, (i + 1) * pieceLength), pieceLength),
      i * HASH_SIZE,
    );
  }
  return { root: rootFromPieceLayer(layer, pieceLength), pieceLayer: layer };
}
