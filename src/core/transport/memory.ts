/**
 * An in-memory network: listeners and dials joined by stream pairs, no
 * sockets. Unit tests drive the engine through it (several peers, precise
 * control, nothing left listening), the way they would over TCP.
 */
import { duplexPair, type Duplex } from 'node:stream';
import { addressKey, type PeerAddress } from '../net/peer-address.ts';
import type { DialOptions, IncomingStream, Listener, Transport } from './transport.ts';

export class MemoryNetwork {
  readonly #listeners = new Map<string, (incoming: IncomingStream) => void>();
  #nextPort = 40_000;

  /** Listens at `host` on a fresh port; streams dialed to it go to `onStream`. */
  listen(host: string, onStream: (incoming: IncomingStream) => void): Listener {
    const port = this.#nextPort++;
    const key = addressKey({ host, port });
    this.#listeners.set(key, onStream);
    return {
      port,
      close: async () => void this.#listeners.delete(key),
    };
  }

  /** A transport that dials from `host` (each dial gets a fresh source port). */
  transport(host = '127.0.0.1'): Transport {
    return {
      name: 'memory',
      dial: async (address: PeerAddress, options: DialOptions): Promise<Duplex> => {
        const accept = this.#listeners.get(addressKey(address));
        if (!accept) throw new Error('connection refused');
        const [ours, theirs] = duplexPair();
        // Either end closing closes the other, as a socket's would.
        ours.once('close', () => theirs.destroy());
        theirs.once('close', () => ours.destroy());
        ours.on('data', options.onData);
        accept({ stream: theirs, address: { host, port: this.#nextPort++ } });
        if (options.initialPayload) ours.write(options.initialPayload);
        return ours;
      },
    };
  }
}
