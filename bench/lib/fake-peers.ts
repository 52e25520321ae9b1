/**
 * Many lightweight BitTorrent peers in one process, speaking shoal's own
 * wire codec (src/core/wire), for the scale benchmarks. The torrent's data
 * is all zeros (see zeroTorrent), so a seeder answers every request with a
 * block of zeros and never touches a disk.
 *
 *   node bench/lib/fake-peers.ts seeders COUNT TORRENT
 *     listens on COUNT ports of 127.0.0.1 as seeders (bitfield all set,
 *     unchoked at once); prints `{"ports":[...]}` on stdout, then serves
 *     until stdin closes or SIGTERM.
 *   node bench/lib/fake-peers.ts leechers COUNT TORRENT PORT SECONDS
 *     connects COUNT leechers to 127.0.0.1:PORT; each asks for blocks (16 in
 *     flight) from a random piece on and throws them away; after SECONDS
 *     prints `{"bytes":N,"unchoked":N,"connected":N,...}` and exits.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { parseTorrent } from '../../src/core/metainfo/index.ts';
import {
  BLOCK_SIZE,
  HANDSHAKE_LENGTH,
  WireDecoder,
  decodeHandshake,
  encodeHandshake,
  encodeMessage,
  encodePieceHeader,
  encodeRequests,
  generatePeerId,
  makeReserved,
  type BlockRef,
  type WireMessage,
} from '../../src/core/wire/index.ts';

interface Torrent {
  infoHash: Uint8Array;
  pieceLength: number;
  pieceCount: number;
  totalSize: number;
}

function loadTorrent(file: string): Torrent {
  const meta = parseTorrent(readFileSync(file));
  return {
    infoHash: meta.infoHash!,
    pieceLength: meta.pieceLength,
    pieceCount: meta.pieceCount,
    totalSize: meta.totalSize,
  };
}

function pieceSize(torrent: Torrent, index: number): number {
  return Math.min(torrent.pieceLength, torrent.totalSize - index * torrent.pieceLength);
}

function allPieces(count: number): Uint8Array {
  const bytes = new Uint8Array(Math.ceil(count / 8)).fill(0xff);
  // Spare bits at the end must be zero (BEP 3; shoal drops a peer that sets them).
  if (count % 8) bytes[bytes.length - 1] = (0xff << (8 - (count % 8))) & 0xff;
  return bytes;
}

/**
 * Reads the peer's handshake, then hands every message to `onMessage`.
 * `onHandshake` runs once the peer's handshake has arrived.
 */
function speak(
  socket: net.Socket,
  onHandshake: () => void,
  onMessage: (message: WireMessage) => void,
): void {
  const decoder = new WireDecoder({ maxBitfieldLength: 1 << 20 });
  let pending: Buffer | null = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    if (pending !== null) {
      pending = Buffer.concat([pending, chunk]);
      if (pending.length < HANDSHAKE_LENGTH) return;
      const result = decodeHandshake(pending);
      if (result.status !== 'ok') {
        socket.destroy();
        return;
      }
      pending = null;
      onHandshake();
      chunk = Buffer.from(result.rest);
    }
    decoder.push(chunk);
    try {
      for (let message = decoder.next(); message; message = decoder.next()) onMessage(message);
    } catch {
      socket.destroy();
    }
  });
  socket.on('error', () => socket.destroy());
}

function handshake(torrent: Torrent): Uint8Array {
  return encodeHandshake({
    reserved: makeReserved({}),
    infoHash: torrent.infoHash,
    peerId: generatePeerId('-FK0001-'),
  });
}

async function seeders(count: number, torrent: Torrent): Promise<void> {
  const zeros = new Uint8Array(BLOCK_SIZE);
  const bitfield = encodeMessage({ type: 'bitfield', bytes: allPieces(torrent.pieceCount) });
  const unchoke = encodeMessage({ type: 'unchoke' });
  const servers: net.Server[] = [];
  const ports: number[] = [];
  for (let i = 0; i < count; i++) {
    const server = net.createServer((socket) => {
      socket.setNoDelay(true);
      speak(
        socket,
        () => {
          socket.write(handshake(torrent));
          socket.write(bitfield);
          socket.write(unchoke);
        },
        (message) => {
          if (message.type !== 'request') return;
          if (message.length > BLOCK_SIZE || message.index >= torrent.pieceCount) return;
          socket.write(encodePieceHeader(message.index, message.begin, message.length));
          socket.write(message.length === BLOCK_SIZE ? zeros : zeros.subarray(0, message.length));
        },
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    ports.push((server.address() as net.AddressInfo).port);
  }
  process.stdout.write(`${JSON.stringify({ ports })}\n`);
  await new Promise<void>((resolve) => {
    process.stdin.on('end', resolve).on('close', resolve).resume();
    process.on('SIGTERM', resolve);
  });
  for (const server of servers) server.close();
  process.exit(0);
}

async function leechers(
  count: number,
  torrent: Torrent,
  port: number,
  seconds: number,
): Promise<void> {
  const stats = { bytes: 0, connected: 0, unchoked: 0, closed: 0 };
  const interested = encodeMessage({ type: 'interested' });
  const sockets: net.Socket[] = [];
  for (let i = 0; i < count; i++) {
    const socket = net.connect(port, '127.0.0.1');
    sockets.push(socket);
    let next = Math.floor(Math.random() * torrent.pieceCount) * torrent.pieceLength;
    let inFlight = 0;
    let unchoked = false;
    const ask = () => {
      const blocks: BlockRef[] = [];
      while (unchoked && inFlight + blocks.length < 16) {
        if (next >= torrent.totalSize) next = 0;
        const index = Math.floor(next / torrent.pieceLength);
        const begin = next - index * torrent.pieceLength;
        const length = Math.min(BLOCK_SIZE, pieceSize(torrent, index) - begin);
        blocks.push({ index, begin, length });
        next += length;
      }
      if (blocks.length > 0) {
        inFlight += blocks.length;
        socket.write(encodeRequests(blocks));
      }
    };
    socket.on('connect', () => {
      stats.connected++;
      socket.write(handshake(torrent));
    });
    socket.on('close', () => stats.closed++);
    speak(
      socket,
      () => socket.write(interested),
      (message) => {
        if (message.type === 'unchoke') {
          if (!unchoked) stats.unchoked++;
          unchoked = true;
          inFlight = 0;
          ask();
        } else if (message.type === 'choke') {
          unchoked = false;
        } else if (message.type === 'piece') {
          stats.bytes += message.block.length;
          inFlight = Math.max(0, inFlight - 1);
          ask();
        } else if (message.type === 'reject') {
          inFlight = Math.max(0, inFlight - 1);
        }
      },
    );
  }
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  process.stdout.write(`${JSON.stringify({ ...stats, seconds })}\n`);
  for (const socket of sockets) socket.destroy();
  process.exit(0);
}

const [mode, countText, torrentFile, ...rest] = process.argv.slice(2);
const count = Number(countText);
if (!torrentFile || !(count > 0)) {
  process.stderr.write('usage: fake-peers.ts seeders|leechers COUNT TORRENT [PORT SECONDS]\n');
  process.exit(2);
}
const torrent = loadTorrent(torrentFile);
if (mode === 'seeders') await seeders(count, torrent);
else if (mode === 'leechers') await leechers(count, torrent, Number(rest[0]), Number(rest[1]));
else {
  process.stderr.write(`unknown mode ${mode}\n`);
  process.exit(2);
}
