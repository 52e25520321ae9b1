/**
 * Runs the tracker: for each bind address an HTTP server and a UDP socket on
 * the same port number, one shared registry, a timer that expires old peers.
 * `close()` stops everything; nothing here prints or exits.
 */
import dgram from 'node:dgram';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { NetworkError } from '../errors.ts';
import { ConnectionIds } from './connection-ids.ts';
import { trackerHttpHandler } from './http-handler.ts';
import { TrackerService, type TrackerConfig } from './tracker-service.ts';
import { answerUdp } from './udp-handler.ts';

export interface TrackerServerOptions extends TrackerConfig {
  port: number;
  /** Addresses to listen on; empty means every address (dual-stack `::`, else `0.0.0.0`). */
  bind: string[];
}

export interface TrackerStats {
  torrents: number;
  peers: number;
  seeders: number;
  leechers: number;
  announces: number;
  scrapes: number;
  refused: number;
  malformed: number;
  rssBytes: number;
}

/** Bounds on what one HTTP client can hold: slow or oversized requests are cut off. */
const HTTP_LIMITS = {
  maxHeaderSize: 16_384,
  headersTimeout: 10_000,
  requestTimeout: 10_000,
  keepAliveTimeout: 5_000,
  maxConnections: 4096,
};

export class TrackerServer {
  readonly service: TrackerService;
  readonly #options: TrackerServerOptions;
  readonly #ids = new ConnectionIds();
  readonly #http: http.Server[] = [];
  readonly #udp: dgram.Socket[] = [];
  #sweep: NodeJS.Timeout | null = null;
  #port = 0;

  constructor(options: TrackerServerOptions) {
    this.#options = options;
    this.service = new TrackerService(options);
  }

  get port(): number {
    return this.#port;
  }

  /** Listening URLs, for the user: HTTP and UDP announce URL per bind address. */
  urls(): { http: string[]; udp: string[] } {
    const hosts = this.#http.map((server) => {
      const address = (server.address() as AddressInfo).address;
      return address.includes(':') ? `[${address}]` : address;
    });
    return {
      http: hosts.map((host) => `http://${host}:${this.#port}/announce`),
      udp: hosts.map((host) => `udp://${host}:${this.#port}/announce`),
    };
  }

  stats(): TrackerStats {
    const { torrents, peers, seeders } = this.service.registry.counts;
    return {
      torrents,
      peers,
      seeders,
      leechers: peers - seeders,
      ...this.service.counters,
      rssBytes: process.memoryUsage.rss(),
    };
  }

  async start(): Promise<void> {
    let binds = this.#options.bind;
    let dualStack = false;
    if (binds.length === 0) {
      binds = ['::'];
      dualStack = true;
    }
    this.#port = this.#options.port;
    try {
      for (const host of binds) await this.#listen(host, dualStack);
    } catch (error) {
      // No IPv6 on this machine: every address means every IPv4 address.
      const code = (error as NodeJS.ErrnoException).code;
      if (dualStack && (code === 'EAFNOSUPPORT' || code === 'EADDRNOTAVAIL')) {
        await this.close();
        await this.#listen('0.0.0.0', false);
      } else {
        await this.close();
        throw listenError(error, binds, this.#port);
      }
    }
    const ttlMs = this.service.registry.limits.peerTtlMs;
    this.#sweep = setInterval(
      () => this.service.expire(),
      Math.max(1000, Math.min(60_000, ttlMs / 4)),
    );
    this.#sweep.unref();
  }

  async #listen(host: string, dualStack: boolean): Promise<void> {
    const server = http.createServer({ maxHeaderSize: HTTP_LIMITS.maxHeaderSize });
    server.headersTimeout = HTTP_LIMITS.headersTimeout;
    server.requestTimeout = HTTP_LIMITS.requestTimeout;
    server.keepAliveTimeout = HTTP_LIMITS.keepAliveTimeout;
    server.maxConnections = HTTP_LIMITS.maxConnections;
    server.on(
      'request',
      trackerHttpHandler(this.service, () => this.stats()),
    );
    // A client that sends garbage gets a 400 (431 for an oversized request) and is dropped.
    server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
      this.service.counters.malformed++;
      const status =
        error.code === 'HPE_HEADER_OVERFLOW'
          ? '431 Request Header Fields Too Large'
          : '400 Bad Request';
      if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
      else socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: this.#port, host, ipv6Only: !dualStack && host.includes(':') }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#http.push(server);
    // Port 0: the HTTP server picked one; UDP takes the same number.
    this.#port = (server.address() as AddressInfo).port;

    const family = host.includes(':') ? 'udp6' : 'udp4';
    const socket = dgram.createSocket({ type: family, ipv6Only: !dualStack && family === 'udp6' });
    socket.on('message', (datagram, from) => {
      const answer = answerUdp(this.service, this.#ids, datagram, from, Date.now());
      if (answer) socket.send(answer, from.port, from.address);
    });
    // Sending to an unreachable peer reports an error on the socket; it is not fatal.
    socket.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ port: this.#port, address: host, exclusive: true }, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    this.#udp.push(socket);
  }

  async close(): Promise<void> {
    if (this.#sweep) clearInterval(this.#sweep);
    this.#sweep = null;
    await Promise.all([
      ...this.#http.splice(0).map(
        (server) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ),
      ...this.#udp
        .splice(0)
        .map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))),
    ]);
  }
}

function listenError(error: unknown, binds: string[], port: number): NetworkError {
  const code = (error as NodeJS.ErrnoException).code;
  const where = `${binds.join(', ')} port ${port}`;
  const reason =
    code === 'EADDRINUSE'
      ? 'the port is in use (TCP or UDP)'
      : code === 'EACCES'
        ? 'permission denied (ports below 1024 need privileges)'
        : code === 'EADDRNOTAVAIL'
          ? 'no such local address'
          : (error as Error).message;
  return new NetworkError(`cannot listen on ${where}: ${reason}`, { cause: error });
}
