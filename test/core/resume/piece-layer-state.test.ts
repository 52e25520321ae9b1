/**
 * Saved v2 piece layers (resume/piece-layer-state.ts) and a saved .torrent
 * completed with them (session/piece-layer-torrent.ts): what round-trips,
 * and what a tampered file yields (nothing, never a wrong layer).
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeBencode, encodeBencode } from '../../../src/core/bencode/index.ts';
import { fileMerkle } from '../../../src/core/digest/merkle.ts';
import type { Metainfo } from '../../../src/core/metainfo/types.ts';
import {
  decodePieceLayers,
  encodePieceLayers,
} from '../../../src/core/resume/piece-layer-state.ts';
import { withPieceLayers } from '../../../src/core/session/piece-layer-torrent.ts';

const PIECE = 16 * 1024;

/** A v2 torrent's facts as far as layers go: two files of several pieces, one small one. */
function torrentOf(sizes: number[]): { meta: Metainfo; layers: Map<string, Uint8Array> } {
  const layers = new Map<string, Uint8Array>();
  const files = sizes.map((length) => {
    const { root, pieceLayer } = fileMerkle(new Uint8Array(randomBytes(length)), PIECE);
    if (pieceLayer) layers.set(Buffer.from(root!).toString('hex'), pieceLayer);
    return { length, piecesRoot: root, padding: false };
  });
  const meta = { files, pieceLength: PIECE, pieceLayers: new Map() } as unknown as Metainfo;
  return { meta, layers };
}

describe('saved piece layers', () => {
  it('round-trip: every layer comes back', () => {
    const { meta, layers } = torrentOf([5 * PIECE + 7, 3 * PIECE, 100]);
    const back = decodePieceLayers(encodePieceLayers(layers), meta);
    expect(back).toEqual(layers);
    expect(back.size).toBe(2);
  });

  it('a layer that does not hash to its pieces root is dropped, the others kept', () => {
    const { meta, layers } = torrentOf([5 * PIECE + 7, 3 * PIECE]);
    const [forgedRoot, good] = [...layers.keys()];
    const forged = new Map(layers);
    const bad = new Uint8Array(layers.get(forgedRoot!)!);
    bad[0]! ^= 1;
    forged.set(forgedRoot!, bad);
    const back = decodePieceLayers(encodePieceLayers(forged), meta);
    expect([...back.keys()]).toEqual([good]);
  });

  it('a layer of the wrong length, garbage bytes and other torrents yield nothing', () => {
    const { meta, layers } = torrentOf([5 * PIECE + 7]);
    const [root, layer] = [...layers][0]!;
    const longer = new Map([[root, Buffer.concat([layer, Buffer.alloc(32)])]]);
    expect(decodePieceLayers(encodePieceLayers(longer), meta).size).toBe(0);
    expect(decodePieceLayers(Buffer.from('not bencode at all'), meta).size).toBe(0);
    expect(decodePieceLayers(Buffer.from('le'), meta).size).toBe(0);
    const other = torrentOf([4 * PIECE]);
    expect(decodePieceLayers(encodePieceLayers(other.layers), meta).size).toBe(0);
  });

  it('layers the torrent already has are not loaded again', () => {
    const { meta, layers } = torrentOf([5 * PIECE + 7]);
    meta.pieceLayers = new Map(layers);
    expect(decodePieceLayers(encodePieceLayers(layers), meta).size).toBe(0);
  });
});

describe('a saved .torrent completed with its layers', () => {
  const info = { name: 'x', 'piece length': PIECE };
  const layers = new Map([['ab'.repeat(32), new Uint8Array(64).fill(7)]]);

  it('goes where sorted keys put it, the other entries byte for byte', () => {
    const torrent = encodeBencode({ announce: 'http://t/a', info, 'url-list': ['http://m/'] });
    const completed = withPieceLayers(torrent, layers)!;
    const { value, topLevelRanges } = decodeBencode(completed);
    expect([...topLevelRanges.keys()]).toEqual(['announce', 'info', 'piece layers', 'url-list']);
    const pieceLayers = (value as Record<string, Record<string, Uint8Array>>)['piece layers']!;
    expect(Object.keys(pieceLayers)).toEqual(['ab'.repeat(32)]);
    const [start, end] = decodeBencode(torrent).topLevelRanges.get('info')!;
    const [start2, end2] = topLevelRanges.get('info')!;
    expect(Buffer.from(completed.subarray(start2, end2))).toEqual(
      Buffer.from(torrent.subarray(start, end)),
    );
  });

  it('at the end when no key sorts after it, and not at all when it is there', () => {
    const torrent = encodeBencode({ info });
    const completed = withPieceLayers(torrent, layers)!;
    expect([...decodeBencode(completed).topLevelRanges.keys()]).toEqual(['info', 'piece layers']);
    expect(withPieceLayers(completed, layers)).toBeNull();
  });
});
