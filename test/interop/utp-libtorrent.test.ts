/**
 * uTP interop with python3-libtorrent, with TCP turned off on its side
 * (test/helpers/libtorrent_utp_peer.py): every byte below crossed libtorrent's
 * own uTP stack.
 *
 * - shoal's UtpSocket dials libtorrent, sends a BitTorrent handshake and gets
 *   libtorrent's handshake and bitfield back, then requests a piece over the
 *   wire codec and checks its bytes against the file;
 * - libtorrent dials shoal's listening UtpSocket (connect_peer); shoal reads
 *   its handshake, answers, and libtorrent reports the peer connected.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { UtpSocket } from '../../src/core/transport/utp/socket.ts';
import type { UtpConnection } from '../../src/core/transport/utp/connection.ts';
import {
  decodeHandshake,
  encodeHandshake,
  encodeMessage,
  encodePieceHeader,
  WireDecoder,
  type Handshake,
  type WireMessage,
} from '../../src/core/wire/index.ts';
import { spawnTracked, trackProcesses, type Proc } from '../helpers/cli.ts';
import { cleanupTempDirs, tempDir } from '../helpers/files.ts';
import { requirePeers, SYSTEM_PYTHON } from '../helpers/peers.ts';

trackProcesses();
cleanupTempDirs();
vi.setConfig({ testTimeout: 90_000, hookTimeout: 60_000 });

const PIECE = 16 * 1024;
const helper = path.join(import.meta.dirname, '..', 'helpers', 'libtorrent_utp_peer.py');

const sockets: UtpSocket[] = [];
const procs: Proc[] = [];
afterEach(async () => {
  for (const proc of procs.splice(0)) proc.kill('SIGKILL');
  await Promise.all(sockets.splice(0).map((socket) => socket.close()));
});

/** A file of random bytes (6½ pieces unless told), and a libtorrent uTP-only seeder of it. */
async function startSeeder(
  connect?: string,
  size = PIECE * 6 + PIECE / 2,
): Promise<{ data: Buffer; infoHash: Buffer; port: number; proc: Proc }> {
  const dir = tempDir('shoal-utp-lt-');
  const data = randomBytes(size);
  const file = path.join(dir, 'payload.bin');
  await writeFile(file, data);
  // Port 0 and the uTP port libtorrent names: a port found free first could be taken before it binds.
  const args = [helper, '--data', file, '--port', '0', '--timeout', '80'];
  if (connect) args.push('--connect', connect);
  const proc = spawnTracked('libtorrent utp seed', SYSTEM_PYTHON, args, { timeoutMs: 90_000 });
  procs.push(proc);
  const [, hex] = await proc.waitFor(/INFO_HASH ([0-9a-f]{40})/, 30_000, 'stdout');
  const [, port] = await proc.waitFor(/LISTENING (\d+)/, 30_000, 'stdout');
  await proc.waitFor(/SEEDING/, 30_000, 'stdout');
  return { data, infoHash: Buffer.from(hex!, 'hex'), port: Number(port), proc };
}

/** Reads a BitTorrent peer's stream: its handshake, then wire messages, one at a time. */
class PeerReader {
  #buffered = Buffer.alloc(0);
  handshake: Handshake | undefined;
  readonly #decoder = new WireDecoder();
  readonly #messages: WireMessage[] = [];
  readonly #waiters: (() => void)[] = [];

  constructor(stream: UtpConnection) {
    stream.on('data', (chunk: Buffer) => this.#onData(chunk));
  }

  #onData(chunk: Buffer): void {
    if (!this.handshake) {
      this.#buffered = Buffer.concat([this.#buffered, chunk]);
      const decoded = decodeHandshake(this.#buffered);
      if (decoded.status === 'invalid') throw new Error(decoded.reason);
      if (decoded.status === 'need-more') return;
      this.handshake = decoded.handshake;
      chunk = Buffer.from(decoded.rest);
    }
    this.#decoder.push(chunk);
    for (const message of this.#decoder) {
      // Blocks are views into the chunk: copy what is kept.
      this.#messages.push(
        message.type === 'piece' ? { ...message, block: Buffer.from(message.block) } : message,
      );
    }
    for (const wake of this.#waiters.splice(0)) wake();
  }

  async waitForHandshake(): Promise<Handshake> {
    while (!this.handshake) await new Promise<void>((resolve) => this.#waiters.push(resolve));
    return this.handshake;
  }

  /** The next message of one of `types` (others are skipped). */
  async next(...types: WireMessage['type'][]): Promise<WireMessage> {
    for (;;) {
      const index = this.#messages.findIndex((message) => types.includes(message.type));
      if (index >= 0) return this.#messages.splice(0, index + 1).at(-1)!;
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }
}

function ourHandshake(infoHash: Uint8Array): Uint8Array {
  return encodeHandshake({
    reserved: new Uint8Array(8),
    infoHash,
    peerId: Buffer.from('-SH0001-utpinteropxx'),
  });
}

describe('uTP with python3-libtorrent (its TCP turned off)', () => {
  requirePeers('libtorrent');

  it('shoal dials libtorrent over uTP: handshake, bitfield, and a piece with the right bytes', async () => {
    const seeder = await startSeeder();
    const socket = await UtpSocket.listen();
    sockets.push(socket);
    const connection = await socket.connect('127.0.0.1', seeder.port, { timeoutMs: 20_000 });
    const reader = new PeerReader(connection);
    connection.write(ourHandshake(seeder.infoHash));

    const handshake = await reader.waitForHandshake();
    expect(Buffer.from(handshake.infoHash).toString('hex')).toBe(seeder.infoHash.toString('hex'));
    const bitfield = await reader.next('bitfield', 'have-all');
    // 7 pieces, all present: 0b11111110 (the last bit is padding).
    if (bitfield.type !== 'bitfield') throw new Error(`expected a bitfield, got ${bitfield.type}`);
    expect(Buffer.from(bitfield.bytes).toString('hex')).toBe('fe');

    connection.write(encodeMessage({ type: 'interested' }));
    await reader.next('unchoke');
    // The last, short piece: its length is the file's remainder.
    connection.write(encodeMessage({ type: 'request', index: 6, begin: 0, length: PIECE / 2 }));
    connection.write(encodeMessage({ type: 'request', index: 2, begin: 0, length: PIECE }));
    const pieces = [await reader.next('piece'), await reader.next('piece')];
    for (const piece of pieces) {
      if (piece.type !== 'piece') throw new Error('unreachable');
      const start = piece.index * PIECE;
      expect(
        Buffer.from(piece.block).equals(seeder.data.subarray(start, start + piece.block.length)),
      ).toBe(true);
    }
    expect(pieces.map((piece) => (piece.type === 'piece' ? piece.index : -1)).sort()).toEqual([
      2, 6,
    ]);
    connection.destroy();
  });

  it('libtorrent dials shoal over uTP: shoal reads its handshake, answers, and libtorrent sees the peer', async () => {
    const socket = await UtpSocket.listen();
    sockets.push(socket);
    const incoming = once(socket, 'connection') as Promise<[UtpConnection]>;
    const seeder = await startSeeder(`127.0.0.1:${socket.port}`);
    const [connection] = await incoming;
    expect(connection.remoteAddress).toBe('127.0.0.1');
    const reader = new PeerReader(connection);
    const handshake = await reader.waitForHandshake();
    expect(Buffer.from(handshake.infoHash).toString('hex')).toBe(seeder.infoHash.toString('hex'));
    expect(handshake.peerId.length).toBe(20);

    connection.write(ourHandshake(seeder.infoHash));
    await seeder.proc.waitFor(new RegExp(`PEER 127\\.0\\.0\\.1:${socket.port}`), 30_000, 'stdout');
    // And libtorrent talks on: its bitfield follows its handshake.
    expect((await reader.next('bitfield', 'have-all')).type).toMatch(/bitfield|have-all/);
    connection.destroy();
  });

  it('downloads 8 MiB from libtorrent over uTP, 64 requests in flight, byte for byte', async () => {
    const size = 8 * 1024 * 1024;
    const seeder = await startSeeder(undefined, size);
    const socket = await UtpSocket.listen();
    sockets.push(socket);
    const connection = await socket.connect('127.0.0.1', seeder.port, { timeoutMs: 20_000 });
    const reader = new PeerReader(connection);
    connection.write(ourHandshake(seeder.infoHash));
    await reader.waitForHandshake();
    connection.write(encodeMessage({ type: 'interested' }));
    await reader.next('unchoke');
    const pieces = size / PIECE;
    const received = Buffer.alloc(size);
    let requested = 0;
    const request = () => {
      connection.write(
        encodeMessage({ type: 'request', index: requested++, begin: 0, length: PIECE }),
      );
    };
    while (requested < Math.min(64, pieces)) request();
    for (let done = 0; done < pieces; done++) {
      const piece = await reader.next('piece');
      if (piece.type !== 'piece') throw new Error('unreachable');
      received.set(piece.block, piece.index * PIECE);
      if (requested < pieces) request();
    }
    expect(received.equals(seeder.data)).toBe(true);
    connection.destroy();
  });

  it('uploads 8 MiB to libtorrent over uTP: it dials shoal and downloads everything, byte for byte', async () => {
    const size = 8 * 1024 * 1024;
    const data = randomBytes(size);
    const dir = tempDir('shoal-utp-lt-up-');
    await mkdir(path.join(dir, 'source'));
    await mkdir(path.join(dir, 'dest'));
    await writeFile(path.join(dir, 'source', 'payload.bin'), data);
    const socket = await UtpSocket.listen();
    sockets.push(socket);
    // A minimal seeder: answer the handshake, claim every piece, unchoke, serve requests.
    socket.on('connection', (connection: UtpConnection) => {
      connection.on('error', () => {});
      void (async () => {
        const reader = new PeerReader(connection);
        const handshake = await reader.waitForHandshake();
        connection.write(ourHandshake(handshake.infoHash));
        const bitfield = Buffer.alloc(size / PIECE / 8, 0xff);
        connection.write(encodeMessage({ type: 'bitfield', bytes: bitfield }));
        connection.write(encodeMessage({ type: 'unchoke' }));
        while (!connection.destroyed) {
          const request = await reader.next('request');
          if (request.type !== 'request') continue;
          const start = request.index * PIECE + request.begin;
          connection.write(encodePieceHeader(request.index, request.begin, request.length));
          connection.write(data.subarray(start, start + request.length));
        }
      })();
    });
    const proc = spawnTracked(
      'libtorrent utp download',
      SYSTEM_PYTHON,
      [
        helper,
        // Any port: it dials; nothing dials it.
        ...['--data', path.join(dir, 'source', 'payload.bin'), '--port', '0'],
        ...['--connect', `127.0.0.1:${socket.port}`, '--download-to', path.join(dir, 'dest')],
        ...['--timeout', '80'],
      ],
      { timeoutMs: 90_000 },
    );
    procs.push(proc);
    await proc.waitFor(/COMPLETE/, 85_000, 'stdout');
    const downloaded = await readFile(path.join(dir, 'dest', 'payload.bin'));
    expect(downloaded.equals(data)).toBe(true);
  });
});
