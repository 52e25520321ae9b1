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
 * one for two minutes, the client should use it for one), together with the
 * socket they were issued to: trackers may bind an id to the address and
 * port that asked for it, so a new socket always connects afresh.
 */
import dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import { TrackerError } from './errors.ts';
import { resolveHost, systemResolver, type Resolver } from './resolve.ts';
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
  /** Name resolution; default the OS resolver. */
  resolve?: Resolver;
}

export interface UdpRequestOptions {
  /** Cancels the request (the promise rejects with TrackerError 'aborted'). */
  signal?: AbortSignal;
  /** Overrides the client's schedule for this request (shutdown uses a short one). */
  retransmitMs?: readonly number[];
  /** Reach the tracker over this address family only (announcing over both: tracker-families.ts). */
  family?: 4 | 6;
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

/**
 * One UDP socket, connected to one tracker address so the kernel drops
 * datagrams from anyone else. Several requests may wait on it at once (a
 * scrape beside an announce); answers go to the request with their
 * transaction id. Unref'd: an idle socket never keeps the process alive.
 */
class Exchange {
  readonly socket: dgram.Socket;
  readonly ipv6: boolean;
  readonly #waiting = new Map<number, (datagram: Uint8Array | null, error?: unknown) => void>();
  #failure: unknown = null;
  #closed = false;

  constructor(ipv6: boolean) {
    this.ipv6 = ipv6;
    this.socket = dgram.createSocket({ type: ipv6 ? 'udp6' : 'udp4' });
    this.socket.unref();
    this.socket.on('message', (message: Buffer) => {
      if (message.length > MAX_DATAGRAM) return;
      // Stale answers to an earlier (resent) request, or junk: nobody waits for them.
      const txid = peekTransactionId(message);
      const done = txid === undefined ? undefined : this.#waiting.get(txid);
      done?.(new Uint8Array(message.buffer, message.byteOffset, message.length));
    });
    this.socket.on('error', (error) => {
      this.#failure = error;
      for (const done of [...this.#waiting.values()]) done(null, error);
    });
  }

  get closed(): boolean {
    return this.#closed || this.#failure !== null;
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
      if (this.#closed) return reject(networkError(new Error('socket closed')));
      if (signal?.aborted) return reject(abortError());
      const onAbort = (): void => done(null, abortError());
      const timer = setTimeout(() => done(null), waitMs);
      const done = (datagram: Uint8Array | null, error?: unknown): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.#waiting.delete(txid);
        if (error) reject(networkError(error));
        else resolve(datagram);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiting.set(txid, done);
      this.socket.send(packet, (error) => {
        if (error) done(null, error);
      });
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const done of [...this.#waiting.values()]) done(null, new Error('socket closed'));
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

/**
 * A socket to one tracker address and the connection id it was given. BEP 15
 * ids may be bound to the address AND port they were issued to (shoal's own
 * tracker does so), so an id is only ever used on the socket that asked for
 * it: the socket is kept while its id is fresh and closed when it expires.
 */
interface Link {
  exchange: Exchange;
  address: string;
  connection: { id: bigint; expiresAt: number } | null;
  /** Settles when the socket is connected (a second request may arrive before that). */
  ready: Promise<void>;
  /** Requests using the link now; it is closed only when none are. */
  users: number;
  idleTimer: NodeJS.Timeout | undefined;
}

/** A client for one UDP tracker URL; keep it to reuse the connection id, close() it when done. */
export class UdpTracker {
  readonly url: string;
  readonly #endpoint: Endpoint;
  readonly #retransmitMs: readonly number[];
  readonly #ttlMs: number;
  readonly #resolve: Resolver;
  /** The current link per address family (4, 6). */
  readonly #links = new Map<number, Link>();

  /** Throws TrackerError 'bad-url' for a URL that is not udp://host:port. */
  constructor(url: string, options: UdpTrackerOptions = {}) {
    this.url = url;
    this.#endpoint = parseUdpTrackerUrl(url);
    this.#retransmitMs = options.retransmitMs ?? defaultUdpTrackerOptions.retransmitMs;
    this.#ttlMs = options.connectionIdTtlMs ?? defaultUdpTrackerOptions.connectionIdTtlMs;
    this.#resolve = options.resolve ?? systemResolver;
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

  /** Closes the kept sockets (requests still waiting on them fail). */
  close(): void {
    for (const link of this.#links.values()) this.#closeLink(link);
    this.#links.clear();
  }

  #closeLink(link: Link): void {
    clearTimeout(link.idleTimer);
    link.exchange.close();
    const family = link.exchange.ipv6 ? 6 : 4;
    if (this.#links.get(family) === link) this.#links.delete(family);
  }

  /** The link to `address`: the kept one when it still goes there, else a new socket. */
  async #acquire(address: string, family: number, signal?: AbortSignal): Promise<Link> {
    const kept = this.#links.get(family);
    if (kept && kept.address === address && !kept.exchange.closed) {
      clearTimeout(kept.idleTimer);
      kept.idleTimer = undefined;
      kept.users++;
      return this.#whenReady(kept, signal);
    }
    const exchange = new Exchange(family === 6);
    const link: Link = {
      exchange,
      address,
      connection: null,
      ready: exchange.connect(address, this.#endpoint.port),
      users: 1,
      idleTimer: undefined,
    };
    // A failed connect is reported to each request that waits for it, not left unhandled.
    link.ready.catch(() => {});
    this.#links.set(family, link);
    // The link it replaces goes when its last request does (it has none: close it now).
    if (kept && kept.users === 0) this.#closeLink(kept);
    return this.#whenReady(link, signal);
  }

  async #whenReady(link: Link, signal?: AbortSignal): Promise<Link> {
    try {
      await withAbort(link.ready, signal);
    } catch (error) {
      this.#release(link);
      throw error;
    }
    return link;
  }

  /** A request is done with `link`: keep it while its id is fresh, else close it. */
  #release(link: Link): void {
    link.users--;
    if (link.users > 0) return;
    const current = this.#links.get(link.exchange.ipv6 ? 6 : 4) === link;
    const remaining = link.connection ? link.connection.expiresAt - Date.now() : 0;
    if (!current || remaining <= 0 || link.exchange.closed) {
      this.#closeLink(link);
      return;
    }
    link.idleTimer = setTimeout(() => this.#closeLink(link), remaining);
    link.idleTimer.unref();
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
      // The resolver's preferred address (of the family asked for, if one is).
      const addresses = resolveHost(this.#resolve, this.#endpoint.host, options.family);
      resolved = (await withAbort(addresses, signal))[0]!;
    } catch (error) {
      throw networkError(error);
    }
    let link: Link;
    try {
      link = await this.#acquire(resolved.address, resolved.family, signal);
    } catch (error) {
      throw networkError(error);
    }
    const { exchange } = link;
    try {
      let step = 0;
      // A cached id the tracker no longer honours earns one fresh connect, not a failure.
      let retriedStaleId = false;
      while (step < schedule.length) {
        const waitMs = schedule[step]!;
        const cached =
          link.connection !== null && link.connection.expiresAt > Date.now()
            ? link.connection
            : null;
        let connectionId: bigint;
        if (cached) connectionId = cached.id;
        else {
          const txid = randomInt(0, 2 ** 32);
          const reply = await exchange.send(encodeConnectRequest(txid), txid, waitMs, signal);
          if (reply === null) {
            step++;
            continue;
          }
          connectionId = parseConnectResponse(reply, txid);
          link.connection = { id: connectionId, expiresAt: Date.now() + this.#ttlMs };
        }
        const txid = randomInt(0, 2 ** 32);
        const reply = await exchange.send(encode(connectionId, txid), txid, waitMs, signal);
        if (reply === null) {
          // Trackers drop requests with an id they do not know (restarted, or expired early)
          // without a word: after a silence, the next try connects afresh.
          if (cached && link.connection === cached) link.connection = null;
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
            if (link.connection === cached) link.connection = null;
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
      this.#release(link);
    }
  }
}
