/** uTP behind the engine's transport seam: dial, incoming streams with their address, port clashes. */
import dgram from 'node:dgram';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { NetworkError } from '../../../../src/core/errors.ts';
import type { IncomingStream } from '../../../../src/core/transport/transport.ts';
import {
  listenUtp,
  utpTransport,
  type UtpListener,
} from '../../../../src/core/transport/utp/utp-transport.ts';

const listeners: UtpListener[] = [];
afterEach(async () => {
  await Promise.all(listeners.splice(0).map((listener) => listener.close()));
});

describe('uTP transport', () => {
  it('dials a uTP listener: bytes reach onData and the incoming stream knows the dialer', async () => {
    const incoming: IncomingStream[] = [];
    const server = await listenUtp(
      0,
      (stream) => incoming.push(stream),
      () => {},
      { host: '127.0.0.1' },
    );
    const client = await listenUtp(
      0,
      () => {},
      () => {},
      { host: '127.0.0.1' },
    );
    listeners.push(server, client);
    const received: Buffer[] = [];
    const stream = await utpTransport(client.socket).dial(
      { host: '127.0.0.1', port: server.port },
      { timeoutMs: 10_000, onData: (chunk) => received.push(Buffer.from(chunk)) },
    );
    stream.write('from the dialer');
    while (incoming.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    const [accepted] = incoming;
    // The dial goes out from the listening port, as libtorrent's do.
    expect(accepted!.address).toEqual({ host: '127.0.0.1', port: client.port });
    accepted!.stream.write('from the listener');
    while (received.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(Buffer.concat(received).toString()).toBe('from the listener');
    const [chunk] = (await once(accepted!.stream, 'data')) as [Buffer];
    expect(chunk.toString()).toBe('from the dialer');
  }, 30_000);

  it('listens on both stacks by default: an IPv4 dialer shows with its IPv4 address', async () => {
    const incoming: IncomingStream[] = [];
    const server = await listenUtp(
      0,
      (stream) => incoming.push(stream),
      () => {},
    );
    const client = await listenUtp(
      0,
      () => {},
      () => {},
      { host: '127.0.0.1' },
    );
    listeners.push(server, client);
    const stream = await utpTransport(client.socket).dial(
      { host: '127.0.0.1', port: server.port },
      { timeoutMs: 10_000, onData: () => {} },
    );
    stream.write('x');
    while (incoming.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(incoming[0]!.address.host).toBe('127.0.0.1');
  }, 30_000);

  it('refuses a UDP port already taken, with a one-line NetworkError', async () => {
    const taken = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => taken.bind(0, '127.0.0.1', () => resolve()));
    const port = taken.address().port;
    try {
      const attempt = listenUtp(
        port,
        () => {},
        () => {},
        { host: '127.0.0.1' },
      );
      await expect(attempt).rejects.toThrow(NetworkError);
      await expect(attempt).rejects.toThrow(
        `UDP port ${port} is already in use for uTP (try --port 0)`,
      );
    } finally {
      taken.close();
    }
  });
});
