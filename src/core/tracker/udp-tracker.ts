/**
 * BEP 15 UDP tracker client.
 *
 * Retransmission: BEP 15 waits 15 * 2^n seconds (n up to 8), i.e. minutes
 * before giving up, which is far too slow for a command-line download. shoal
 * waits `retransmitMs` instead (default 2 s, 4 s, 8 s: one send and two
 * resends, about 14 s in all before the request fails with 'timeout'). The
 * schedule is shared by the connect and the announce of one request: each
 * timeout moves to the next step whichever message was lost.
 *
 * Connection ids are cached per client for 60 s (BEP 15: the tracker accepts
 * one for two minutes, the client should use it for one).
 */
import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { randomInt } from 'node:crypto';
import { TrackerError } from './errors.ts';
import {
  MAX_UDP_SCRAPE_HASHES,
  encodeAnnounceRequest,
  encodeConnectRequest,
  encodeScrapeRequest,
  parseAnnounceResponse,
  parseConnectResponse,
  parseScrapeResponse,
  peekTransactionId,
} from './udp-codec.ts';
import type { AnnounceParams, AnnounceResponse, ScrapeResult } from './types.ts';

export interface UdpTrackerOptions {
  /** Wait after each send before resending, milliseconds; its length is the number of sends. */
  retransmitMs?: readonly number[];
  /** How long a connection id is reused, milliseconds. Default 60 000. */
  connectionIdTtlMs?: number;
}

export interface UdpRequestOptions {
  /** Cancels the request (the promise rejects with TrackerError 'aborted'). */
  signal?: AbortSignal;
  /** Overrides the client's schedule for this request (shutdown uses a short one). */
  retransmitMs?: readonly number[];
}

export const defaultUdpTrackerOptions = {
  retransmitMs: [2000, 4000, 8000],
  connectionIdTtlMs: 60_000,
} as const;

/** A datagram can be at most 64 KiB; anything bigger than this is not a tracker reply we want. */
const MAX_DATAGRAM = 65_507;

interface Endpoint {
  host: string;
  port: number;
}

/** Parses udp://host:port[/path][?query]; the path and query are ignored (no BEP 41). */
export function parseUdpTrackerUrl(url: string): Endpoint {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new TrackerError('bad-url', `not a valid URL: ${url}`, { cause: error });
  }
  if (parsed.protocol !== 'udp:') throw new TrackerError('bad-url', `not a udp:// URL: ${url}`);
  const port = Number(parsed.port);
  if (!parsed.hostname || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new TrackerError('bad-url', `UDP tracker URL needs a host and a port: ${url}`);
  }
  const host = parsed.hostname.startsWith('[') ? parsed.hostname.slice(1, -1) : parsed.hostname;
  return { host, port };
}

function abortError(): TrackerError {
  return new TrackerError('aborted', 'tracker request cancelled');
}

function networkError(error: unknown): TrackerError {
  if (error instanceof TrackerError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new TrackerError('network', `tracker unreachable: ${message}`, { cause: error });
}

/** One socket for one request, connected so the kernel drops datagrams from anyone else. */
class Exchange {
  readonly socket: dgram.Socket;
  readonly ipv6: boolean;
  #waiting: { txid: number; done: (datagram: Uint8Array | null, error?: unknown) => void } | null =
    null;
  #failure: unknown = null;

  constructor(ipv6: boolean) {
    this.ipv6 = ipv6;
    this.socket = dgram.createSocket({ type: ipv6 ? 'udp6' : 'udp4' });
    this.socket.on('message', (message: Buffer) => {
      const waiting = this.#waiting;
      if (!waiting || message.length > MAX_DATAGRAM) return;
      // Stale answers to an earlier (resent) request, or junk: keep waiting.
      if (peekTransactionId(message) !== waiting.txid) return;
      waiting.done(new Uint8Array(message.buffer, message.byteOffset, message.length));
    });
    this.socket.on('error', (error) => {
      this.#failure = error;
      this.#waiting?.done(null, error);
    });
  }

  connect(address: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.connect(port, address, () => {
        this.socket.off('error', reject);
        resolve();
      });
    });
  }

  /** Sends and waits; resolves with the matching datagram, or null on timeout. */
  send(
    packet: Uint8Array,
    txid: number,
    waitMs: number,
    signal?: AbortSignal,
  ): Promise<Uint8Array | null> {
    return new Promise((resolve, reject) => {
      if (this.#failure) return reject(networkError(this.#failure));
      if (signal?.aborted) return reject(abortError());
      const onAbort = (): void => done(null, abortError());
      const timer = setTimeout(() => done(null), waitMs);
      const done = (datagram: Uint8Array | null, error?: unknown): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.#waiting = null;
        if (error) reject(networkError(error));
        else resolve(datagram);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiting = { txid, done };
      this.socket.send(packet, (error) => {
        if (error) done(null, error);
      });
    });
  }

  close(): void {
    try {
      this.socket.close();
    } catch {
      // Already closed (the socket failed before connecting).
    }
  }
}

function withAbort<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(abortError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortError());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** A client for one UDP tracker URL; keep it to reuse the connection id. */
export class UdpTracker {
  readonly url: string;
  readonly #endpoint: Endpoint;
  readonly #retransmitMs: readonly number[];
  readonly #ttlMs: number;
  #connection: { id: bigint; expiresAt: number; address: string } | null = null;

  /** Throws TrackerError 'bad-url' for a URL that is not udp://host:port. */
  constructor(url: string, options: UdpTrackerOptions = {}) {
    this.url = url;
    this.#endpoint = parseUdpTrackerUrl(url);
    this.#retransmitMs = options.retransmitMs ?? defaultUdpTrackerOptions.retransmitMs;
    this.#ttlMs = options.connectionIdTtlMs ?? defaultUdpTrackerOptions.connectionIdTtlMs;
    if (this.#retransmitMs.length === 0) throw new RangeError('retransmitMs must not be empty');
  }

  /** Announces. Rejects only with TrackerError. */
  announce(params: AnnounceParams, options: UdpRequestOptions = {}): Promise<AnnounceResponse> {
    return this.#request(
      options,
      (id, txid) => encodeAnnounceRequest(id, txid, params),
      (datagram, txid, ipv6) => parseAnnounceResponse(datagram, txid, ipv6),
    );
  }

  /** Scrapes up to 74 info-hashes. Rejects only with TrackerError. */
  scrape(
    infoHashes: readonly Uint8Array[],
    options: UdpRequestOptions = {},
  ): Promise<ScrapeResult> {
    if (infoHashes.length > MAX_UDP_SCRAPE_HASHES) {
      return Promise.reject(new RangeError(`at most ${MAX_UDP_SCRAPE_HASHES} info-hashes`));
    }
    return this.#request(
      options,
      (id, txid) => encodeScrapeRequest(id, txid, infoHashes),
      (datagram, txid) => parseScrapeResponse(datagram, txid, infoHashes),
    );
  }

  async #request<T>(
    options: UdpRequestOptions,
    encode: (connectionId: bigint, txid: number) => Uint8Array,
    parse: (datagram: Uint8Array, txid: number, ipv6: boolean) => T,
  ): Promise<T> {
    const { signal } = options;
    const schedule = options.retransmitMs ?? this.#retransmitMs;
    let resolved: { address: string; family: number };
    try {
      // DNS through the OS resolver (getaddrinfo), IPv4 or IPv6 in its preferred order.
      resolved = await withAbort(lookup(this.#endpoint.host), signal);
    } catch (error) {
      throw networkError(error);
    }
    const exchange = new Exchange(resolved.family === 6);
    try {
      await withAbort(exchange.connect(resolved.address, this.#endpoint.port), signal);
      let step = 0;
      // A cached id the tracker no longer honours earns one fresh connect, not a failure.
      let retriedStaleId = false;
      while (step < schedule.length) {
        const waitMs = schedule[step]!;
        let connection = this.#connection;
        const cached =
          connection !== null &&
          connection.address === resolved.address &&
          connection.expiresAt > Date.now();
        if (!cached) {
          const txid = randomInt(0, 2 ** 32);
          const reply = await exchange.send(encodeConnectRequest(txid), txid, waitMs, signal);
          if (reply === null) {
            step++;
            continue;
          }
          const id = parseConnectResponse(reply, txid);
          connection = { id, expiresAt: Date.now() + this.#ttlMs, address: resolved.address };
          this.#connection = connection;
        }
        const txid = randomInt(0, 2 ** 32);
        const reply = await exchange.send(encode(connection!.id, txid), txid, waitMs, signal);
        if (reply === null) {
          step++;
          continue;
        }
        try {
          return parse(reply, txid, exchange.ipv6);
        } catch (error) {
          if (
            error instanceof TrackerError &&
            error.code === 'failure' &&
            cached &&
            !retriedStaleId
          ) {
            retriedStaleId = true;
            this.#connection = null;
            continue;
          }
          throw error;
        }
      }
      throw new TrackerError(
        'timeout',
        `UDP tracker did not answer after ${schedule.length} tries`,
      );
    } catch (error) {
      if (error instanceof TrackerError) throw error;
      throw networkError(error);
    } finally {
      exchange.close();
    }
  }
}
