/**
 * The transport seam: how a peer's bytes travel. The engine only ever sees a
 * duplex byte stream per peer; TCP is one transport, an in-memory network
 * (tests) another, and encrypted (MSE) and uTP streams fit the same shape.
 */
import type { Duplex } from 'node:stream';
import type { PeerAddress } from '../net/peer-address.ts';

export interface DialOptions {
  /** Give up connecting after this long. */
  timeoutMs: number;
  /**
   * Where received bytes go. A transport may deliver reads here instead of
   * through the stream's 'data' events (TCP reads into one shared buffer, see
   * tcp.ts); a chunk passed here is valid only until the callback returns.
   */
  onData: (chunk: Buffer) => void;
  /**
   * The torrent the connection is for (20 bytes; a v2 info-hash truncated):
   * encrypted transports need it as MSE's stream key. Without it they dial in
   * plaintext (or refuse, when encryption is required).
   */
  infoHash?: Uint8Array;
  /**
   * Written first, as soon as the connection is made (our BitTorrent
   * handshake). An encrypting transport sends it inside the MSE handshake
   * (its initial payload, IA) instead of after it: the peer then answers
   * with its own handshake without waiting for another round trip.
   */
  initialPayload?: Uint8Array;
}

export interface Transport {
  readonly name: string;
  /** Connects; resolves with the connected stream, rejects with an Error whose message says why. */
  dial(address: PeerAddress, options: DialOptions): Promise<Duplex>;
}

/** A stream someone opened to us, with the address it came from. */
export interface IncomingStream {
  stream: Duplex;
  address: PeerAddress;
}

/** A listening endpoint (one per client, shared by all its torrents). */
export interface Listener {
  readonly port: number;
  close(): Promise<void>;
}
