/**
 * TCP as a transport: dialing with one shared read buffer (routed-reads.ts),
 * and a listener whose sockets become incoming streams.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { NetworkError } from '../errors.ts';
import type { PeerAddress } from '../net/peer-address.ts';
import { RoutedReads } from './routed-reads.ts';
import type { DialOptions, IncomingStream, Listener, Transport } from './transport.ts';

export const tcpTransport: Transport = {
  name: 'tcp',
  async dial(address: PeerAddress, options: DialOptions): Promise<Duplex> {
    const { socket, reads } = await connectTcpRouted(address, options.timeoutMs);
    if (options.initialPayload) socket.write(options.initialPayload);
    reads.sendTo(options.onData);
    socket.resume();
    return socket;
  },
};

/**
 * Connects to `address`, reading into the shared read buffer (routed-reads.ts):
 * the socket emits no 'data'; its reads go where `reads.sendTo` says.
 */
export async function connectTcpRouted(
  address: PeerAddress,
  timeoutMs: number,
): Promise<{ socket: net.Socket; reads: RoutedReads }> {
  const reads = new RoutedReads();
  return { socket: await connectTcp(address, timeoutMs, reads.onread), reads };
}

/**
 * Connects to `address`; resolves with the socket once connected. Without
 * `onread` the socket reads the usual way, through 'data' events (what a layer
 * that reads the stream itself, such as encryption, needs).
 */
export function connectTcp(
  address: PeerAddress,
  timeoutMs: number,
  onread?: net.OnReadOpts,
): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: address.host, port: address.port, onread });
    const fail = (reason: string) => {
      socket.destroy();
      reject(new Error(reason));
    };
    socket.setTimeout(timeoutMs, () => fail('connection timed out'));
    socket.once('error', (error) => fail(error.message));
    socket.once('connect', () => {
      socket.setTimeout(0);
      socket.removeAllListeners('error');
      socket.setNoDelay(true);
      resolve(socket);
    });
  });
}

/** Listens on `port` (0: any free port); each accepted socket goes to `onStream`. */
export async function listenTcp(
  port: number,
  onStream: (incoming: IncomingStream) => void,
  onError: (error: Error) => void,
): Promise<Listener> {
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    const host = socket.remoteAddress ?? '?';
    onStream({
      stream: socket,
      // An IPv4 peer on a dual-stack socket shows as ::ffff:a.b.c.d: key it by its IPv4 form.
      address: {
        host: host.startsWith('::ffff:') ? host.slice(7) : host,
        port: socket.remotePort ?? 0,
      },
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        new NetworkError(
          error.code === 'EADDRINUSE'
            ? `port ${port} is already in use (try --port 0)`
            : `cannot listen on port ${port}: ${error.message}`,
        ),
      );
    });
    server.listen(port, () => resolve());
  });
  server.on('error', onError);
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
