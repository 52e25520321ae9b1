/**
 * BEP 52 `piece layers`: reading them from a .torrent (keys are raw 32-byte
 * roots, so they are read from the original bytes) and checking each against
 * its file's pieces root. A missing layer is not an error: it is fetched from
 * peers before downloading (session/piece-layer-fetcher.ts).
 */
import { defaultBencodeLimits, isBytes, scanBencode } from '../bencode/index.ts';
import {
  HASH_SIZE,
  leavesPerPiece,
  merkleRoot,
  nextPowerOfTwo,
  zeroSubtreeHash,
} from '../digest/merkle.ts';
import type { TorrentFile } from './types.ts';
import { decodeOrFail, fail, printable } from './fields.ts';
import { toHex } from './text.ts';

const LETTER_D = 0x64;

/** The keys (raw bytes as latin1) and value ranges of the dictionary starting at `start`. */
function dictEntries(
  bytes: Uint8Array,
  start: number,
  what: string,
): Map<string, [number, number]> {
  if (bytes[start] !== LETTER_D) fail(`${what} is not a dictionary`);
  return scanBencode(bytes, defaultBencodeLimits, start).topLevelRanges;
}

/** The merkle root over a piece layer, padded to a power of two as BEP 52 specifies. */
export function pieceLayerRoot(layer: Uint8Array, pieceLength: number): Buffer {
  const pieces = Math.floor(layer.length / HASH_SIZE);
  const pad = zeroSubtreeHash(leavesPerPiece(pieceLength));
  const root = merkleRoot(layer.subarray(0, pieces * HASH_SIZE), nextPowerOfTwo(pieces), pad);
  return Buffer.from(root);
}

/** `piece layers`: raw 32-byte root -> layer bytes, read from the original bytes (keys are binary). */
export function readPieceLayers(
  bytes: Uint8Array,
  range: [number, number],
): Map<string, Uint8Array> {
  const layers = new Map<string, Uint8Array>();
  for (const [key, [start, end]] of dictEntries(bytes, range[0], "'piece layers'")) {
    const { value } = decodeOrFail(bytes.subarray(start, end), "'piece layers'");
    if (!isBytes(value)) fail("a 'piece layers' entry is not a string");
    if (key.length !== 32) continue;
    layers.set(Buffer.from(key, 'latin1').toString('hex'), value);
  }
  return layers;
}

/**
 * Keeps (copied) each given layer that matches its file's pieces root; refuses the torrent
 * for one that does not. Files of one piece or less have no layer: the root is the piece hash.
 */
export function checkPieceLayers(
  files: TorrentFile[],
  pieceLength: number,
  given: Map<string, Uint8Array> | null,
  out: Map<string, Uint8Array>,
): void {
  for (const file of files) {
    if (file.length <= pieceLength || file.piecesRoot === null) continue;
    const key = toHex(file.piecesRoot);
    const layer = given?.get(key);
    const label = printable(file.path);
    // Missing: fetched from peers before downloading (see session/piece-layer-fetcher.ts).
    if (layer === undefined) continue;
    const expected = Math.ceil(file.length / pieceLength) * 32;
    if (layer.length !== expected) {
      fail(`piece layer for '${label}' is ${layer.length} bytes, expected ${expected}`);
    }
    if (!pieceLayerRoot(layer, pieceLength).equals(file.piecesRoot)) {
      fail(`piece layer for '${label}' does not match its pieces root`);
    }
    out.set(key, Uint8Array.from(layer));
  }
}
