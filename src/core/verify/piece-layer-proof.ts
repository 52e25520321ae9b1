/**
 * Merkle proofs for ranges of a v2 file's piece layer (BEP 52 hash
 * requests). Pure functions: `proveLayerRange` makes the answer we send a
 * peer that asks, `verifyLayerRange` checks the answer a peer sent us against
 * the one thing we trust, the file's `pieces root` from the info dictionary.
 *
 * The tree above the piece layer: the layer padded with the hash of an
 * all-zero piece subtree to `width` = the next power of two of the file's
 * piece count, hashed pairwise up to the root (see hashing/merkle.ts). A
 * range of `length` hashes (a power of two, starting at a multiple of its
 * length) spans a subtree of height log2(length); the uncles are the
 * siblings of that subtree's root and of each ancestor above it, lowest
 * first, up to just below the file root.
 */
import {
  HASH_SIZE,
  hashPair,
  leavesPerPiece,
  merkleRoot,
  nextPowerOfTwo,
  zeroSubtreeHash,
} from '../digest/merkle.ts';
import { sameBytes } from '../bytes.ts';

/** The shape of one file's tree at and above its piece layer. */
export interface LayerGeometry {
  /** The BEP 52 layer number of the piece layer: log2(piece length / 16 KiB). */
  baseLayer: number;
  /** Pieces in the file (entries of its piece layer). */
  pieces: number;
  /** The layer padded to a power of two. */
  width: number;
  /** Layers from the piece layer up to the root: log2(width). */
  height: number;
}

/** Geometry of the piece layer of a file of `fileLength` bytes (more than one piece). */
export function layerGeometry(fileLength: number, pieceLength: number): LayerGeometry {
  const pieces = Math.ceil(fileLength / pieceLength);
  const width = nextPowerOfTwo(pieces);
  return {
    baseLayer: Math.log2(leavesPerPiece(pieceLength)),
    pieces,
    width,
    height: Math.log2(width),
  };
}

/** A range asked for or answered: where it starts, how many hashes, how far up the proof goes. */
export interface LayerRange {
  index: number;
  length: number;
  proofLayers: number;
}

/** The uncles an answer needs to reach the file root from a range of `length` hashes. */
export function unclesToRoot(geometry: LayerGeometry, length: number): number {
  return geometry.height - Math.log2(length);
}

/** A range we can prove or check: a power-of-two length, aligned, inside the padded layer. */
function isAlignedRange(geometry: LayerGeometry, index: number, length: number): boolean {
  return (
    Number.isInteger(Math.log2(length)) && index % length === 0 && index + length <= geometry.width
  );
}

/**
 * Checks `hashes` (the layer entries index..index+length-1, padding included)
 * and `uncles` against the file's root. Returns the entries that belong to
 * real pieces (padding beyond the file's last piece dropped), or null when
 * anything is off: a range we would never ask for, the wrong number of
 * uncles, or hashes that do not lead to the root.
 */
export function verifyLayerRange(
  geometry: LayerGeometry,
  pieceLength: number,
  root: Uint8Array,
  range: { index: number; length: number; hashes: Uint8Array; uncles: Uint8Array },
): Uint8Array | null {
  const { index, length, hashes, uncles } = range;
  if (!isAlignedRange(geometry, index, length)) return null;
  if (hashes.length !== length * HASH_SIZE) return null;
  if (uncles.length !== unclesToRoot(geometry, length) * HASH_SIZE) return null;
  let node = merkleRoot(hashes, length, zeroSubtreeHash(leavesPerPiece(pieceLength)));
  let position = index / length;
  for (let at = 0; at < uncles.length; at += HASH_SIZE) {
    const uncle = uncles.subarray(at, at + HASH_SIZE);
    node = position % 2 === 0 ? hashPair(node, uncle) : hashPair(uncle, node);
    position = Math.floor(position / 2);
  }
  if (!sameBytes(node, root)) return null;
  const real = Math.max(0, Math.min(length, geometry.pieces - index));
  return hashes.slice(0, real * HASH_SIZE);
}

/**
 * The tree above a complete piece layer, level by level: the layer padded to
 * `width`, then each level of parents up to the root. Built once per file and
 * kept by whoever serves it: each answer then costs no hashing.
 */
export function layerTree(
  geometry: LayerGeometry,
  pieceLength: number,
  layer: Uint8Array,
): Uint8Array[] {
  if (layer.length !== geometry.pieces * HASH_SIZE)
    throw new RangeError('piece layer does not fit the file');
  const pad = zeroSubtreeHash(leavesPerPiece(pieceLength));
  const padded = new Uint8Array(geometry.width * HASH_SIZE);
  padded.set(layer);
  for (let i = geometry.pieces; i < geometry.width; i++) padded.set(pad, i * HASH_SIZE);
  const levels = [padded];
  for (let width = geometry.width; width > 1; width /= 2) {
    const below = levels[levels.length - 1]!;
    const level = new Uint8Array((width / 2) * HASH_SIZE);
    for (let i = 0; i < width / 2; i++) {
      const at = 2 * i * HASH_SIZE;
      const pair = below.subarray(at, at + 2 * HASH_SIZE);
      level.set(hashPair(pair.subarray(0, HASH_SIZE), pair.subarray(HASH_SIZE)), i * HASH_SIZE);
    }
    levels.push(level);
  }
  return levels;
}

/**
 * The answer to a request for `range` of a file's piece layer, from its
 * `layerTree`: the entries (padding hashes past the last piece) and the
 * uncles, or null for a request we do not serve (unaligned, outside the
 * layer, or asking for proofs above the root). Uncles as libtorrent sends and
 * checks them: one per layer from the top of the range's subtree to
 * `proofLayers` above the base.
 */
export function proveLayerRange(
  geometry: LayerGeometry,
  tree: readonly Uint8Array[],
  range: LayerRange,
): { hashes: Uint8Array; uncles: Uint8Array } | null {
  const { index, length, proofLayers } = range;
  if (!isAlignedRange(geometry, index, length)) return null;
  if (proofLayers >= geometry.height) return null;
  const hashes = tree[0]!.slice(index * HASH_SIZE, (index + length) * HASH_SIZE);
  const from = Math.log2(length);
  const count = Math.max(0, proofLayers - from + 1);
  const uncles = new Uint8Array(count * HASH_SIZE);
  for (let k = 0; k < count; k++) {
    const height = from + k;
    const sibling = Math.floor(index / 2 ** height) ^ 1;
    const node = tree[height]!.subarray(sibling * HASH_SIZE, (sibling + 1) * HASH_SIZE);
    uncles.set(node, k * HASH_SIZE);
  }
  return { hashes, uncles };
}
