/**
 * BEP 52 hash requests in real downloads, in-process: a v2 torrent whose
 * piece layers are missing (magnet metadata, or a .torrent without them)
 * gets them from a shoal seeder over TCP, verifies them against the pieces
 * roots, then downloads. Hostile peers (a small fake peer written here) that
 * answer with wrong proofs, too many hashes or another file's hashes are
 * refused without a crash and without storing a bad layer, and the download
 * still completes from the honest seeder.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/core/client/client.ts';
import { staticPeers } from '../../src/core/discovery/discovery.ts';
import { rootFromPieceLayer } from '../../src/core/digest/merkle.ts';
import { HashPool } from '../../src/core/hashing/pool.ts';
import { metainfoFromInfo } from '../../src/core/metadata/metainfo-from-info.ts';
import type { Metainfo } from '../../src/core/metainfo/types.ts';
import { TorrentSession } from '../../src/core/session/torrent-session.ts';
import {
  layerGeometry,
  layerTree,
  proveLayerRange,
} from '../../src/core/verify/piece-layer-proof.ts';
import { WireDecoder } from '../../src/core/wire/decoder.ts';
import { encodeHandshake, HANDSHAKE_LENGTH } from '../../src/core/wire/handshake.ts';
import { encodeHashMessage, type HashMessage } from '../../src/core/wire/hash-messages.ts';
import { encodeMessage } from '../../src/core/wire/messages.ts';
import { cleanupTempDirs, makeTree, tempDir } from '../helpers/files.ts';
import { metainfoOf } from '../helpers/metainfo.ts';

cleanupTempDirs();

const PIECE = 16 * 1024;
// big.bin has 700 pieces: two requests (512, then 188 rounded up to 256) with uncles.
const FILES = [
  { path: 'tree/big.bin', size: 700 * PIECE - 999 },
  { path: 'tree/mid.bin', size: 5 * PIECE + 1 },
  { path: 'tree/small.txt', size: 3000 },
];

let pool: HashPool;
let root: string;
/** The full torrent, with its piece layers: what the seeder has. */
let full: Metainfo;
let seederClient: Client;
let seeder: TorrentSession;

/** What a magnet link gives: the info dictionary only, no layers. */
function fromMagnet(): Metainfo {
  return metainfoFromInfo(full.infoBytes);
}

function hexLayers(meta: Metainfo): Record<string, string> {
  return Object.fromEntries(
    [...meta.pieceLayers].map(([key, layer]) => [key, Buffer.from(layer).toString('hex')]),
  );
}

async function sameAsSource(out: string): Promise<boolean> {
  for (const file of FILES) {
    const [want, got] = await Promise.all([
      readFile(path.join(root, file.path)),
      readFile(path.join(out, file.path)),
    ]);
    if (!want.equals(got)) return false;
  }
  return true;
}

function leecher(meta: Metainfo, ports: number[]) {
  const out = tempDir('shoal-layers-out-');
  const session = new TorrentSession({
    meta,
    outDir: out,
    hashPool: pool,
    port: null,
    stallTimeoutMs: 30_000,
    discoveries: [staticPeers(ports.map((port) => ({ host: '127.0.0.1', port })))],
  });
  const warnings: string[] = [];
  session.on('warning', (message) => warnings.push(message));
  return { session, out, warnings };
}

beforeAll(async () => {
  pool = new HashPool({ threads: 1 });
  root = tempDir('shoal-layers-src-');
  await makeTree(root, FILES);
  full = await metainfoOf(path.join(root, 'tree'), { version: 'v2', pieceLength: PIECE, pool });
  expect(full.pieceLayers.size).toBe(2);
  seederClient = new Client({ port: 0, hashPool: pool });
  await seederClient.start();
  seeder = new TorrentSession({
    meta: full,
    outDir: root,
    hashPool: pool,
    client: seederClient,
    readOnly: true,
    requireComplete: true,
    seedForever: true,
  });
  void seeder.run().catch(() => {});
  await new Promise<void>((resolve) => seeder.on('phase', (p) => p === 'seeding' && resolve()));
}, 60_000);

afterAll(async () => {
  await seeder?.interrupt();
  await seederClient?.close();
  await pool?.destroy();
});

describe('v2 piece layers from peers', () => {
  it('a v2 magnet (no layers) fetches them from a shoal seeder, verifies them, downloads', async () => {
    const meta = fromMagnet();
    expect(meta.pieceLayers.size).toBe(0);
    const { session, out } = leecher(meta, [seederClient.port]);
    const summary = await session.run();
    expect(summary.status).toBe('complete');
    expect(await sameAsSource(out)).toBe(true);
    expect(hexLayers(meta)).toEqual(hexLayers(full));
  }, 90_000);

  for (const hostility of ['wrong-proof', 'too-many-hashes', 'other-file'] as const) {
    it(`a peer sending ${hostility} is refused, stores nothing, and the download completes`, async () => {
      const fake = await startFakePeer(hostility);
      try {
        const meta = fromMagnet();
        // Only the fake peer at first, so it is the one asked.
        const { session, out, warnings } = leecher(meta, [fake.port]);
        const running = session.run();
        await fake.answered;
        await fake.closed;
        expect(meta.pieceLayers.size).toBe(0);
        session.addPeers([{ host: '127.0.0.1', port: seederClient.port }], 'test');
        const summary = await running;
        expect(summary.status).toBe('complete');
        expect(await sameAsSource(out)).toBe(true);
        expect(hexLayers(meta)).toEqual(hexLayers(full));
        if (hostility !== 'too-many-hashes')
          expect(warnings.some((w) => w.startsWith(`banned peer 127.0.0.1:`))).toBe(true);
      } finally {
        await fake.close();
      }
    }, 90_000);
  }
});

interface FakePeer {
  port: number;
  /** Its hostile answer to the first hash request is sent. */
  answered: Promise<void>;
  /** The downloader hung up on it. */
  closed: Promise<void>;
  close(): Promise<void>;
}

/**
 * A peer that has the torrent's layers but lies about them: it takes the
 * handshake, claims every piece, and answers the first hash request with
 * `hostility`. It never unchokes, so it never serves a block.
 */
async function startFakePeer(
  hostility: 'wrong-proof' | 'too-many-hashes' | 'other-file',
): Promise<FakePeer> {
  let answered!: () => void;
  let closed!: () => void;
  const answeredP = new Promise<void>((resolve) => (answered = resolve));
  const closedP = new Promise<void>((resolve) => (closed = resolve));
  const sockets: Socket[] = [];
  let lied = false;
  const server: Server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
    socket.on('close', () => closed());
    let handshake = Buffer.alloc(0);
    const decoder = new WireDecoder();
    socket.on('data', (chunk: Buffer) => {
      if (handshake.length < HANDSHAKE_LENGTH) {
        handshake = Buffer.concat([handshake, chunk]);
        if (handshake.length < HANDSHAKE_LENGTH) return;
        socket.write(
          encodeHandshake({
            reserved: new Uint8Array(8),
            infoHash: full.infoHashV2!.subarray(0, 20),
            peerId: Buffer.from('-FK0001-fakefakefake'),
          }),
        );
        const bits = new Uint8Array(Math.ceil(full.pieceCount / 8)).fill(0xff);
        const spare = bits.length * 8 - full.pieceCount;
        bits[bits.length - 1] = (0xff << spare) & 0xff;
        socket.write(encodeMessage({ type: 'bitfield', bytes: bits }));
        chunk = handshake.subarray(HANDSHAKE_LENGTH);
      }
      decoder.push(chunk);
      for (const message of decoder) {
        // Only the first request is answered: the lie is the only thing it sends.
        if (message.type !== 'hash-request' || lied) continue;
        lied = true;
        socket.write(hostileAnswer(hostility, message));
        answered();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    answered: answeredP,
    closed: closedP,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The honest answer from the full torrent for the start of the file `request` names. */
function honestAnswer(
  request: Extract<HashMessage, { type: 'hash-request' }>,
): Extract<HashMessage, { type: 'hashes' }> {
  const rootHex = Buffer.from(request.piecesRoot).toString('hex');
  const file = full.files.find(
    (f) => f.piecesRoot && Buffer.from(f.piecesRoot).toString('hex') === rootHex,
  )!;
  const geometry = layerGeometry(file.length, PIECE);
  const tree = layerTree(geometry, PIECE, full.pieceLayers.get(rootHex)!);
  const index = 0;
  const length = Math.min(request.length, geometry.width);
  const proofLayers = geometry.height - 1;
  const proof = proveLayerRange(geometry, tree, { index, length, proofLayers })!;
  return {
    type: 'hashes',
    piecesRoot: file.piecesRoot!,
    baseLayer: geometry.baseLayer,
    index,
    length,
    proofLayers,
    ...proof,
  };
}

function hostileAnswer(
  hostility: 'wrong-proof' | 'too-many-hashes' | 'other-file',
  request: Extract<HashMessage, { type: 'hash-request' }>,
): Uint8Array {
  const requested = Buffer.from(request.piecesRoot).toString('hex');
  if (hostility === 'other-file') {
    // The range asked for, with a correct proof, but of a file of another torrent.
    const file = full.files.find(
      (f) => f.piecesRoot && Buffer.from(f.piecesRoot).toString('hex') === requested,
    )!;
    const geometry = layerGeometry(file.length, PIECE);
    const layer = new Uint8Array(randomBytes(geometry.pieces * 32));
    const proof = proveLayerRange(geometry, layerTree(geometry, PIECE, layer), request)!;
    const otherRoot = rootFromPieceLayer(layer, PIECE);
    return encodeHashMessage({ ...request, type: 'hashes', piecesRoot: otherRoot, ...proof });
  }
  const honest = honestAnswer({ ...request, index: 0 });
  if (hostility === 'wrong-proof') {
    const hashes = honest.hashes.slice();
    hashes[40]! ^= 1;
    return encodeHashMessage({ ...honest, index: request.index, hashes });
  }
  // Too many: the header says `length` hashes, and 100 more follow.
  const frame = encodeHashMessage({ ...honest, index: request.index });
  const longer = new Uint8Array(frame.length + 100 * 32);
  longer.set(frame);
  new DataView(longer.buffer).setUint32(0, longer.length - 4);
  return longer;
}
