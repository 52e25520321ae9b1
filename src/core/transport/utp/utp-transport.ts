/**
 * uTP behind the engine's transport seam (../transport.ts), the way tcp.ts
 * puts TCP there: a Transport that dials through a UtpSocket, and a listener
 * whose connections become incoming streams. The engine never learns that
 * the bytes travel over UDP.
 */
import type { Duplex } from 'node:stream';
import { NetworkError } from '../../errors.ts';
import type { PeerAddress } from '../../net/peer-address.ts';
import type { DialOptions, IncomingStream, Listener, Transport } from '../transport.ts';
import type { UtpOptions } from './options.ts';
import { UtpSocket } from './socket.ts';

/** Dials uTP connections from `socket` (one socket serves every dial and the listener). */
export function utpTransport(socket: UtpSocket): Transport {
  return {
    name: 'utp',
    async dial(address: PeerAddress, options: DialOptions): Promise<Duplex> {
      const connection = await socket.connect(address.host, address.port, {
        timeoutMs: options.timeoutMs,
      });
      if (options.initialPayload) connection.write(options.initialPayload);
      connection.on('data', options.onData);
      return connection;
    },
  };
}

/** A listener that also hands out its socket, so the same port dials out (as libtorrent does). */
export interface UtpListener extends Listener {
  readonly socket: UtpSocket;
}

/**
 * Listens for uTP on UDP `port` (0: any free port) of `host` (default: both
 * stacks, '::', or '0.0.0.0' where IPv6 is unavailable); each accepted
 * connection goes to `onStream`. Same shape as listenTcp, so the client can
 * take either.
 */
export async function listenUtp(
  port: number,
  onStream: (incoming: IncomingStream) => void,
  onError: (error: Error) => void,
  options: { host?: string } & Partial<UtpOptions> = {},
): Promise<UtpListener> {
  const socket = await bindWithFallback(port, options);
  socket.on('connection', (connection) => {
    onStream({
      stream: connection,
      address: { host: connection.remoteAddress, port: connection.remotePort },
    });
  });
  socket.on('error', onError);
  return { port: socket.port, socket, close: () => socket.close() };
}

async function bindWithFallback(
  port: number,
  options: { host?: string } & Partial<UtpOptions>,
): Promise<UtpSocket> {
  const hosts = options.host ? [options.host] : ['::', '0.0.0.0'];
  let lastError: NodeJS.ErrnoException | undefined;
  for (const host of hosts) {
    try {
      return await UtpSocket.listen({ ...options, host, port });
    } catch (error) {
      lastError = error as NodeJS.ErrnoException;
      if (lastError.code === 'EADDRINUSE') break;
    }
  }
  throw new NetworkError(
    lastError?.code === 'EADDRINUSE'
      ? `UDP port ${port} is already in use for uTP (try --port 0)`
      : `cannot listen for uTP on UDP port ${port}: ${lastError?.message ?? 'unknown error'}`,
  );
}
