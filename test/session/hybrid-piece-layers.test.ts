/**
 * A hybrid torrent without its piece layers (what a magnet link gives, or a
 * .torrent without `piece layers`) verifies its data by SHA-1, yet a v2 peer
 * asks for the layers with BEP 52 hash requests before it downloads
 * anything. shoal builds each file's layer from its verified data, keeps it
 * only when it hashes up to the file's `pieces root`, and answers: a small
 * v2 peer written here asks over TCP and checks every answer against the
 * roots. A layer built from data that does not match its root is never kept.
 */
import { connect, type Socket } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/core/client/client.ts';
import { HashPool } from '../../src/core/hashing/pool.ts';
import { metainfoFromInfo } from '../../src/core/metadata/metainfo-from-info.ts';
import type { Metainfo, TorrentFile } from '../../src/core/metainfo/types.ts';
import { PieceLayerBuilder } from '../../src/core/session/piece-layer-builder.ts';
import { TorrentSession } from '../../src/core/session/torrent-session.ts';
import { layerGeometry, verifyLayerRange } from '../../src/core/verify/piece-layer-proof.ts';
import { WireDecoder } from '../../src/core/wire/decoder.ts';
import { encodeHandshake, HANDSHAKE_LENGTH } from '../../src/core/wire/handshake.ts';
import { encodeHashMessage, type HashMessage } from '../../src/core/wire/hash-messages.ts';
import { cleanupTempDirs, makeTree, tempDir } from '../helpers/files.ts';
import { metainfoOf } from '../helpers/metainfo.ts';

cleanupTempDirs();

const PIECE = 16 * 1024;
// big.bin has 700 pieces (two requests of 512 and 256, with uncles); mid.bin ends inside a piece.
const FILES = [
  { path: 'tree/big.bin', size: 700 * PIECE - 999 },
  { path: 'tree/mid.bin', size: 5 * PIECE + 1 },
  { path: 'tree/small.txt', size: 3000 },
];

let pool: HashPool;
let root: string;
/** The hybrid with its layers, as `create --hybrid` writes it. */
let full: Metainfo;

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const layered = (meta: Metainfo) => meta.files.filter((f) => f.piecesRoot && f.length > PIECE);

beforeAll(async () => {
  pool = new HashPool({ threads: 1 });
  root = tempDir('shoal-hybrid-layers-');
  await makeTree(root, FILES);
  full = await metainfoOf(path.join(root, 'tree'), { version: 'hybrid', pieceLength: PIECE, pool });
  expect(full.pieces).not.toBeNull();
  expect(full.pieceLayers.size).toBe(2);
}, 60_000);

afterAll(async () => {
  await pool?.destroy();
});

describe('a hybrid without piece layers', () => {
  it('answers a v2 peer’s hash requests with layers built from its verified data', async () => {
    const meta = metainfoFromInfo(full.infoBytes); // a magnet link's metadata: no layers
    expect(meta.pieceLayers.size).toBe(0);
    const client = new Client({ port: 0, hashPool: pool });
    await client.start();
    const seeder = new TorrentSession({
      meta,
      outDir: root,
      hashPool: pool,
      client,
      readOnly: true,
      requireComplete: true,
      seedForever: true,
    });
    const running = seeder.run().catch(() => {});
    try {
      await new Promise<void>((resolve) => seeder.on('phase', (p) => p === 'seeding' && resolve()));
      const peer = await connectV2Peer(client.port, meta);
      try {
        for (const file of layered(meta)) {
          const geometry = layerGeometry(file.length, PIECE);
          for (let index = 0; index < geometry.width; index += 512) {
            const length = Math.min(512, geometry.width);
            const range = {
              piecesRoot: file.piecesRoot!,
              baseLayer: geometry.baseLayer,
              index,
              length,
              proofLayers: geometry.height - 1,
            };
            const answer = await peer.ask(range);
            expect(answer.type, `${file.path.join('/')} at ${index}`).toBe('hashes');
            if (answer.type !== 'hashes') continue;
            const verified = verifyLayerRange(geometry, PIECE, file.piecesRoot!, answer);
            expect(verified).not.toBeNull();
            const expected = full.pieceLayers.get(hex(file.piecesRoot!))!;
            const want = expected.subarray(
              index * 32,
              Math.min(expected.length, (index + length) * 32),
            );
            expect(hex(answer.hashes.subarray(0, want.length))).toBe(hex(want));
          }
        }
      } finally {
        peer.close();
      }
      expect(new Set(meta.pieceLayers.keys())).toEqual(new Set(full.pieceLayers.keys()));
    } finally {
      await seeder.interrupt();
      await running;
      await client.close();
    }
  }, 90_000);

  it('keeps no layer whose data does not hash up to the pieces root', async () => {
    const meta = metainfoFromInfo(full.infoBytes);
    const big = layered(meta)[0]!;
    const realRoot = big.piecesRoot!;
    const forged = Uint8Array.from(realRoot);
    forged[0]! ^= 1;
    // The info dictionary vouches for another root: the data here is not that file.
    (big as TorrentFile).piecesRoot = forged;
    const builder = new PieceLayerBuilder({
      meta,
      pool,
      filePath: (index) => path.join(root, ...meta.files[index]!.path),
    });
    const tasks = () => pool.tasksRun.callingThread + pool.tasksRun.workers;
    const before = tasks();
    expect(await builder.layerFor(hex(forged))).toBe(false);
    expect(meta.pieceLayers.has(hex(forged))).toBe(false);
    const hashed = tasks();
    expect(hashed).toBeGreaterThan(before);
    // Asked again (a peer repeating its request), it is not hashed again.
    expect(await builder.layerFor(hex(forged))).toBe(false);
    expect(tasks()).toBe(hashed);
    // The honest files still build: the builder was able to read and hash.
    const mid = layered(meta)[1]!;
    expect(await builder.layerFor(hex(mid.piecesRoot!))).toBe(true);
    expect(hex(meta.pieceLayers.get(hex(mid.piecesRoot!))!)).toBe(
      hex(full.pieceLayers.get(hex(mid.piecesRoot!))!),
    );
  }, 60_000);
});

type HashRange = Omit<Extract<HashMessage, { type: 'hash-request' }>, 'type'>;

/** A v2 peer: handshakes on the torrent, then sends hash requests one at a time. */
async function connectV2Peer(
  port: number,
  meta: Metainfo,
): Promise<{ ask(range: HashRange): Promise<HashMessage>; close(): void }> {
  const socket: Socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const reserved = new Uint8Array(8);
  reserved[7] = 0x10; // BEP 52: v2 capable
  socket.write(
    encodeHandshake({
      reserved,
      infoHash: meta.infoHash!,
      peerId: Buffer.from('-V20001-v2peerv2peer'),
    }),
  );
  const decoder = new WireDecoder();
  let handshake = Buffer.alloc(0);
  const answers: HashMessage[] = [];
  let wake: (() => void) | null = null;
  socket.on('data', (chunk: Buffer) => {
    if (handshake.length < HANDSHAKE_LENGTH) {
      handshake = Buffer.concat([handshake, chunk]);
      if (handshake.length < HANDSHAKE_LENGTH) return;
      chunk = handshake.subarray(HANDSHAKE_LENGTH);
      handshake = handshake.subarray(0, HANDSHAKE_LENGTH);
    }
    decoder.push(chunk);
    for (const message of decoder) {
      if (message.type === 'hashes' || message.type === 'hash-reject') answers.push(message);
    }
    wake?.();
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return {
    async ask(range) {
      socket.write(encodeHashMessage({ type: 'hash-request', ...range }));
      while (answers.length === 0) {
        const woken = new Promise<void>((resolve) => (wake = resolve));
        const ended = await Promise.race([woken.then(() => false), closed.then(() => true)]);
        if (ended && answers.length === 0) throw new Error('connection closed before an answer');
      }
      return answers.shift()!;
    },
    close: () => socket.destroy(),
  };
}
