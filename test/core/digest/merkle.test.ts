import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  fileMerkle,
  merkleRoot,
  nextPowerOfTwo,
  zeroSubtreeHash,
} from '../../../src/core/digest/merkle.ts';

const KiB = 1024;
const h = (...parts: Uint8Array[]): Buffer => {
  const hash = createHash('sha256');
  for (const p of parts) hash.update(p);
  return hash.digest();
};
const Z = Buffer.alloc(32);
const hex = (v: Uint8Array | null): string | null => (v ? Buffer.from(v).toString('hex') : null);
const merkle = (
  d: Uint8Array,
  pieceLength: number,
): { root: string | null; pieceLayer: string | null } => {
  const r = fileMerkle(d, pieceLength);
  return { root: hex(r.root), pieceLayer: hex(r.pieceLayer) };
};

function data(length: number, seed = 1): Buffer {
  const buf = Buffer.alloc(length);
  for (let i = 0; i < length; i++) buf[i] = (i * 31 + seed * 7) & 0xff;
  return buf;
}
const block = (buf: Buffer, i: number): Buffer => buf.subarray(i * 16 * KiB, (i + 1) * 16 * KiB);

describe('BEP 52 merkle trees', () => {
  it('a file of one block: the root is the block hash', () => {
    const d = data(100);
    expect(merkle(d, 16 * KiB)).toEqual({ root: hex(h(d)), pieceLayer: null });
  });

  it('a file of three blocks within one piece: leaves padded to four with zero hashes', () => {
    const d = data(32 * KiB + 5);
    const [b0, b1, b2] = [0, 1, 2].map((i) => h(block(d, i)));
    const root = h(h(b0!, b1!), h(b2!, Z));
    expect(merkle(d, 64 * KiB)).toEqual({ root: hex(root), pieceLayer: null });
    // Padding goes only to the file's own power of two, not to the piece's leaf count.
    expect(merkle(d, 4 * 1024 * KiB).root).toEqual(hex(root));
  });

  it('a file of exactly one piece has no piece layer', () => {
    const d = data(32 * KiB);
    expect(merkle(d, 32 * KiB)).toEqual({
      root: hex(h(h(block(d, 0)), h(block(d, 1)))),
      pieceLayer: null,
    });
  });

  it('one piece plus one byte: two piece-layer entries, the last padded to a full piece subtree', () => {
    const d = data(32 * KiB + 1);
    const l0 = h(h(block(d, 0)), h(block(d, 1)));
    const l1 = h(h(block(d, 2)), Z);
    expect(merkle(d, 32 * KiB)).toEqual({
      root: hex(h(l0, l1)),
      pieceLayer: hex(Buffer.concat([l0, l1])),
    });
  });

  it('three pieces: the piece layer is padded with the hash of an all-zero piece subtree', () => {
    const d = data(80 * KiB);
    const leaves = [0, 1, 2, 3, 4].map((i) => h(block(d, i)));
    const l0 = h(leaves[0]!, leaves[1]!);
    const l1 = h(leaves[2]!, leaves[3]!);
    const l2 = h(leaves[4]!, Z);
    const zeroPiece = h(Z, Z);
    expect(hex(zeroSubtreeHash(2))).toEqual(hex(zeroPiece));
    expect(merkle(d, 32 * KiB)).toEqual({
      root: hex(h(h(l0, l1), h(l2, zeroPiece))),
      pieceLayer: hex(Buffer.concat([l0, l1, l2])),
    });
  });

  it('an empty file has no root', () => {
    expect(fileMerkle(new Uint8Array(0), 16 * KiB)).toEqual({ root: null, pieceLayer: null });
  });

  it('merkleRoot pads missing nodes level by level', () => {
    expect(hex(merkleRoot(new Uint8Array(0), 4))).toEqual(hex(zeroSubtreeHash(4)));
    expect(hex(merkleRoot(h(data(3)), 1))).toEqual(hex(h(data(3))));
    expect(nextPowerOfTwo(5)).toBe(8);
    expect(() => merkleRoot(new Uint8Array(96), 2)).toThrow(RangeError);
  });
});
