/**
 * A client's listening port: TCP, uTP (one UDP socket), or both on the same
 * port number, as peers expect (a tracker or the DHT announces one port, and
 * a peer may try either transport on it).
 */
import { NetworkError } from '../errors.ts';
import { listenTcp } from '../transport/tcp.ts';
import type { IncomingStream, Listener } from '../transport/transport.ts';
import type { UtpSocket } from '../transport/utp/socket.ts';
import { listenUtp } from '../transport/utp/utp-transport.ts';
import type { TransportChoice } from './dialer.ts';

/** A listener, and the UDP socket uTP dials from when it listens for uTP. */
export interface ClientListener extends Listener {
  readonly utpSocket: UtpSocket | null;
}

/** With port 0, TCP picks a port and UDP may find it taken: try this many ports. */
const FREE_PORT_ATTEMPTS = 8;

export async function listenForPeers(
  transport: TransportChoice,
  port: number,
  onStream: (incoming: IncomingStream) => void,
  onError: (error: Error) => void,
): Promise<ClientListener> {
  if (transport === 'utp') {
    const utp = await listenUtp(port, onStream, onError);
    return { port: utp.port, utpSocket: utp.socket, close: () => utp.close() };
  }
  const attempts = port === 0 && transport === 'both' ? FREE_PORT_ATTEMPTS : 1;
  for (let attempt = 1; ; attempt++) {
    const tcp = await listenTcp(port, onStream, onError);
    if (transport === 'tcp') return { port: tcp.port, utpSocket: null, close: () => tcp.close() };
    try {
      const utp = await listenUtp(tcp.port, onStream, onError);
      return {
        port: tcp.port,
        utpSocket: utp.socket,
        close: async () => {
          await Promise.all([tcp.close(), utp.close()]);
        },
      };
    } catch (error) {
      await tcp.close();
      if (!(error instanceof NetworkError) || attempt >= attempts) throw error;
    }
  }
}
