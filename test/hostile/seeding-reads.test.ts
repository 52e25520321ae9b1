/**
 * Seeding against leechers that abuse it: one walks its 16 KiB requests
 * across many 4 MiB pieces (each request used to cost a whole-piece read),
 * sixteen others request a lot and never read their sockets (each block used
 * to pin a whole piece in memory). The bounds are checked through the
 * session's upload accounting; peak RSS is logged for the record.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { HashPool } from '../../src/core/hashing/pool.ts';
import type { Metainfo } from '../../src/core/metainfo/types.ts';
import { MAX_QUEUED_UPLOAD_BYTES, TorrentSession } from '../../src/core/session/torrent-session.ts';
import { READ_CHUNK } from '../../src/core/session/upload-reader.ts';
import { BLOCK_SIZE } from '../../src/core/swarm/piece-picker.ts';
import { WireDecoder } from '../../src/core/wire/decoder.ts';
import { encodeHandshake } from '../../src/core/wire/handshake.ts';
import { encodeMessage, encodeRequests, type WireMessage } from '../../src/core/wire/messages.ts';
import { metainfoOf } from '../helpers/metainfo.ts';

const PIECE = 4 * 1024 * 1024;
const PIECES = 12;
let root: string;
let meta: Metainfo;
let pool: HashPool;
const sockets: net.Socket[] = [];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'shoal-seeding-reads-'));
  writeFileSync(join(root, 'payload.bin'), randomBytes(PIECES * PIECE));
  pool = new HashPool({ threads: 1 });
  meta = await metainfoOf(join(root, 'payload.bin'), { version: 'v1', pieceLength: PIECE, pool });
}, 60_000);
afterAll(async () => {
  await pool.destroy();
  rmSync(root, { recursive: true, force: true });
});
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.destroy();
});

/** Until `check()` holds, polling every 50 ms; fails after `ms` with `what`. */
async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A leecher: handshakes, says it is interested, and hands every message to `onMessage`. */
function leecher(
  port: number,
  onMessage: (socket: net.Socket, message: WireMessage) => void,
): net.Socket {
  const socket = net.connect(port, '127.0.0.1', () => {
    socket.write(
      encodeHandshake({
        reserved: new Uint8Array(8),
        infoHash: meta.infoHash!,
        peerId: randomBytes(20),
      }),
    );
    socket.write(encodeMessage({ type: 'interested' }));
  });
  sockets.push(socket);
  socket.on('error', () => {});
  let handshake: Buffer | null = Buffer.alloc(0);
  const decoder = new WireDecoder({ maxBitfieldLength: 1 << 20, maxBlockLength: 128 * 1024 });
  socket.on('data', (chunk: Buffer) => {
    if (handshake) {
      handshake = Buffer.concat([handshake, chunk]);
      if (handshake.length < 68) return;
      chunk = handshake.subarray(68);
      handshake = null;
    }
    decoder.push(chunk);
    for (let m = decoder.next(); m; m = decoder.next()) onMessage(socket, m);
  });
  return socket;
}

describe('seeding to abusive leechers', () => {
  it('reads what is requested, bounds what each peer queues, and lets go when peers leave', async () => {
    const session = new TorrentSession({
      meta,
      outDir: root,
      hashPool: pool,
      port: 0,
      readOnly: true,
      seedForever: true,
    });
    const listening = new Promise<number>((resolve) => session.once('listening', resolve));
    const running = session.run();
    const port = await listening;
    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
    const rssBefore = process.memoryUsage().rss;
    try {
      // The walker: 240 requests, each in another piece and at another offset.
      const requests = Array.from({ length: 240 }, (_, i) => ({
        index: i % PIECES,
        begin: ((i * 37) % (PIECE / BLOCK_SIZE)) * BLOCK_SIZE,
        length: BLOCK_SIZE,
      }));
      let received = 0;
      leecher(port, (socket, message) => {
        if (message.type === 'unchoke') socket.write(encodeRequests(requests));
        if (message.type === 'piece') received++;
      });
      await until(() => received === requests.length, 60_000, 'the walker to get every block');
      const walked = session.uploadStats();
      // The walker's reads: at most one read-ahead chunk per 16 KiB request, never a piece.
      // (128 KiB read-ahead / 16 KiB requests = 8; whole 4 MiB pieces made it 256.)
      expect(READ_CHUNK).toBe(128 * 1024);
      expect(walked.diskBytesRead / walked.bytesRequested).toBeLessThanOrEqual(8);
      // The non-readers: each asks for 8 MiB and stops reading as soon as it is unchoked.
      let unchoked = 0;
      for (let p = 0; p < 16; p++) {
        leecher(port, (socket, message) => {
          if (message.type !== 'unchoke') return;
          unchoked++;
          socket.pause();
          socket.write(
            encodeRequests(
              Array.from({ length: 500 }, (_, b) => ({
                index: (p + Math.floor(b / 256)) % PIECES,
                begin: (b % 256) * BLOCK_SIZE,
                length: BLOCK_SIZE,
              })),
            ),
          );
        });
      }
      await until(() => unchoked === 16, 30_000, 'every non-reader to be unchoked');
      // Their sockets fill up; once serving them stops, what is queued stays put.
      await until(
        () => session.uploadStats().queuedBytes >= 16 * BLOCK_SIZE,
        30_000,
        'blocks to queue up for the non-readers',
      );
      const stats = session.uploadStats();
      console.log(
        `peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB (+${((peakRss - rssBefore) / 2 ** 20).toFixed(0)} MiB); ` +
          `walker: disk read ${(walked.diskBytesRead / 2 ** 20).toFixed(1)} MiB for ${(walked.bytesRequested / 2 ** 20).toFixed(1)} MiB requested; ` +
          `queued ${(stats.queuedBytes / 2 ** 10).toFixed(0)} KiB, most for one peer ${(stats.maxQueuedBytes / 2 ** 10).toFixed(0)} KiB`,
      );
      // No peer ever had more than the cap (plus the one block that crossed it) waiting.
      expect(stats.maxQueuedBytes).toBeLessThanOrEqual(MAX_QUEUED_UPLOAD_BYTES + 128 * 1024);
      // They leave: everything queued for them is let go.
      for (const socket of sockets.splice(0)) socket.destroy();
      await until(
        () => session.uploadStats().queuedBytes === 0,
        30_000,
        'queued bytes to be released',
      );
    } finally {
      clearInterval(sampler);
      await session.interrupt();
      await running.catch(() => {});
    }
  }, 120_000);
});
