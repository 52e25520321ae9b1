/**
 * The engine against peers that lie, break the protocol, stall or flood it.
 * Each test runs a real TorrentSession on loopback against FakePeers and
 * checks that the download still completes with correct data, that the
 * offender is dropped, and that nothing crashes.
 */
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { HashPool } from '../../src/core/hashing/pool.ts';
import { metainfoOf } from '../helpers/metainfo.ts';
import type { Metainfo } from '../../src/core/metainfo/types.ts';
import { staticPeers } from '../../src/core/discovery/discovery.ts';
import { encodeHandshake } from '../../src/core/wire/handshake.ts';
import { TorrentSession, type SessionOptions } from '../../src/core/session/torrent-session.ts';
import { freePort } from '../helpers/ports.ts';
import { FakePeer, seeder, type FakePeerBehaviour } from './fake-peer.ts';

const PIECE = 32 * 1024;
let root: string;
let meta: Metainfo;
let data: Buffer;
let pool: HashPool;
const peers: FakePeer[] = [];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'shoal-hostile-'));
  data = randomBytes(40 * PIECE + 1234);
  writeFileSync(join(root, 'payload.bin'), data);
  pool = new HashPool({ threads: 2 });
  meta = await metainfoOf(join(root, 'payload.bin'), { version: 'v1', pieceLength: PIECE, pool });
});

afterAll(async () => {
  await pool.destroy();
  rmSync(root, { recursive: true, force: true });
});

afterEach(async () => {
  await Promise.all(peers.splice(0).map((peer) => peer.stop()));
});

async function fake(behaviour: FakePeerBehaviour): Promise<FakePeer> {
  const peer = await FakePeer.start(meta.infoHash!, behaviour);
  peers.push(peer);
  return peer;
}

function session(options: Partial<SessionOptions> & { peerPorts: number[] }): {
  session: TorrentSession;
  out: string;
} {
  const out = mkdtempSync(join(root, 'out-'));
  const s = new TorrentSession({
    meta,
    outDir: out,
    hashPool: pool,
    port: 0,
    stallTimeoutMs: 30_000,
    discoveries: [staticPeers(options.peerPorts.map((port) => ({ host: '127.0.0.1', port })))],
    ...options,
  });
  return { session: s, out };
}

const honest = () => fake(seeder(data, PIECE));

describe('hostile peers', () => {
  it('bans a peer whose data fails the hash check and completes from an honest one', async () => {
    const liar = await fake(
      seeder(data, PIECE, (_i, _b, block) => Buffer.alloc(block.length, 0xee)),
    );
    const { session: s, out } = session({ peerPorts: [liar.port] });
    const failed: number[] = [];
    const warnings: string[] = [];
    s.on('piece-failed', (index) => failed.push(index));
    s.on('warning', (message) => warnings.push(message));
    // The honest peer only becomes known after the liar has been caught.
    s.once('piece-failed', () => {
      void honest().then((good) => s.addPeers([{ host: '127.0.0.1', port: good.port }], 'test'));
    });
    await s.run();
    expect(readFileSync(join(out, 'payload.bin')).equals(data)).toBe(true);
    expect(failed.length).toBeGreaterThan(0);
    expect(warnings.some((w) => w.includes('banned') && w.includes(String(liar.port)))).toBe(true);
  });

  it.each([
    [
      'a 4 GiB length prefix',
      (p: { sendRaw(b: Uint8Array): void }) => p.sendRaw(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 7)),
    ],
    [
      'a bitfield of the wrong size',
      (p: { sendRaw(b: Uint8Array): void }) => p.sendRaw(Uint8Array.of(0, 0, 0, 3, 5, 0xff, 0xff)),
    ],
    [
      'a have for a piece that does not exist',
      (p: { sendRaw(b: Uint8Array): void }) => p.sendRaw(Uint8Array.of(0, 0, 0, 5, 4, 0, 1, 0, 0)),
    ],
    [
      'an unknown message of 100 MB',
      (p: { sendRaw(b: Uint8Array): void }) => p.sendRaw(Uint8Array.of(0x06, 0, 0, 0, 99)),
    ],
  ])('drops a peer that sends %s and completes from others', async (_what, attack) => {
    const hostile = await fake({ onConnect: (peer) => attack(peer) });
    const good = await honest();
    const { session: s, out } = session({ peerPorts: [hostile.port, good.port] });
    const reasons: string[] = [];
    s.on('peer-disconnected', ({ key, reason }) => {
      if (key.endsWith(`:${hostile.port}`)) reasons.push(reason);
    });
    await s.run();
    expect(readFileSync(join(out, 'payload.bin')).equals(data)).toBe(true);
    expect(reasons.length).toBeGreaterThan(0);
  });

  it('never stores blocks nobody asked for', async () => {
    const pushy = await fake({
      onConnect(peer) {
        peer.send({ type: 'have-all' });
        peer.send({ type: 'unchoke' });
        // Blocks of shapes we never request (odd offsets and lengths) can never be taken for
        // answers to our requests: they must be dropped, not stored.
        for (let index = 0; index < meta.pieceCount; index++)
          peer.sendBlock(index, 8, Buffer.alloc(100, 0x55));
      },
      onMessage: seeder(data, PIECE).onMessage,
    });
    const { session: s, out } = session({ peerPorts: [pushy.port] });
    await s.run();
    expect(readFileSync(join(out, 'payload.bin')).equals(data)).toBe(true);
  });

  it('does not take a block past the end of one piece for the start of the next', async () => {
    const honestly = seeder(data, PIECE);
    const aliasing = await fake({
      onConnect: honestly.onConnect,
      onMessage(peer, message) {
        // Before each real answer, junk at (index - 1, PIECE): an offset one piece long, where
        // a careless lookup by block number would find our request for (index, 0) and then
        // ignore the real block as unrequested, stalling the download.
        if (message.type === 'request' && message.begin === 0 && message.index > 0)
          peer.sendBlock(message.index - 1, PIECE, Buffer.alloc(message.length, 0x66));
        honestly.onMessage!(peer, message);
      },
    });
    const { session: s, out } = session({ peerPorts: [aliasing.port], stallTimeoutMs: 10_000 });
    await s.run();
    expect(readFileSync(join(out, 'payload.bin')).equals(data)).toBe(true);
  });

  it('dials the next peer as soon as one refuses, not at the next tick', async () => {
    // More dead addresses than dials may be in flight at once, the one live peer last: with
    // the housekeeping tick an hour away, only redialling on each refusal reaches it.
    // Ports nothing listens on: freePort()'s are kept from other processes, so they stay refused.
    const dead = await Promise.all(Array.from({ length: 40 }, () => freePort()));
    const live = await honest();
    const { session: s, out } = session({
      peerPorts: [...dead, live.port],
      tickMs: 3_600_000,
    });
    await s.run();
    expect(readFileSync(join(out, 'payload.bin')).equals(data)).toBe(true);
  });

  it('works around peers that accept and never speak, or unchoke and never send', async () => {
    const silent = await fake({ silent: true });
    const staller = await fake({
      onConnect(peer) {
        peer.send({ type: 'have-all' });
        peer.send({ type: 'unchoke' });
      },
    });
    const good = await honest();
    const { session: s, out } = session({ peerPorts: [silent.port, staller.port, good.port] });
    await s.run();
    expect(readFileSync(join(out, 'payload.bin')).equals(data)).toBe(true);
    expect(staller.connections).toBe(1);
  });

  it('gives up with a network error when the only peer stalls past the timeout', async () => {
    const staller = await fake({
      onConnect(peer) {
        peer.send({ type: 'have-all' });
        peer.send({ type: 'unchoke' });
      },
    });
    const { session: s } = session({ peerPorts: [staller.port], stallTimeoutMs: 2000 });
    await expect(s.run()).rejects.toMatchObject({ exitCode: 4 });
  });

  it('keeps a flood of incoming connections within --max-peers', async () => {
    const good = await honest();
    const { session: s, out } = session({ peerPorts: [], maxPeers: 8 });
    const flood = 60;
    let answered = 0;
    let closed = 0;
    // The start of a handshake, up to the info-hash and without the peer id: the engine
    // answers such a connection with its own handshake (some clients wait for it), so the
    // connections it took on are told apart from the ones it refused by what they receive.
    const opening = encodeHandshake({
      reserved: new Uint8Array(8),
      infoHash: meta.infoHash!,
      peerId: new Uint8Array(20),
    }).subarray(0, 48);
    const allClosed = new Promise<void>((resolve) => {
      s.once('listening', (port) => {
        for (let i = 0; i < flood; i++) {
          const socket = net.connect(port, '127.0.0.1', () => socket.write(opening));
          let gotAnswer = false;
          socket.on('data', () => {
            if (!gotAnswer) answered++;
            gotAnswer = true;
          });
          socket.on('error', () => {});
          // Refused at once, or dropped when the handshake never completes (its timeout).
          socket.on('close', () => {
            if (++closed === flood) resolve();
          });
        }
      });
    });
    const result = s.run();
    await allClosed;
    s.addPeers([{ host: '127.0.0.1', port: good.port }], 'test');
    await result;
    expect(readFileSync(join(out, 'payload.bin')).equals(data)).toBe(true);
    // Only as many connections as --max-peers allows were ever taken on; the rest were refused.
    expect(answered).toBeGreaterThan(0);
    expect(answered).toBeLessThanOrEqual(8);
    expect(s.stats().peers).toBeLessThanOrEqual(8);
  }, 60_000);
});
