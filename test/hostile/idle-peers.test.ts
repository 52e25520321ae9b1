/**
 * Peers that hold a connection and do nothing (keep-alives only) must not
 * starve a download: idle peers give up their slots to peers that wait, and
 * connections to us cannot take the slots kept for peers we dial.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { HashPool } from '../../src/core/hashing/pool.ts';
import type { Metainfo } from '../../src/core/metainfo/types.ts';
import { staticPeers } from '../../src/core/discovery/discovery.ts';
import { TorrentSession } from '../../src/core/session/torrent-session.ts';
import { encodeHandshake } from '../../src/core/wire/handshake.ts';
import { encodeMessage } from '../../src/core/wire/messages.ts';
import { metainfoOf } from '../helpers/metainfo.ts';
import { FakePeer, seeder, type FakePeerBehaviour } from './fake-peer.ts';

const PIECE = 32 * 1024;
let root: string;
let meta: Metainfo;
let data: Buffer;
let pool: HashPool;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'shoal-idle-'));
  data = randomBytes(24 * PIECE);
  writeFileSync(join(root, 'payload.bin'), data);
  pool = new HashPool({ threads: 1 });
  meta = await metainfoOf(join(root, 'payload.bin'), { version: 'v1', pieceLength: PIECE, pool });
});
afterAll(async () => {
  await pool.destroy();
  rmSync(root, { recursive: true, force: true });
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** Answers the handshake, then sends a keep-alive every half second and nothing else. */
const idle: FakePeerBehaviour = {
  onConnect(peer) {
    const timer = setInterval(() => peer.send({ type: 'keep-alive' }), 500);
    peer.socket.on('close', () => clearInterval(timer));
  },
};

describe('idle peers', () => {
  it('peers we dialled that only send keep-alives give their slots to a seeder that waits', async () => {
    const idlers = await Promise.all(
      Array.from({ length: 6 }, () => FakePeer.start(meta.infoHash!, idle)),
    );
    const good = await FakePeer.start(meta.infoHash!, seeder(data, PIECE));
    for (const peer of [...idlers, good]) cleanups.push(() => peer.stop());
    const out = mkdtempSync(join(root, 'out-'));
    // Six slots, six idle peers known first: the seeder is only dialled once a slot frees.
    const session = new TorrentSession({
      meta,
      outDir: out,
      hashPool: pool,
      port: null,
      maxPeers: 6,
      idlePeerMs: 2000,
      stallTimeoutMs: 30_000,
      discoveries: [
        staticPeers([...idlers, good].map((peer) => ({ host: '127.0.0.1', port: peer.port }))),
      ],
    });
    const reasons: string[] = [];
    session.on('peer-disconnected', ({ reason }) => reasons.push(reason));
    await session.run();
    expect(readFileSync(join(out, 'payload.bin')).equals(data)).toBe(true);
    expect(reasons.some((r) => r.includes('idle while other peers wait'))).toBe(true);
  }, 60_000);

  it('incoming connections cannot take the slots kept for peers we dial', async () => {
    const good = await FakePeer.start(meta.infoHash!, seeder(data, PIECE));
    cleanups.push(() => good.stop());
    const out = mkdtempSync(join(root, 'out-'));
    // Idle peers are never dropped here: only the slots kept for dialling let the seeder in.
    const session = new TorrentSession({
      meta,
      outDir: out,
      hashPool: pool,
      port: 0,
      maxPeers: 10,
      idlePeerMs: 3_600_000,
      stallTimeoutMs: 30_000,
    });
    let handshaken = 0;
    session.on('peer-connected', () => handshaken++);
    session.once('listening', (port) => {
      // Twenty peers connect to us with a proper handshake and then only send keep-alives.
      for (let i = 0; i < 20; i++) {
        const socket = net.connect(port, '127.0.0.1', () => {
          socket.write(
            encodeHandshake({
              reserved: new Uint8Array(8),
              infoHash: meta.infoHash!,
              peerId: randomBytes(20),
            }),
          );
        });
        socket.on('error', () => {});
        const timer = setInterval(() => socket.write(encodeMessage({ type: 'keep-alive' })), 500);
        socket.on('close', () => clearInterval(timer));
        cleanups.push(() => {
          clearInterval(timer);
          socket.destroy();
        });
      }
      // Once every one of them has been taken on or refused, the seeder becomes known.
      const added = setInterval(() => {
        if (handshaken < 8) return;
        clearInterval(added);
        session.addPeers([{ host: '127.0.0.1', port: good.port }], 'test');
      }, 50);
      cleanups.push(() => clearInterval(added));
    });
    await session.run();
    expect(readFileSync(join(out, 'payload.bin')).equals(data)).toBe(true);
  }, 60_000);
});
