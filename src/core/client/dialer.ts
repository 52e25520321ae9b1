/**
 * How a client dials a peer: over TCP, uTP or both (`--transport`), then in
 * plaintext or through MSE (`--encryption`). The result is one Transport, so
 * the torrent session and the metadata fetch never learn how the bytes
 * travel.
 *
 * - `both` races the two (race.ts): TCP first, uTP after a head start or as
 *   soon as TCP fails (a refused TCP port fails at once). TCP goes first
 *   because it is much faster here: shoal's uTP moves ~160 MiB/s on loopback
 *   against TCP's ~2.5 GiB/s (docs/UTP.md); uTP reaches peers that only speak
 *   uTP, or whose TCP port is filtered (then TCP never answers, and uTP starts
 *   after the head start).
 * - `prefer` dials with MSE and, when the MSE handshake fails (the peer hung
 *   up on the unfamiliar bytes, or never answered), dials again in plaintext,
 *   as libtorrent does. `require` never falls back. `off` never runs MSE.
 */
import type { Duplex } from 'node:stream';
import type { PeerAddress } from '../net/peer-address.ts';
import { MseError, secureOutgoing, type EncryptionPolicy } from '../transport/mse/index.ts';
import { raceConnect } from '../transport/race.ts';
import { connectTcp, tcpTransport } from '../transport/tcp.ts';
import type { DialOptions, Transport } from '../transport/transport.ts';
import type { UtpSocket } from '../transport/utp/socket.ts';
import { utpTransport } from '../transport/utp/utp-transport.ts';

export const TRANSPORT_CHOICES = ['tcp', 'utp', 'both'] as const;
export type TransportChoice = (typeof TRANSPORT_CHOICES)[number];

/** How long TCP has to connect before uTP is tried as well (transport `both`). */
export const UTP_HEAD_START_MS = 500;
/**
 * The MSE handshake's bound when dialling (two round trips). Shorter than the
 * accepting side's 10 s: under `prefer` a peer that never answers costs this
 * long before the plaintext retry.
 */
const DIAL_HANDSHAKE_TIMEOUT_MS = 5_000;

export interface DialerOptions {
  transport: TransportChoice;
  encryption: EncryptionPolicy;
  /** The UDP socket uTP dials from (the listening one, so peers see our port). */
  utpSocket: () => Promise<UtpSocket>;
}

export function clientTransport(options: DialerOptions): Transport {
  /** A connected stream that reads through 'data' events (for the MSE layer to read). */
  const connectRaw = async (address: PeerAddress, timeoutMs: number): Promise<Duplex> => {
    const tcp = { name: 'tcp', connect: () => connectTcp(address, timeoutMs) };
    const utp = {
      name: 'utp',
      connect: async () =>
        (await options.utpSocket()).connect(address.host, address.port, { timeoutMs }),
    };
    if (options.transport === 'tcp') return tcp.connect();
    if (options.transport === 'utp') return utp.connect();
    return raceConnect(tcp, utp, UTP_HEAD_START_MS);
  };

  /** A plaintext connection, delivering its reads to `dial.onData` (TCP's shared read buffer). */
  const dialPlain = async (address: PeerAddress, dial: DialOptions): Promise<Duplex> => {
    const utp = async () => utpTransport(await options.utpSocket());
    if (options.transport === 'tcp') return tcpTransport.dial(address, dial);
    if (options.transport === 'utp') return (await utp()).dial(address, dial);
    return raceConnect(
      { name: 'tcp', connect: () => tcpTransport.dial(address, dial) },
      { name: 'utp', connect: async () => (await utp()).dial(address, dial) },
      UTP_HEAD_START_MS,
    );
  };

  const dialEncrypted = async (
    address: PeerAddress,
    dial: DialOptions & { infoHash: Uint8Array },
    policy: EncryptionPolicy,
  ): Promise<Duplex> => {
    const raw = await connectRaw(address, dial.timeoutMs);
    const secured = await secureOutgoing(raw, {
      policy,
      infoHash: dial.infoHash,
      timeoutMs: DIAL_HANDSHAKE_TIMEOUT_MS,
    });
    const stream = secured.stream;
    // Bytes that came with the end of the handshake go first, then the stream's own reads.
    if (secured.received.length > 0) dial.onData(secured.received);
    stream.on('data', dial.onData);
    stream.resume();
    return stream;
  };

  return {
    name: `${options.transport}/${options.encryption}`,
    async dial(address: PeerAddress, dial: DialOptions): Promise<Duplex> {
      const { infoHash } = dial;
      if (options.encryption === 'off') return dialPlain(address, dial);
      if (!infoHash) {
        if (options.encryption === 'require') {
          throw new Error('encryption is required, and this connection names no torrent');
        }
        return dialPlain(address, dial);
      }
      try {
        return await dialEncrypted(address, { ...dial, infoHash }, options.encryption);
      } catch (error) {
        if (options.encryption === 'prefer' && error instanceof MseError) {
          return dialPlain(address, dial);
        }
        if (error instanceof MseError) {
          throw new Error(`encryption handshake: ${error.message}`, { cause: error });
        }
        throw error;
      }
    },
  };
}
