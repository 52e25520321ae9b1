/**
 * v2 piece layers fetched from peers (BEP 52 hash requests), kept with the
 * resume state so that a rerun can verify the pieces already on disk, and
 * go on downloading from web seeds, without asking peers for them again.
 *
 * The file is a bencoded dictionary, pieces root (32 raw bytes) -> layer,
 * the same shape as a .torrent's `piece layers`. It needs no MAC: a layer
 * is kept only when it hashes up to the pieces root of a file of this
 * torrent (the info dictionary, checked against the info-hash, is what is
 * trusted), so a forged or stale file can only be ignored.
 */
import { HASH_SIZE, rootFromPieceLayer } from '../digest/merkle.ts';
import { sameBytes } from '../bytes.ts';
import { readPieceLayers } from '../metainfo/piece-layers.ts';
import type { Metainfo } from '../metainfo/types.ts';

/** `d` + (`32:` root, `N:` layer)... + `e`, roots in byte order as bencode requires. */
export function encodePieceLayers(layers: ReadonlyMap<string, Uint8Array>): Buffer {
  const parts: Buffer[] = [Buffer.from('d')];
  for (const rootHex of [...layers.keys()].sort()) {
    const layer = layers.get(rootHex)!;
    parts.push(Buffer.from(`${HASH_SIZE}:`), Buffer.from(rootHex, 'hex'));
    parts.push(Buffer.from(`${layer.length}:`), Buffer.from(layer));
  }
  parts.push(Buffer.from('e'));
  return Buffer.concat(parts);
}

/**
 * The layers in `bytes` that belong to files of `meta` whose layer it lacks
 * and that hash up to their pieces root (hex root -> layer). Anything else,
 * or bytes that do not decode, yields nothing.
 */
export function decodePieceLayers(bytes: Uint8Array, meta: Metainfo): Map<string, Uint8Array> {
  const found = new Map<string, Uint8Array>();
  let given: Map<string, Uint8Array>;
  try {
    given = readPieceLayers(bytes, [0, bytes.length]);
  } catch {
    return found;
  }
  for (const file of meta.files) {
    const root = file.piecesRoot;
    if (!root || file.padding || file.length <= meta.pieceLength) continue;
    const rootHex = Buffer.from(root).toString('hex');
    if (meta.pieceLayers.has(rootHex) || found.has(rootHex)) continue;
    const layer = given.get(rootHex);
    if (!layer) continue;
    const pieces = Math.ceil(file.length / meta.pieceLength);
    if (layer.length !== pieces * HASH_SIZE) continue;
    if (!sameBytes(rootFromPieceLayer(layer, meta.pieceLength), root)) continue;
    found.set(rootHex, new Uint8Array(layer));
  }
  return found;
}
