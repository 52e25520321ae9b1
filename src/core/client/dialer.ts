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
 *   after the head start). Some peers accept a TCP connection and hang up at
 *   once (libtorrent with incoming TCP off still listens): with encryption the
 *   race runs up to the end of the MSE handshake, so such a TCP connection
 *   loses and uTP is tried; in plaintext the dialer remembers the address and
 *   tries uTP first next time.
 * - `prefer` dials with MSE and, when the MSE handshake fails (the peer hung
 *   up on the unfamiliar bytes, or never answered), dials again in plaintext,
 *   as libtorrent does. `require` never falls back. `off` never runs MSE.
 */
import type { Duplex } from 'node:stream';
import { addressKey, type PeerAddress } from '../net/peer-address.ts';
import {
  MseError,
  secureOutgoing,
  type EncryptionPolicy,
  type SecuredConnection,
} from '../transport/mse/index.ts';
import { raceConnect, type RaceEntrant } from '../transport/race.ts';
import type { RoutedReads } from '../transport/routed-reads.ts';
import { connectTcpRouted, tcpTransport } from '../transport/tcp.ts';
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

/** A connected socket, and its reads when they come through the shared read buffer (TCP). */
interface Connected {
  socket: Duplex;
  reads?: RoutedReads;
}

export interface DialerOptions {
  transport: TransportChoice;
  encryption: EncryptionPolicy;
  /** The UDP socket uTP dials from (the listening one, so peers see our port). */
  utpSocket: () => Promise<UtpSocket>;
}

export function clientTransport(options: DialerOptions): Transport {
  /**
   * Addresses whose TCP connection closed before the peer said a word: dial
   * uTP first there. Bounded: the oldest entry goes when it is full.
   */
  const tcpHangsUp = new Set<string>();
  const rememberTcpHangsUp = (address: PeerAddress) => {
    tcpHangsUp.add(addressKey(address));
    if (tcpHangsUp.size > 4096) tcpHangsUp.delete(tcpHangsUp.values().next().value!);
  };

  /** Races TCP and uTP entrants, TCP first unless this address hung up on TCP before. */
  const race = <T>(
    address: PeerAddress,
    tcp: RaceEntrant<T>,
    utp: RaceEntrant<T>,
    discard?: (loser: T) => void,
  ): Promise<T> =>
    tcpHangsUp.has(addressKey(address))
      ? raceConnect(utp, tcp, UTP_HEAD_START_MS, discard)
      : raceConnect(tcp, utp, UTP_HEAD_START_MS, discard);

  const utpConnect = async (address: PeerAddress, timeoutMs: number): Promise<Duplex> =>
    (await options.utpSocket()).connect(address.host, address.port, { timeoutMs });

  /** A plaintext connection, delivering its reads to `dial.onData` (TCP's shared read buffer). */
  const dialPlain = async (address: PeerAddress, dial: DialOptions): Promise<Duplex> => {
    const utp = async () => utpTransport(await options.utpSocket());
    if (options.transport === 'tcp') return tcpTransport.dial(address, dial);
    if (options.transport === 'utp') return (await utp()).dial(address, dial);
    let heard = false;
    // Our BitTorrent handshake goes out on the winner only, once the race is over: sent on
    // both, a peer reached both ways would see our peer-id twice (docs/ENCRYPTION.md).
    const counted: DialOptions = {
      ...dial,
      initialPayload: undefined,
      onData: (chunk) => {
        heard = true;
        dial.onData(chunk);
      },
    };
    const tcp = {
      name: 'tcp',
      connect: async () => {
        const socket = await tcpTransport.dial(address, counted);
        socket.once('close', () => {
          if (!heard) rememberTcpHangsUp(address);
        });
        return socket;
      },
    };
    const winner = await race(address, tcp, {
      name: 'utp',
      connect: async () => (await utp()).dial(address, counted),
    });
    if (dial.initialPayload) winner.write(dial.initialPayload);
    return winner;
  };

  /** Connects over `connect`, then runs the MSE handshake on it. */
  const secured = async (
    connect: () => Promise<Connected>,
    dial: DialOptions & { infoHash: Uint8Array },
    policy: EncryptionPolicy,
  ): Promise<SecuredConnection> => {
    const { socket, reads } = await connect();
    return secureOutgoing(socket, {
      policy,
      infoHash: dial.infoHash,
      initialPayload: dial.initialPayload,
      timeoutMs: DIAL_HANDSHAKE_TIMEOUT_MS,
      reads,
    });
  };

  const dialEncrypted = async (
    address: PeerAddress,
    dial: DialOptions & { infoHash: Uint8Array },
    policy: EncryptionPolicy,
  ): Promise<Duplex> => {
    // TCP reads into the shared read buffer from the start, as a plain dial does (tcp.ts), so
    // the connection keeps that fast path after the handshake, plaintext or RC4.
    const tcp = () => connectTcpRouted(address, dial.timeoutMs);
    const utp = async (): Promise<Connected> => ({
      socket: await utpConnect(address, dial.timeoutMs),
    });
    let connection: SecuredConnection;
    if (options.transport === 'tcp') connection = await secured(tcp, dial, policy);
    else if (options.transport === 'utp') connection = await secured(utp, dial, policy);
    else {
      // The race runs to the end of the handshake: a TCP port that accepts and hangs up loses.
      let handshakeFailed: MseError | null = null;
      // No IA while racing: both MSE handshakes may complete, and our BitTorrent handshake in
      // each would show the peer our peer-id twice. The winner sends it afterwards.
      const withoutIa = { ...dial, initialPayload: undefined };
      const entrant = (name: string, connect: () => Promise<Connected>) => ({
        name,
        connect: () =>
          secured(connect, withoutIa, policy).catch((error: unknown) => {
            if (error instanceof MseError) handshakeFailed = error;
            throw error;
          }),
      });
      connection = await race(address, entrant('tcp', tcp), entrant('utp', utp), (loser) =>
        loser.stream.destroy(),
      ).catch((error: Error) => {
        // Some transport reached the peer and the handshake failed: prefer retries in plaintext.
        throw handshakeFailed ? new MseError(handshakeFailed.code, error.message) : error;
      });
      if (dial.initialPayload) connection.stream.write(dial.initialPayload);
    }
    // Bytes that came with the end of the handshake go first, then the connection's own reads.
    connection.readInto(dial.onData);
    return connection.stream;
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
