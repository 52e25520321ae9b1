/**
 * shoal's MSE/PE layer against python3-libtorrent with encryption forced
 * (out_enc_policy and in_enc_policy forced, so libtorrent neither sends nor
 * accepts a plain BitTorrent handshake), before the layer is wired into the
 * engine: the test speaks the peer protocol itself, with shoal's wire codecs,
 * through the stream the MSE layer hands back.
 *
 * - shoal dials a libtorrent seeder: handshake (inside the MSE handshake's IA),
 *   bitfield, interested, unchoke, the blocks of a piece, checked against the
 *   file and the piece hash; the seeder reports the connection's encryption.
 * - a libtorrent downloader dials shoal's receiver: shoal answers its handshake
 *   with a full bitfield and serves every block asked for; libtorrent reports
 *   the connection's encryption, completes the download, and the file matches.
 * Each runs twice: allowed_enc_level rc4 against policy `require` (RC4), and
 * allowed_enc_level plaintext against `prefer` (MSE's plaintext mode).
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { parseTorrent } from '../../src/core/metainfo/index.ts';
import type { Metainfo } from '../../src/core/metainfo/types.ts';
import {
  SkeyIndex,
  secureIncoming,
  secureOutgoing,
  type EncryptionPolicy,
  type SecuredConnection,
} from '../../src/core/transport/mse/index.ts';
import {
  BitField,
  BLOCK_SIZE,
  decodeHandshake,
  encodeHandshake,
  encodeMessage,
  WireDecoder,
  type Handshake,
  type WireMessage,
} from '../../src/core/wire/index.ts';
import { spawnTracked, trackProcesses, type Proc } from '../helpers/cli.ts';
import { cleanupTempDirs, tempDir } from '../helpers/files.ts';
import { requirePeers, SYSTEM_PYTHON } from '../helpers/peers.ts';
import { createTorrent } from '../helpers/swarm.ts';

trackProcesses();
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });
cleanupTempDirs();

const helper = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '../helpers/libtorrent_enc_peer.py',
);
const PIECE_LENGTH = 32 * 1024;

const MODES: [level: 'rc4' | 'plaintext', policy: EncryptionPolicy, mode: 'rc4' | 'plaintext'][] = [
  ['rc4', 'require', 'rc4'],
  ['plaintext', 'prefer', 'plaintext'],
];

function startLibtorrent(
  mode: 'seed' | 'download',
  args: { torrent: string; save: string; level: string; peer?: string },
): Proc {
  const argv = [
    helper,
    mode,
    '--torrent',
    args.torrent,
    '--save',
    args.save,
    // Port 0 and the port libtorrent names (LISTENING): a port found free first could be
    // taken before it binds.
    '--port',
    '0',
    '--enc-level',
    args.level,
    '--timeout',
    '90',
  ];
  if (args.peer) argv.push('--peer', args.peer);
  return spawnTracked(`libtorrent ${mode} (${args.level})`, SYSTEM_PYTHON, argv, {
    timeoutMs: 100_000,
  });
}

/**
 * The peer protocol over a secured connection: the peer's handshake first,
 * then messages, decoded with shoal's codecs as they arrive.
 */
class PeerWire {
  readonly #connection: SecuredConnection;
  readonly #decoder = new WireDecoder();
  #head = Buffer.alloc(0);
  #handshake: Handshake | null = null;
  readonly #messages: WireMessage[] = [];
  #wake: (() => void) | null = null;
  #closed = false;

  constructor(connection: SecuredConnection) {
    this.#connection = connection;
    connection.stream.on('data', (chunk: Buffer) => this.#take(chunk));
    connection.stream.on('close', () => {
      this.#closed = true;
      this.#wake?.();
    });
    connection.stream.on('error', () => {});
    this.#take(connection.received);
    connection.stream.resume();
  }

  send(...messages: (Uint8Array | WireMessage)[]): void {
    for (const message of messages) {
      this.#connection.stream.write(
        message instanceof Uint8Array ? message : encodeMessage(message),
      );
    }
  }

  async handshake(): Promise<Handshake> {
    await this.#until(() => this.#handshake !== null);
    return this.#handshake!;
  }

  /** The next message of `type`, skipping others. */
  async next<T extends WireMessage['type']>(type: T): Promise<Extract<WireMessage, { type: T }>> {
    for (;;) {
      await this.#until(() => this.#messages.length > 0);
      const message = this.#messages.shift()!;
      if (message.type === type) return message as Extract<WireMessage, { type: T }>;
    }
  }

  destroy(): void {
    this.#connection.stream.destroy();
  }

  async #until(ready: () => boolean): Promise<void> {
    while (!ready()) {
      if (this.#closed) throw new Error('the peer closed the connection');
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  #take(chunk: Buffer): void {
    if (chunk.length === 0) return;
    let rest: Uint8Array = chunk;
    if (this.#handshake === null) {
      this.#head = Buffer.concat([this.#head, chunk]);
      const decoded = decodeHandshake(this.#head);
      if (decoded.status === 'invalid') throw new Error(`bad handshake: ${decoded.reason}`);
      if (decoded.status === 'need-more') return;
      this.#handshake = decoded.handshake;
      rest = decoded.rest;
    }
    this.#decoder.push(rest);
    for (const message of this.#decoder) {
      // Piece blocks are views into the pushed chunk: keep copies.
      this.#messages.push(
        message.type === 'piece' ? { ...message, block: Buffer.from(message.block) } : message,
      );
    }
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
}

describe('MSE/PE with python3-libtorrent, encryption forced', () => {
  requirePeers('libtorrent');
  let work: string;
  let data: Buffer;
  let torrent: string;
  let meta: Metainfo;
  let infoHash: Buffer;

  beforeAll(async () => {
    work = tempDir('shoal-mse-libtorrent-');
    // Not a whole number of pieces: the last piece is short.
    data = randomBytes(6 * PIECE_LENGTH + 12_345);
    await writeFile(path.join(work, 'payload.bin'), data);
    ({ torrent } = await createTorrent(
      path.join(work, 'payload.bin'),
      path.join(work, 'payload.torrent'),
      ['--piece-length', '32KiB'],
      { cwd: work },
    ));
    meta = parseTorrent(await readFile(torrent));
    infoHash = Buffer.from(meta.infoHash!);
  });

  const ourHandshake = () =>
    encodeHandshake({ reserved: new Uint8Array(8), infoHash, peerId: randomBytes(20) });

  it.each(MODES)(
    'shoal dials a libtorrent seeder (allowed_enc_level %s) with policy %s: %s, and gets a verified piece',
    async (level, policy, mode) => {
      const seeder = startLibtorrent('seed', { torrent, save: work, level });
      const port = Number((await seeder.waitFor(/LISTENING (\d+)/, 30_000, 'stdout'))[1]);
      await seeder.waitFor(/SEEDING/, 30_000, 'stdout');

      const socket = net.connect(port, '127.0.0.1');
      await once(socket, 'connect');
      const connection = await secureOutgoing(socket, {
        policy,
        infoHash,
        initialPayload: ourHandshake(),
        timeoutMs: 30_000,
      });
      expect(connection.mode).toBe(mode);
      const wire = new PeerWire(connection);
      expect(Buffer.from((await wire.handshake()).infoHash)).toEqual(infoHash);

      const have = await wire.next('bitfield');
      const bits = BitField.fromBytes(have.bytes, meta.pieceCount);
      expect(bits.count()).toBe(meta.pieceCount);

      wire.send({ type: 'interested' });
      await wire.next('unchoke');
      const index = 2;
      for (let begin = 0; begin < PIECE_LENGTH; begin += BLOCK_SIZE) {
        wire.send({ type: 'request', index, begin, length: BLOCK_SIZE });
      }
      const piece = Buffer.alloc(PIECE_LENGTH);
      for (let got = 0; got < PIECE_LENGTH;) {
        const block = await wire.next('piece');
        expect(block.index).toBe(index);
        piece.set(block.block, block.begin);
        got += block.block.length;
      }
      expect(piece).toEqual(data.subarray(index * PIECE_LENGTH, (index + 1) * PIECE_LENGTH));
      const expectedHash = Buffer.from(meta.pieces!.subarray(index * 20, index * 20 + 20));
      expect(createHash('sha1').update(piece).digest()).toEqual(expectedHash);

      // libtorrent's own view of the connection.
      const flag = mode === 'rc4' ? 'rc4=1 plaintext=0' : 'rc4=0 plaintext=1';
      await seeder.waitFor(new RegExp(`PEER 127\\.0\\.0\\.1:\\d+ ${flag}`), 20_000, 'stdout');
      wire.destroy();
    },
  );

  it.each(MODES)(
    'a libtorrent downloader (allowed_enc_level %s) dials shoal with policy %s: %s, and downloads everything',
    async (level, policy, mode) => {
      const skeys = new SkeyIndex();
      for (let i = 0; i < 100; i++) skeys.add(randomBytes(20)); // other torrents "running"
      skeys.add(infoHash);
      const server = net.createServer();
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const serverPort = (server.address() as net.AddressInfo).port;
      const incoming = once(server, 'connection') as Promise<[net.Socket]>;

      const save = tempDir('shoal-mse-lt-download-');
      const downloader = startLibtorrent('download', {
        torrent,
        save,
        level,
        peer: `127.0.0.1:${serverPort}`,
      });
      try {
        const [socket] = await incoming;
        const connection = await secureIncoming(socket, {
          policy,
          lookup: skeys.lookup,
          timeoutMs: 30_000,
        });
        expect(connection.mode).toBe(mode);
        expect(Buffer.from(connection.skey!)).toEqual(infoHash);
        const wire = new PeerWire(connection);
        expect(Buffer.from((await wire.handshake()).infoHash)).toEqual(infoHash);

        const all = new BitField(meta.pieceCount);
        for (let i = 0; i < meta.pieceCount; i++) all.set(i);
        wire.send(ourHandshake(), { type: 'bitfield', bytes: all.toBytes() }, { type: 'unchoke' });
        const flag = mode === 'rc4' ? 'rc4=1 plaintext=0' : 'rc4=0 plaintext=1';
        await downloader.waitFor(
          new RegExp(`PEER 127\\.0\\.0\\.1:${serverPort} ${flag} pieces=${meta.pieceCount}`),
          30_000,
          'stdout',
        );

        // Serve every request until libtorrent has it all and hangs up.
        const serving = (async () => {
          for (;;) {
            const { index, begin, length } = await wire.next('request');
            const at = index * PIECE_LENGTH + begin;
            wire.send({ type: 'piece', index, begin, block: data.subarray(at, at + length) });
          }
        })().catch(() => {});
        await downloader.waitFor(/SEEDING/, 60_000, 'stdout');
        const result = await downloader.wait(30_000);
        expect(result.code, downloader.describe()).toBe(0);
        expect((await readFile(path.join(save, 'payload.bin'))).equals(data)).toBe(true);
        wire.destroy();
        await serving;
      } finally {
        server.close();
      }
    },
  );
});
