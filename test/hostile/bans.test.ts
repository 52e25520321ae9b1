/**
 * Bans against a peer that comes back: an attacker connecting to us (from a
 * new source port and a new peer id each time) must be refused once banned,
 * before any handshake is exchanged, while an honest peer on the same
 * address (127.0.0.1, another port) keeps serving us.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { HashPool } from '../../src/core/hashing/pool.ts';
import type { Metainfo } from '../../src/core/metainfo/types.ts';
import { TorrentSession } from '../../src/core/session/torrent-session.ts';
import { WireDecoder } from '../../src/core/wire/decoder.ts';
import { encodeHandshake } from '../../src/core/wire/handshake.ts';
import { encodeMessage, encodePieceHeader } from '../../src/core/wire/messages.ts';
import { metainfoOf } from '../helpers/metainfo.ts';
import { FakePeer, seeder } from './fake-peer.ts';

const PIECE = 32 * 1024;
let root: string;
let meta: Metainfo;
let data: Buffer;
let pool: HashPool;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'shoal-bans-'));
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

/**
 * One attacking connection to `port`: a fresh peer id, then have-all and
 * junk for every request. Resolves when it closes, saying whether the engine
 * ever answered its handshake.
 */
function attack(port: number): Promise<{ answered: boolean }> {
  return new Promise((resolve) => {
    let answered = false;
    const socket = net.connect(port, '127.0.0.1', () => {
      const reserved = new Uint8Array(8);
      reserved[7] |= 0x04; // fast extension
      socket.write(
        encodeHandshake({ reserved, infoHash: meta.infoHash!, peerId: randomBytes(20) }),
      );
    });
    cleanups.push(() => void socket.destroy());
    let handshake = Buffer.alloc(0);
    let decoder: WireDecoder | null = null;
    socket.on('data', (chunk: Buffer) => {
      answered = true;
      if (!decoder) {
        handshake = Buffer.concat([handshake, chunk]);
        if (handshake.length < 68) return;
        decoder = new WireDecoder({ maxBitfieldLength: 1 << 20 });
        socket.write(encodeMessage({ type: 'have-all' }));
        socket.write(encodeMessage({ type: 'unchoke' }));
        chunk = handshake.subarray(68);
      }
      decoder.push(chunk);
      try {
        for (let m = decoder.next(); m; m = decoder.next()) {
          if (m.type !== 'request') continue;
          socket.write(encodePieceHeader(m.index, m.begin, m.length));
          socket.write(Buffer.alloc(m.length, 0x77));
        }
      } catch {
        socket.destroy();
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve({ answered }));
  });
}

describe('bans', () => {
  it('an incoming attacker is refused when it reconnects with a new port and peer id; an honest peer at the same address is not', async () => {
    const honest = await FakePeer.start(meta.infoHash!, seeder(data, PIECE));
    cleanups.push(() => honest.stop());
    const out = mkdtempSync(join(root, 'out-'));
    const session = new TorrentSession({
      meta,
      outDir: out,
      hashPool: pool,
      port: 0,
      stallTimeoutMs: 30_000,
    });
    const warnings: string[] = [];
    session.on('warning', (message) => warnings.push(message));
    const comebacks: { answered: boolean }[] = [];
    session.once('listening', (port) => {
      void (async () => {
        // First visit: it gets in, sends junk, and is banned for it.
        const first = await attack(port);
        expect(first.answered).toBe(true);
        // Then it comes back, five times, each from a new source port with a new peer id.
        for (let i = 0; i < 5; i++) comebacks.push(await attack(port));
        session.addPeers([{ host: '127.0.0.1', port: honest.port }], 'test');
      })();
    });
    await session.run();
    expect(readFileSync(join(out, 'payload.bin')).equals(data)).toBe(true);
    expect(warnings.some((w) => w.startsWith('banned peer 127.0.0.1:'))).toBe(true);
    expect(comebacks).toHaveLength(5);
    // Refused before the handshake: not one byte came back to any of them.
    expect(comebacks.every((c) => !c.answered)).toBe(true);
  }, 60_000);
});
