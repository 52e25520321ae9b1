/**
 * Real uTP connections over real UDP sockets on loopback: several MiB each
 * way with SHA-1-identical data, on IPv4 and IPv6, with backpressure on both
 * sides, and the ways a connection ends (FIN, RESET, close).
 */
import { createHash, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { UtpSocket } from '../../../../src/core/transport/utp/socket.ts';
import type { UtpConnection } from '../../../../src/core/transport/utp/connection.ts';

const sockets: UtpSocket[] = [];

afterEach(async () => {
  await Promise.all(sockets.splice(0).map((socket) => socket.close()));
});

async function pair(host = '127.0.0.1'): Promise<{ client: UtpConnection; server: UtpConnection }> {
  const listener = await UtpSocket.listen({ host });
  const dialer = await UtpSocket.listen({ host });
  sockets.push(listener, dialer);
  const accepted = once(listener, 'connection') as Promise<[UtpConnection]>;
  const client = await dialer.connect(host, listener.port);
  // The listener sees the connection once the dialer's first packet follows its SYN.
  client.write(Buffer.from('hello'));
  const [server] = await accepted;
  const first = await readExactly(server, 5);
  expect(first.toString()).toBe('hello');
  return { client, server };
}

/** Reads exactly n bytes (bounded by the test timeout). */
async function readExactly(stream: Duplex, n: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let have = 0;
  while (have < n) {
    const chunk = stream.read(Math.min(n - have, stream.readableLength || 1)) as Buffer | null;
    if (chunk) {
      chunks.push(chunk);
      have += chunk.length;
    } else {
      await once(stream, 'readable');
    }
  }
  return Buffer.concat(chunks);
}

/** Reads to the end; resolves with the SHA-1 and length of everything read. */
function digestToEnd(stream: Duplex): Promise<{ sha1: string; length: number }> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha1');
    let length = 0;
    stream.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      length += chunk.length;
    });
    stream.once('end', () => resolve({ sha1: hash.digest('hex'), length }));
    stream.once('error', reject);
  });
}

/** Writes `data` in uneven chunks honouring backpressure, then ends. */
async function writeAll(stream: Duplex, data: Buffer): Promise<void> {
  let at = 0;
  let size = 1;
  while (at < data.length) {
    size = (size * 7 + 13) % 70_000 || 1;
    const chunk = data.subarray(at, at + size);
    at += chunk.length;
    if (!stream.write(chunk)) await once(stream, 'drain');
  }
  stream.end();
}

/** Resolves once the stream has closed (now or already). */
function closed(stream: Duplex): Promise<unknown> {
  return stream.closed ? Promise.resolve() : once(stream, 'close');
}

function sha1(data: Buffer): string {
  return createHash('sha1').update(data).digest('hex');
}

describe('uTP over loopback', () => {
  it('moves 4 MiB each way at once with identical bytes (IPv4)', async () => {
    const { client, server } = await pair();
    const up = randomBytes(4 * 1024 * 1024);
    const down = randomBytes(4 * 1024 * 1024);
    const [atServer, atClient] = await Promise.all([
      digestToEnd(server),
      digestToEnd(client),
      writeAll(client, up),
      writeAll(server, down),
    ]);
    expect(atServer).toEqual({ sha1: sha1(up), length: up.length });
    expect(atClient).toEqual({ sha1: sha1(down), length: down.length });
  }, 120_000);

  it('moves 2 MiB over IPv6 (::1)', async () => {
    const { client, server } = await pair('::1');
    expect(client.remoteFamily).toBe('IPv6');
    const data = randomBytes(2 * 1024 * 1024);
    const [received] = await Promise.all([digestToEnd(server), writeAll(client, data)]);
    expect(received).toEqual({ sha1: sha1(data), length: data.length });
  }, 120_000);

  it('end() sends a FIN: the peer reads to the end, answers with its FIN, and both close cleanly', async () => {
    const { client, server } = await pair();
    const ended = once(server, 'end');
    server.resume();
    const finished = once(client, 'finish');
    // The peer's FIN ends our writable side too (no half-close, as a TCP socket by default):
    // what the server wrote before it still arrives, then the client reads to the end.
    const clientEnded = once(client, 'end');
    const fromServer: Buffer[] = [];
    client.on('data', (chunk: Buffer) => fromServer.push(chunk));
    server.write('and bye');
    client.end('bye');
    await ended;
    await finished;
    await clientEnded;
    expect(Buffer.concat(fromServer).toString()).toBe('and bye');
    await Promise.all([closed(client), closed(server)]);
    expect(client.errored).toBeNull();
    expect(server.errored).toBeNull();
  }, 60_000);

  it('destroy() sends a RESET: the peer fails with ECONNRESET', async () => {
    const { client, server } = await pair();
    const failed = once(server, 'error') as Promise<[Error & { code?: string }]>;
    client.destroy();
    const [error] = await failed;
    expect(error.code).toBe('ECONNRESET');
  }, 60_000);

  it('a reader that stops makes the writer stop: the receive window bounds what is buffered', async () => {
    const receiveWindow = 256 * 1024;
    const listener = await UtpSocket.listen({ receiveWindow });
    const dialer = await UtpSocket.listen({ sendQueueBytes: 64 * 1024 });
    sockets.push(listener, dialer);
    const accepted = once(listener, 'connection') as Promise<[UtpConnection]>;
    const client = await dialer.connect('127.0.0.1', listener.port);
    const data = randomBytes(4 * 1024 * 1024);
    let written = 0;
    const writer = (async () => {
      for (let at = 0; at < data.length; at += 32 * 1024) {
        written = at;
        if (!client.write(data.subarray(at, at + 32 * 1024))) await once(client, 'drain');
      }
      client.end();
    })();
    const [server] = await accepted;
    // Nobody reads the server side: wait until the writer is blocked, then look.
    let lastWritten = -1;
    while (written !== lastWritten) {
      lastWritten = written;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    expect(written).toBeLessThan(data.length);
    expect(server.readableLength).toBeLessThanOrEqual(receiveWindow + 1400);
    // Reading again lets everything through.
    const [received] = await Promise.all([digestToEnd(server), writer]);
    expect(received).toEqual({ sha1: sha1(data), length: data.length });
  }, 120_000);

  it('shares one UDP socket with the DHT: uTP datagrams to uTP, bencoded ones to their owner', async () => {
    const udp = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', () => resolve()));
    const shared = new UtpSocket(udp);
    const forDht: string[] = [];
    udp.on('message', (message, rinfo) => {
      if (!shared.handleDatagram(message, rinfo)) forDht.push(message.toString());
    });
    sockets.push(shared);
    const dialer = await UtpSocket.listen();
    sockets.push(dialer);
    const accepted = once(shared, 'connection') as Promise<[UtpConnection]>;
    const client = await dialer.connect('127.0.0.1', udp.address().port);
    client.write('over uTP');
    const ping = 'd1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe';
    const dhtPeer = dgram.createSocket('udp4');
    dhtPeer.send(ping, udp.address().port, '127.0.0.1');
    const [server] = await accepted;
    const [chunk] = (await once(server, 'data')) as [Buffer];
    expect(chunk.toString()).toBe('over uTP');
    while (forDht.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(forDht).toEqual([ping]);
    dhtPeer.close();
    await shared.close();
    // The socket belongs to its owner: closing uTP leaves it open.
    udp.close();
  }, 60_000);
});
