import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  MetadataAssembler,
  type AddResult,
} from '../../../src/core/metadata/metadata-assembler.ts';
import { MetadataServer } from '../../../src/core/metadata/metadata-server.ts';
import {
  decodeUtMetadata,
  encodeUtMetadata,
  METADATA_PIECE_SIZE,
} from '../../../src/core/metadata/ut-metadata-codec.ts';
import { numRuns as FUZZ_RUNS } from '../../helpers/fuzz.ts';

const sha1 = (b: Uint8Array) => createHash('sha1').update(b).digest();
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest();
const piece = (info: Uint8Array, i: number) =>
  info.subarray(i * METADATA_PIECE_SIZE, Math.min((i + 1) * METADATA_PIECE_SIZE, info.length));

/** Lets `peer` fetch every piece it is given, answering with `source`'s bytes. */
function drain(a: MetadataAssembler, peer: string, source: Uint8Array): AddResult | null {
  let last: AddResult | null = null;
  for (
    let i = a.nextRequest(peer, source.length);
    i !== null;
    i = a.nextRequest(peer, source.length)
  ) {
    last = a.add(peer, i, source.length, piece(source, i));
    if (last.status === 'complete' || last.status === 'mismatch') return last;
  }
  return last;
}

describe('MetadataAssembler', () => {
  const info = randomBytes(3 * METADATA_PIECE_SIZE + 100);

  it('assembles pieces from several peers and checks v1 and v2 hashes', () => {
    const a = new MetadataAssembler({ infoHash: sha1(info), infoHashV2: sha256(info) });
    const p0 = a.nextRequest('A', info.length)!;
    const p1 = a.nextRequest('B', info.length)!;
    const p2 = a.nextRequest('A', info.length)!;
    const p3 = a.nextRequest('B', info.length)!;
    expect(new Set([p0, p1, p2, p3])).toEqual(new Set([0, 1, 2, 3]));
    expect(a.nextRequest('C', info.length)).toBeNull();
    expect(a.add('A', p0, info.length, piece(info, p0))).toMatchObject({
      status: 'stored',
      received: 1,
    });
    a.add('B', p1, info.length, piece(info, p1));
    a.add('A', p2, info.length, piece(info, p2));
    const done = a.add('B', p3, info.length, piece(info, p3));
    expect(done.status).toBe('complete');
    expect(Buffer.from((done as { infoBytes: Uint8Array }).infoBytes).equals(info)).toBe(true);
  });

  it('checks the v2 hash alone (btmh-only magnet)', () => {
    const a = new MetadataAssembler({ infoHashV2: sha256(info) });
    expect(drain(a, 'A', info)?.status).toBe('complete');
    const b = new MetadataAssembler({ infoHashV2: sha256(randomBytes(32)) });
    expect(drain(b, 'A', info)).toMatchObject({ status: 'mismatch', culprits: ['A'] });
  });

  it('names the sole contributor of bad metadata and starts over', () => {
    const a = new MetadataAssembler({ infoHash: sha1(info) });
    const evil = Buffer.from(info);
    evil[5] ^= 1;
    expect(drain(a, 'evil', evil)).toMatchObject({ status: 'mismatch', culprits: ['evil'] });
    expect(a.sizes).toEqual([]);
    expect(drain(a, 'honest', info)).toMatchObject({ status: 'complete', liars: [] });
  });

  it('a liar among several contributors is convicted once an honest round verifies', () => {
    const a = new MetadataAssembler({ infoHash: sha1(info) });
    const evil = Buffer.from(info);
    evil[METADATA_PIECE_SIZE + 1] ^= 1; // only piece 1 differs
    // Interleave: pieces 0,2 from honest, 1,3 from evil.
    const order = [
      ['honest', info],
      ['evil', evil],
      ['honest', info],
      ['evil', evil],
    ] as const;
    let result: AddResult | null = null;
    for (const [peer, bytes] of order) {
      const i = a.nextRequest(peer, info.length)!;
      result = a.add(peer, i, info.length, piece(bytes, i));
    }
    expect(result).toMatchObject({ status: 'mismatch', culprits: [] });
    expect(new Set((result as { contributors: string[] }).contributors)).toEqual(
      new Set(['honest', 'evil']),
    );
    // Single-source round: the first peer to ask gets everything, the other nothing.
    const first = a.nextRequest('honest', info.length);
    expect(first).not.toBeNull();
    expect(a.nextRequest('evil', info.length)).toBeNull();
    a.add('honest', first!, info.length, piece(info, first!));
    expect(drain(a, 'honest', info)).toMatchObject({ status: 'complete', liars: ['evil'] });
  });

  it('convicts a liar that announced a different size', () => {
    const a = new MetadataAssembler({ infoHash: sha1(info) });
    const evil = randomBytes(100);
    expect(drain(a, 'evil', evil)).toMatchObject({ status: 'mismatch', culprits: ['evil'] });
    expect(drain(a, 'honest', info)).toMatchObject({ status: 'complete', liars: [] });
  });

  it('assembles each announced size on its own: a peer with another size locks nobody out', () => {
    const a = new MetadataAssembler({ infoHash: sha1(info) });
    // The liar asks first, with a size of its own, and leaves with its request unanswered.
    expect(a.nextRequest('liar', info.length + 999)).toBe(0);
    expect(a.nextRequest('honest', info.length)).toBe(0);
    a.removePeer('liar');
    expect(a.sizes).toEqual([info.length]);
    a.add('honest', 0, info.length, piece(info, 0));
    expect(drain(a, 'honest', info)).toMatchObject({ status: 'complete', liars: [] });
  });

  it('a liar sending a whole round of another size is convicted when the true bytes verify', () => {
    const a = new MetadataAssembler({ infoHash: sha1(info) });
    const [l1, l2] = ['l1', 'l2'];
    const fake = randomBytes(2 * METADATA_PIECE_SIZE);
    // Two liars share a size: their round fails with nobody proven.
    const i = a.nextRequest(l1, fake.length)!;
    const j = a.nextRequest(l2, fake.length)!;
    a.add(l1, i, fake.length, piece(fake, i));
    expect(a.add(l2, j, fake.length, piece(fake, j))).toMatchObject({
      status: 'mismatch',
      culprits: [],
    });
    // Meanwhile an honest peer's round of the true size completes and names both.
    const done = drain(a, 'honest', info);
    expect(done).toMatchObject({ status: 'complete' });
    expect(new Set((done as { liars: string[] }).liars)).toEqual(new Set([l1, l2]));
  });

  it('a round whose peers all left is dropped with its pieces', () => {
    const a = new MetadataAssembler({ infoHash: sha1(info) });
    const size = 5 * METADATA_PIECE_SIZE;
    const i = a.nextRequest('liar', size)!;
    a.add('liar', i, size, new Uint8Array(METADATA_PIECE_SIZE));
    expect(a.sizes).toEqual([size]);
    a.removePeer('liar');
    expect(a.sizes).toEqual([]);
  });

  it('ignores unrequested pieces and frees requests of rejecting or departed peers', () => {
    const a = new MetadataAssembler({ infoHash: sha1(info) });
    const i = a.nextRequest('A', info.length)!;
    expect(a.add('B', i, info.length, piece(info, i))).toEqual({ status: 'ignored' });
    expect(a.add('A', i, info.length + 1, piece(info, i))).toEqual({ status: 'ignored' });
    a.rejected('A', i);
    expect(a.nextRequest('B', info.length)).toBe(i);
    a.removePeer('B');
    expect(a.requestedFrom('B')).toEqual([]);
    expect(a.nextRequest('C', info.length)).toBe(i);
  });

  it('refuses sizes over the cap', () => {
    const a = new MetadataAssembler({ infoHash: sha1(info), maxSize: 1000 });
    expect(a.nextRequest('A', 1001)).toBeNull();
    expect(a.nextRequest('A', 0)).toBeNull();
  });

  it('random interleavings of honest and lying peers: completes with the true bytes, never blames the honest', () => {
    const small = randomBytes(5 * METADATA_PIECE_SIZE + 7);
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 400 }),
        fc.integer({ min: 1, max: 3 }),
        (schedule, liarCount) => {
          const a = new MetadataAssembler({ infoHash: sha1(small) });
          const peers = ['h0', 'l1', 'l2', 'l3'].slice(0, liarCount + 1);
          const bytesOf = (peer: string) => {
            if (peer.startsWith('h')) return small;
            const bad = Buffer.from(small);
            bad[Number(peer[1]) * 1000] ^= 0xff;
            return bad;
          };
          const dropped = new Set<string>();
          const live = () => peers.filter((p) => !dropped.has(p));
          // Drive with the schedule, then let everyone finish round-robin.
          const steps = [...schedule, ...Array.from({ length: 200 }, (_, i) => i)];
          for (const step of steps) {
            const alive = live();
            const peer = alive[step % alive.length]!;
            const i = a.nextRequest(peer, small.length);
            if (i === null) continue;
            const result = a.add(peer, i, small.length, piece(bytesOf(peer), i));
            if (result.status === 'mismatch') {
              for (const c of result.culprits) {
                expect(c.startsWith('l')).toBe(true);
                dropped.add(c);
                a.removePeer(c);
              }
            }
            if (result.status === 'complete') {
              expect(Buffer.from(result.infoBytes).equals(small)).toBe(true);
              for (const liar of result.liars) expect(liar.startsWith('l')).toBe(true);
              return;
            }
          }
          throw new Error('never completed');
        },
      ),
      { numRuns: FUZZ_RUNS },
    );
  });
});

describe('MetadataServer', () => {
  it('serves every piece, rejects out-of-range requests and floods', () => {
    const info = randomBytes(2 * METADATA_PIECE_SIZE + 1);
    const server = new MetadataServer(info, { maxRequestsPerPeer: 4 });
    expect(server.size).toBe(info.length);
    const got: Uint8Array[] = [];
    for (let i = 0; i < 3; i++) {
      const reply = decodeUtMetadata(
        server.handle('p', encodeUtMetadata({ type: 'request', piece: i }))!,
        {
          metadataSize: info.length,
        },
      );
      expect(reply).toMatchObject({ type: 'data', piece: i, totalSize: info.length });
      got.push((reply as { data: Uint8Array }).data);
    }
    expect(Buffer.concat(got).equals(info)).toBe(true);
    expect(
      decodeUtMetadata(server.handle('p', encodeUtMetadata({ type: 'request', piece: 3 }))!),
    ).toEqual({
      type: 'reject',
      piece: 3,
    });
    // Fifth request from the same peer: over its budget.
    expect(
      decodeUtMetadata(server.handle('p', encodeUtMetadata({ type: 'request', piece: 0 }))!),
    ).toEqual({
      type: 'reject',
      piece: 0,
    });
    server.forget('p');
    expect(
      decodeUtMetadata(server.handle('p', encodeUtMetadata({ type: 'request', piece: 0 }))!).type,
    ).toBe('data');
    expect(server.handle('p', encodeUtMetadata({ type: 'reject', piece: 0 }))).toBeNull();
  });
});
