/**
 * A hybrid torrent is in two swarms (BEP 52): a peer may name it by its v1
 * info-hash or by its v2 one cut to 20 bytes. A client running a hybrid
 * seeder routes a handshake naming either hash to it, and the handshake it
 * answers with names the hash the peer used (a peer that knows only the v2
 * hash drops a connection answered with another). Raw TCP handshakes on
 * 127.0.0.1 against a real TorrentSession on a shared Client, as the daemon
 * runs them.
 */
import { connect, type Socket } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../../src/core/client/client.ts';
import { HashPool } from '../../../src/core/hashing/pool.ts';
import type { Metainfo } from '../../../src/core/metainfo/types.ts';
import { TorrentSession } from '../../../src/core/session/torrent-session.ts';
import {
  decodeHandshake,
  encodeHandshake,
  makeReserved,
} from '../../../src/core/wire/handshake.ts';
import { cleanupTempDirs, makeTree, tempDir } from '../../helpers/files.ts';
import { metainfoOf } from '../../helpers/metainfo.ts';

cleanupTempDirs();

let pool: HashPool;
let dataDir: string;
let meta: Metainfo;
let client: Client;
let session: TorrentSession;
let ended: Promise<unknown>;

beforeAll(async () => {
  pool = new HashPool({ threads: 1 });
  dataDir = tempDir('shoal-hybrid-routing-');
  await makeTree(dataDir, [{ path: 'h.bin', size: 200 * 1024 + 11 }]);
  meta = await metainfoOf(path.join(dataDir, 'h.bin'), {
    version: 'hybrid',
    pieceLength: 16 * 1024,
    pool,
  });
  client = new Client({ port: 0, hashPool: pool });
  await client.start();
  session = new TorrentSession({
    meta,
    outDir: dataDir,
    hashPool: pool,
    client,
    readOnly: true,
    requireComplete: true,
    seedForever: true,
  });
  const seeding = new Promise<void>((resolve) =>
    session.on('phase', (phase) => phase === 'seeding' && resolve()),
  );
  ended = session.run().catch((error: unknown) => error);
  await seeding;
});

afterAll(async () => {
  await session?.interrupt();
  await ended;
  await client?.close();
  await pool?.destroy();
});

/**
 * Sends a handshake naming `infoHash` and resolves with the info-hash of the
 * handshake that comes back, or null when the connection closes first.
 */
function handshakeWith(infoHash: Uint8Array): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const socket: Socket = connect(client.port, '127.0.0.1');
    let received = Buffer.alloc(0);
    const done = (answer: Buffer | null) => {
      socket.destroy();
      resolve(answer);
    };
    socket.on('connect', () => {
      const peerId = Buffer.alloc(20, 7);
      const reserved = makeReserved({ extensionProtocol: true, fastExtension: true });
      socket.write(encodeHandshake({ reserved, infoHash, peerId }));
    });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const decoded = decodeHandshake(received);
      if (decoded.status === 'ok') done(Buffer.from(decoded.handshake.infoHash));
      else if (decoded.status === 'invalid') done(null);
    });
    socket.on('error', () => done(null));
    socket.on('close', () => done(null));
  });
}

describe('a hybrid on a client', () => {
  it('answers a handshake naming its truncated v2 hash with that hash', async () => {
    const v2 = Buffer.from(meta.infoHashV2!.subarray(0, 20));
    const answer = await handshakeWith(v2);
    expect(answer?.toString('hex')).toBe(v2.toString('hex'));
  });

  it('answers a handshake naming its v1 hash with the v1 hash', async () => {
    const v1 = Buffer.from(meta.infoHash!);
    const answer = await handshakeWith(v1);
    expect(answer?.toString('hex')).toBe(v1.toString('hex'));
  });

  it('is listed under both hashes while it runs', () => {
    const keys = [...client.torrents.keys()];
    expect(keys).toContain(Buffer.from(meta.infoHash!).toString('hex'));
    expect(keys).toContain(Buffer.from(meta.infoHashV2!.subarray(0, 20)).toString('hex'));
  });
});
