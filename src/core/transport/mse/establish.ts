/**
 * The transport's entry points: given a connected socket (any Duplex) and our
 * role, run whatever the encryption policy calls for and hand back a stream of
 * plaintext BitTorrent bytes.
 *
 *   dialled:   off → nothing (plain BitTorrent); prefer/require → MSE initiator
 *   accepted:  off → nothing (an MSE opening then fails the BitTorrent handshake
 *              decoder at its first byte); prefer → a plaintext handshake or MSE,
 *              told apart by the first 20 bytes; require → MSE only
 *
 * On failure the socket is destroyed and the promise rejects with an MseError;
 * with `prefer`, a dialler may then retry the peer without MSE, as libtorrent
 * does (the engine's decision, not made here).
 */
import type { Duplex } from 'node:stream';
import { PROTOCOL_STRING } from '../../wire/handshake.ts';
import type { ReadSink, RoutedReads } from '../routed-reads.ts';
import { MseError } from './errors.ts';
import { HandshakeReader } from './handshake-reader.ts';
import { initiateMse } from './mse-initiator.ts';
import type { MseCiphers } from './mse-keys.ts';
import { respondMse } from './mse-receiver.ts';
import { MseStream } from './mse-stream.ts';
import { CryptoMethod, cryptoProvideFor, type EncryptionPolicy } from './policy.ts';
import type { SkeyLookup } from './skey-index.ts';

/** libtorrent's handshake timeout; an MSE handshake is two round trips. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

export interface SecuredConnection {
  /**
   * Plaintext BitTorrent bytes both ways: the socket itself, or an RC4 stream
   * over it. Handed over paused: attach listeners, then call resume().
   */
  stream: Duplex;
  /**
   * - `rc4`: MSE, everything after the handshake enciphered;
   * - `plaintext`: MSE handshake, then plaintext (crypto_select 0x01);
   * - `none`: no MSE at all, a plain BitTorrent connection.
   */
  mode: 'rc4' | 'plaintext' | 'none';
  /**
   * Bytes already received after the handshake, deciphered (an accepted
   * connection's IA comes first): feed them to the wire decoder before
   * anything the stream emits.
   */
  received: Buffer;
  /** Accepted MSE connections: the stream key (info-hash) the peer asked for. */
  skey?: Uint8Array;
  /**
   * Starts the plaintext reads, in order: `received`, then each read as it
   * arrives, to `onData`; and resumes the connection. Instead of listening to
   * `stream` yourself. A socket dialled with `reads` delivers views of the
   * shared read buffer (deciphered in place under RC4), valid only during the
   * call; `stream` then emits no 'data'.
   */
  readInto(onData: ReadSink): void;
}

export interface OutgoingOptions {
  policy: EncryptionPolicy;
  /** The torrent's 20-byte info-hash (a v2 one truncated): MSE's SKEY. */
  infoHash: Uint8Array;
  /** Bytes to send inside the handshake (our BitTorrent handshake): saves a round trip. */
  initialPayload?: Uint8Array;
  timeoutMs?: number;
  /**
   * The socket's reads when it reads into the shared buffer (a dialled TCP
   * socket, `connectTcpRouted`): the handshake reads them there, and so does
   * the connection after it (`readInto`), as a plain TCP connection would.
   */
  reads?: RoutedReads;
}

export interface IncomingOptions {
  policy: EncryptionPolicy;
  /** Finds a torrent we run from HASH('req2', SKEY): usually `SkeyIndex.lookup`. */
  lookup: SkeyLookup;
  timeoutMs?: number;
}

/**
 * Secures a connection we dialled. With an `initialPayload` and policy `off`,
 * the payload is simply written first, so callers need not care which policy ran.
 */
export async function secureOutgoing(
  socket: Duplex,
  options: OutgoingOptions,
): Promise<SecuredConnection> {
  const reads = options.reads;
  if (options.policy === 'off') {
    if (options.initialPayload) socket.write(options.initialPayload);
    return secured(socket, 'none', null, Buffer.alloc(0), reads);
  }
  return withReader(socket, options.timeoutMs, reads, async (reader) => {
    const outcome = await initiateMse(socket, reader, {
      skey: options.infoHash,
      cryptoProvide: cryptoProvideFor(options.policy),
      initialPayload: options.initialPayload,
    });
    if (outcome.method !== CryptoMethod.rc4) {
      return secured(socket, 'plaintext', null, reader.release(), reads);
    }
    const rest = outcome.ciphers.decrypt.updateInPlace(reader.release());
    return secured(socket, 'rc4', outcome.ciphers, rest, reads);
  });
}

/** Secures a connection we accepted, for whichever torrent `lookup` finds. */
export async function secureIncoming(
  socket: Duplex,
  options: IncomingOptions,
): Promise<SecuredConnection> {
  if (options.policy === 'off') return secured(socket, 'none', null, Buffer.alloc(0));
  return withReader(socket, options.timeoutMs, undefined, async (reader) => {
    if (await opensWithPlainHandshake(reader)) {
      if (options.policy === 'require') {
        throw new MseError(
          'plaintext-refused',
          'peer sent a plaintext handshake; encryption is required',
        );
      }
      return secured(socket, 'none', null, reader.release());
    }
    const outcome = await respondMse(socket, reader, {
      allowedCrypto: cryptoProvideFor(options.policy),
      lookup: options.lookup,
    });
    const rc4 = outcome.method === CryptoMethod.rc4;
    const rest = reader.release();
    const after = rc4 ? outcome.ciphers.decrypt.updateInPlace(rest) : rest;
    const received = Buffer.concat([outcome.initialPayload, after]);
    const connection = secured(
      socket,
      rc4 ? 'rc4' : 'plaintext',
      rc4 ? outcome.ciphers : null,
      received,
    );
    connection.skey = outcome.skey;
    return connection;
  });
}

/**
 * The connection after a handshake: the socket itself, or an RC4 stream over
 * it (which, when the socket's reads are routed, only enciphers writes: the
 * reads are deciphered in place where they land, see `readInto`).
 */
function secured(
  socket: Duplex,
  mode: SecuredConnection['mode'],
  ciphers: MseCiphers | null,
  received: Buffer,
  reads?: RoutedReads,
): SecuredConnection {
  const decrypt = ciphers?.decrypt ?? null;
  const stream = ciphers
    ? new MseStream(socket, { encrypt: ciphers.encrypt, decrypt: reads ? null : decrypt })
    : socket;
  return {
    stream,
    mode,
    received,
    readInto(onData: ReadSink): void {
      if (received.length > 0) onData(received);
      if (reads) {
        reads.sendTo(decrypt ? (chunk) => onData(decrypt.updateInPlace(chunk)) : onData);
        socket.resume();
      } else {
        stream.on('data', onData);
        stream.resume();
      }
    },
  };
}

const PLAIN_OPENING = Buffer.concat([
  Buffer.from([PROTOCOL_STRING.length]),
  Buffer.from(PROTOCOL_STRING),
]);

/**
 * A BitTorrent handshake starts with these 20 bytes; an MSE opening (a random
 * public key) does so with odds of 2^-160. Only one byte is needed to rule it
 * out in 255 of 256 cases.
 */
async function opensWithPlainHandshake(reader: HandshakeReader): Promise<boolean> {
  const first = await reader.peek(1);
  if (first[0] !== PLAIN_OPENING[0]) return false;
  return (await reader.peek(PLAIN_OPENING.length)).equals(PLAIN_OPENING);
}

/**
 * Runs a handshake under its time bound; on any failure destroys the socket
 * (the reader stays attached, so a late socket error has a listener) and
 * rethrows as an MseError.
 */
async function withReader(
  socket: Duplex,
  timeoutMs = DEFAULT_HANDSHAKE_TIMEOUT_MS,
  reads: RoutedReads | undefined,
  handshake: (reader: HandshakeReader) => Promise<SecuredConnection>,
): Promise<SecuredConnection> {
  const reader = new HandshakeReader(socket, reads);
  const timer = setTimeout(
    () => reader.fail(new MseError('timeout', `encryption handshake took over ${timeoutMs} ms`)),
    timeoutMs,
  );
  try {
    return await handshake(reader);
  } catch (error) {
    socket.destroy();
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
