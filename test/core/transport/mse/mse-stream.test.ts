/**
 * The RC4 stream over real loopback TCP sockets: bulk data both ways at once
 * arrives intact, back-pressure reaches the writer when the reader stops, and
 * ending or destroying one side reaches the other.
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import {
  MseStream,
  SkeyIndex,
  secureIncoming,
  secureOutgoing,
  type SecuredConnection,
} from '../../../../src/core/transport/mse/index.ts';

const infoHash = randomBytes(20);
const servers: net.Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

async function connectedPair(): Promise<{
  dialer: SecuredConnection;
  acceptor: SecuredConnection;
}> {
  const server = net.createServer();
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[net.Socket]>;
  const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  await once(socket, 'connect');
  const skeys = new SkeyIndex();
  skeys.add(infoHash);
  const [incoming] = await accepted;
  const [dialer, acceptor] = await Promise.all([
    secureOutgoing(socket, { policy: 'require', infoHash, timeoutMs: 30_000 }),
    secureIncoming(incoming, { policy: 'require', lookup: skeys.lookup, timeoutMs: 30_000 }),
  ]);
  expect(dialer.stream).toBeInstanceOf(MseStream);
  expect(acceptor.stream).toBeInstanceOf(MseStream);
  return { dialer, acceptor };
}

/** SHA-1 and length of everything the stream delivers until it ends. */
function digestUntilEnd(connection: SecuredConnection): Promise<{ sha1: string; length: number }> {
  return new Promise((resolve, reject) => {
    const sha1 = createHash('sha1').update(connection.received);
    let length = connection.received.length;
    connection.stream.on('data', (chunk: Buffer) => {
      sha1.update(chunk);
      length += chunk.length;
    });
    let ended = false;
    connection.stream.on('end', () => {
      ended = true;
      resolve({ sha1: sha1.digest('hex'), length });
    });
    connection.stream.on('close', () => {
      if (!ended) reject(new Error(`closed without an end after ${length} bytes`));
    });
    connection.stream.on('error', reject);
    if (connection.stream.destroyed) reject(new Error('stream destroyed before it was read'));
    connection.stream.resume();
  });
}

async function writeAll(stream: Duplex, data: Buffer, chunkSize: number): Promise<void> {
  for (let at = 0; at < data.length; at += chunkSize) {
    if (!stream.write(data.subarray(at, at + chunkSize))) await once(stream, 'drain');
  }
  stream.end();
}

const sha1 = (data: Buffer) => createHash('sha1').update(data).digest('hex');

describe('MseStream over TCP', () => {
  it('carries 16 MiB each way at once, intact, and leaves the caller its buffers', async () => {
    const { dialer, acceptor } = await connectedPair();
    const up = randomBytes(16 << 20);
    const down = randomBytes(16 << 20);
    const upCopy = Buffer.from(up);
    const received = Promise.all([digestUntilEnd(acceptor), digestUntilEnd(dialer)]);
    await Promise.all([
      writeAll(dialer.stream, up, 16 * 1024 + 13),
      writeAll(acceptor.stream, down, 100_000),
    ]);
    const [atAcceptor, atDialer] = await received;
    expect(atAcceptor).toEqual({ sha1: sha1(up), length: up.length });
    expect(atDialer).toEqual({ sha1: sha1(down), length: down.length });
    // Enciphering never overwrote what the caller wrote (a cached piece block, say).
    expect(up.equals(upCopy)).toBe(true);
  });

  it('corked writes go out as one and arrive in order', async () => {
    const { dialer, acceptor } = await connectedPair();
    const parts = Array.from({ length: 50 }, (_, i) => randomBytes(1 + i * 37));
    const received = digestUntilEnd(acceptor);
    dialer.stream.cork();
    for (const part of parts) dialer.stream.write(part);
    dialer.stream.uncork();
    dialer.stream.end();
    const all = Buffer.concat(parts);
    expect(await received).toEqual({ sha1: sha1(all), length: all.length });
  });

  it('makes the writer wait when the reader stops reading', async () => {
    const { dialer } = await connectedPair();
    // The acceptor never reads: the kernel buffers fill, then ours must push back.
    const chunk = randomBytes(64 * 1024);
    let accepted = 0;
    while (dialer.stream.write(chunk)) {
      accepted += chunk.length;
      if (accepted > 256 << 20) break;
      // Let the socket flush what it can, as a real writer's event loop would.
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(accepted).toBeLessThan(256 << 20);
    dialer.stream.destroy();
  });

  it('bytes that arrived before the peer closed are still delivered after the close', async () => {
    const { dialer, acceptor } = await connectedPair();
    const last = randomBytes(1000);
    acceptor.stream.end(last);
    // The dialer's reader is paused (as the engine's read budget pauses it) while
    // the socket underneath reads the bytes, the end, and closes.
    const socket = (dialer.stream as MseStream).socket;
    const socketClosed = once(socket, 'close');
    dialer.stream.resume();
    dialer.stream.pause();
    await socketClosed;
    expect(await digestUntilEnd(dialer)).toEqual({ sha1: sha1(last), length: last.length });
  });

  it('destroying one side closes the other', async () => {
    const { dialer, acceptor } = await connectedPair();
    const closed = once(acceptor.stream, 'close');
    acceptor.stream.resume();
    dialer.stream.destroy();
    await closed;
    expect(acceptor.stream.destroyed).toBe(true);
  });
});
