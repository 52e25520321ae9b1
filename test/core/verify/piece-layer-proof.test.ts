/**
 * Proofs for ranges of a v2 piece layer: what we send (proveLayerRange) is
 * accepted by what we check (verifyLayerRange), and the check refuses every
 * answer that does not lead to the file's pieces root. Roots come from
 * hashing/merkle.ts, independent of the code under test.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fileMerkle, rootFromPieceLayer } from '../../../src/core/digest/merkle.ts';
import {
  layerGeometry,
  layerTree,
  proveLayerRange as proveWithTree,
  unclesToRoot,
  verifyLayerRange,
} from '../../../src/core/verify/piece-layer-proof.ts';

const PIECE = 64 * 1024;

function proveLayerRange(
  geometry: ReturnType<typeof layerGeometry>,
  pieceLength: number,
  layer: Uint8Array,
  range: { index: number; length: number; proofLayers: number },
) {
  return proveWithTree(geometry, layerTree(geometry, pieceLength, layer), range);
}

function fileOf(pieces: number) {
  const layer = new Uint8Array(randomBytes(pieces * 32));
  const fileLength = (pieces - 1) * PIECE + 1000;
  return {
    layer,
    geometry: layerGeometry(fileLength, PIECE),
    root: rootFromPieceLayer(layer, PIECE),
  };
}

/** The requests the fetcher makes: 512 at a time, the last rounded up to a power of two. */
function chunksOf(pieces: number): { index: number; length: number }[] {
  const chunks = [];
  for (let index = 0; index < pieces; index += 512) {
    let length = 2;
    while (length < Math.min(512, pieces - index)) length *= 2;
    chunks.push({ index, length });
  }
  return chunks;
}

describe('piece layer proofs', () => {
  it('has the geometry of a real file: base layer 2 for 64 KiB pieces, width a power of two', () => {
    const { geometry } = fileOf(5);
    expect(geometry).toEqual({ baseLayer: 2, pieces: 5, width: 8, height: 3 });
  });

  it('every range the fetcher asks for, proven to the root, checks out and rebuilds the layer', () => {
    for (const pieces of [2, 3, 511, 512, 513, 1500]) {
      const { layer, geometry, root } = fileOf(pieces);
      const rebuilt: Uint8Array[] = [];
      for (const { index, length } of chunksOf(pieces)) {
        const proofLayers = geometry.height - 1;
        const answer = proveLayerRange(geometry, PIECE, layer, { index, length, proofLayers });
        expect(answer, `${pieces} pieces at ${index}`).not.toBeNull();
        expect(answer!.uncles.length / 32).toBe(unclesToRoot(geometry, length));
        const got = verifyLayerRange(geometry, PIECE, root, { index, length, ...answer! });
        expect(got, `${pieces} pieces at ${index}`).not.toBeNull();
        rebuilt.push(got!);
      }
      expect(Buffer.concat(rebuilt).equals(layer)).toBe(true);
    }
  });

  it('agrees with a layer computed from real data', () => {
    const data = new Uint8Array(randomBytes(5 * PIECE + 123));
    const { root, pieceLayer } = fileMerkle(data, PIECE);
    const geometry = layerGeometry(data.length, PIECE);
    const range = { index: 0, length: 8, proofLayers: 2 };
    const answer = proveLayerRange(geometry, PIECE, pieceLayer!, range)!;
    expect(verifyLayerRange(geometry, PIECE, root!, { ...range, ...answer })).toEqual(pieceLayer);
  });

  it('refuses a flipped bit in any hash or uncle, swapped uncles, and another file root', () => {
    const { layer, geometry, root } = fileOf(1500);
    const range = { index: 512, length: 512, proofLayers: geometry.height - 1 };
    const answer = proveLayerRange(geometry, PIECE, layer, range)!;
    expect(answer.uncles.length).toBe(2 * 32);
    const check = (hashes: Uint8Array, uncles: Uint8Array, r = root) =>
      verifyLayerRange(geometry, PIECE, r, { index: 512, length: 512, hashes, uncles });
    for (const at of [0, 31, 32 * 300, answer.hashes.length - 1]) {
      const bad = answer.hashes.slice();
      bad[at]! ^= 1;
      expect(check(bad, answer.uncles)).toBeNull();
    }
    for (const at of [0, 63]) {
      const bad = answer.uncles.slice();
      bad[at]! ^= 0x80;
      expect(check(answer.hashes, bad)).toBeNull();
    }
    const swapped = Buffer.concat([answer.uncles.subarray(32), answer.uncles.subarray(0, 32)]);
    expect(check(answer.hashes, swapped)).toBeNull();
    expect(check(answer.hashes, answer.uncles, fileOf(1500).root)).toBeNull();
  });

  it('refuses too many or too few uncles, and ranges never asked for', () => {
    const { layer, geometry, root } = fileOf(1500);
    const answer = proveLayerRange(geometry, PIECE, layer, {
      index: 0,
      length: 512,
      proofLayers: geometry.height - 1,
    })!;
    const extra = Buffer.concat([answer.uncles, new Uint8Array(32)]);
    const check = (index: number, length: number, hashes: Uint8Array, uncles: Uint8Array) =>
      verifyLayerRange(geometry, PIECE, root, { index, length, hashes, uncles });
    expect(check(0, 512, answer.hashes, extra)).toBeNull();
    expect(check(0, 512, answer.hashes, answer.uncles.subarray(32))).toBeNull();
    // Hashes that are right but for a range shifted off alignment, or past the layer.
    expect(check(256, 512, answer.hashes, answer.uncles)).toBeNull();
    expect(check(2048, 512, answer.hashes, answer.uncles)).toBeNull();
    expect(check(0, 384, answer.hashes.subarray(0, 384 * 32), answer.uncles)).toBeNull();
  });

  it('serves only what it can prove: aligned ranges inside the layer, proofs below the root', () => {
    const { layer, geometry } = fileOf(5);
    expect(proveLayerRange(geometry, PIECE, layer, { index: 0, length: 8, proofLayers: 3 })).toBe(
      null,
    );
    expect(proveLayerRange(geometry, PIECE, layer, { index: 2, length: 4, proofLayers: 2 })).toBe(
      null,
    );
    expect(proveLayerRange(geometry, PIECE, layer, { index: 8, length: 2, proofLayers: 0 })).toBe(
      null,
    );
    // libtorrent's smallest answer: one hash with its sibling and the layers above.
    const one = proveLayerRange(geometry, PIECE, layer, { index: 3, length: 1, proofLayers: 2 });
    expect(one!.uncles.length).toBe(3 * 32);
  });
});
