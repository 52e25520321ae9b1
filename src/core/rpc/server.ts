/**
 * The Transmission-RPC HTTP server at `/transmission/rpc`. Every request goes
 * through the same gates, cheapest and least trusting first, and only a
 * request that passed them all is parsed and dispatched:
 *
 *   caller allowed (403) → rate (429) → path (404) → Host header (421)
 *   → credentials (401) → session id (409) → POST (405) → body size (413)
 *   → JSON (400) → method.
 *
 * The Host check comes before the 409 so that a DNS-rebinding page never
 * learns the session id; credentials come before it too, as Transmission
 * does (clients expect 401 first).
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { NetworkError, UsageError } from '../errors.ts';
import type { RpcBackend } from './backend.ts';
import {
  isLoopback,
  LOOPBACK_CALLERS,
  normalizeAddress,
  type Refusal,
  RequestGuard,
} from './guard.ts';
import { dispatch } from './methods.ts';
import { DownloadRoots } from './roots.ts';

export const RPC_PATH = '/transmission/rpc';
export const SESSION_HEADER = 'x-transmission-session-id';

/** Room for a 10 MiB .torrent in base64 (about 13.4 MiB) plus the JSON around it. */
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;

export interface RpcServerOptions {
  backend: RpcBackend;
  /** Address to listen on (default 127.0.0.1). Anything but loopback needs credentials. */
  host?: string;
  /** Port (default 9091; 0 picks a free one). */
  port?: number;
  credentials?: { username: string; password: string };
  /** Extra names the Host header may carry (localhost, IP literals and the bind address always may). */
  allowedHosts?: string[];
  /** Caller addresses allowed (`--rpc-allow`; `*` wildcards per part). Default: loopback only. */
  allowedCallers?: string[];
  /** Directories a caller may download into or move to (and their subdirectories). */
  downloadRoots: string[];
  /** Folders a remote caller may name a local .torrent in (`filename`), such as the watch folder. */
  torrentFolders?: string[];
  maxBodyBytes?: number;
  /** Requests per second per caller on another machine (default 50, bursts of 200; loopback callers are not capped). */
  ratePerSecond?: number;
  burst?: number;
}

export class RpcServer {
  readonly sessionId = randomBytes(24).toString('base64url');
  readonly #server: http.Server;
  readonly #guard: RequestGuard;
  readonly #roots: DownloadRoots;
  readonly #torrentFolders: DownloadRoots | null;
  readonly #backend: RpcBackend;
  readonly #maxBody: number;

  private constructor(options: RpcServerOptions, host: string) {
    this.#backend = options.backend;
    this.#roots = new DownloadRoots(options.downloadRoots);
    this.#torrentFolders = options.torrentFolders?.length
      ? new DownloadRoots(options.torrentFolders)
      : null;
    this.#maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.#guard = new RequestGuard({
      bindAddress: host,
      allowedHosts: options.allowedHosts ?? [],
      allowedCallers: options.allowedCallers ?? LOOPBACK_CALLERS,
      credentials: options.credentials,
      ratePerSecond: options.ratePerSecond ?? 50,
      burst: options.burst ?? 200,
      maxFailedLogins: 10,
      lockoutMs: 60_000,
    });
    this.#server = http.createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        // #handle answers every request itself; reaching here means the socket broke mid-answer.
        res.destroy(error instanceof Error ? error : undefined);
      });
    });
    // Slow-loris bounds: headers within 10 s, the whole request within 60 s.
    this.#server.headersTimeout = 10_000;
    this.#server.requestTimeout = 60_000;
  }

  /**
   * Listens and resolves once it does. Refuses (UsageError, exit 2) to serve
   * a non-loopback address without credentials; a port in use is a NetworkError (exit 4).
   */
  static async start(options: RpcServerOptions): Promise<RpcServer> {
    const host = options.host ?? '127.0.0.1';
    refuseOpenWithoutCredentials(host, options.credentials);
    const server = new RpcServer(options, host);
    await new Promise<void>((resolve, reject) => {
      server.#server.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          new NetworkError(
            `cannot listen for RPC on ${host}:${options.port ?? 9091}: ${error.code ?? error.message}`,
            {
              cause: error,
            },
          ),
        ),
      );
      server.#server.listen(options.port ?? 9091, host, resolve);
    });
    return server;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const caller = normalizeAddress(req.socket.remoteAddress ?? '');
    const refusal = this.#gate(req, caller);
    if (refusal) {
      refuse(req, res, refusal);
      return;
    }
    const body = await readBody(req, this.#maxBody);
    if (body === null) {
      refuse(req, res, { status: 413, reason: `request body larger than ${this.#maxBody} bytes` });
      return;
    }
    let request: unknown;
    try {
      request = JSON.parse(body.toString('utf8'));
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      this.#answer(res, 400, { result: `malformed JSON: ${why}`, arguments: {} });
      return;
    }
    const response = await dispatch(request, {
      backend: this.#backend,
      roots: this.#roots,
      torrentFolders: this.#torrentFolders,
      callerIsLoopback: isLoopback(caller),
      sessionId: this.sessionId,
      now: () => Math.floor(Date.now() / 1000),
    });
    this.#answer(res, 200, response);
  }

  /** Every check that needs only the request line and headers. */
  #gate(req: http.IncomingMessage, caller: string): Refusal | null {
    const path = (req.url ?? '').split('?')[0];
    return (
      this.#guard.checkCaller(caller) ??
      (path === RPC_PATH || path === `${RPC_PATH}/`
        ? null
        : { status: 404, reason: `nothing here: the RPC endpoint is ${RPC_PATH}` }) ??
      this.#guard.checkHost(req.headers.host) ??
      this.#guard.checkAuth(caller, req.headers.authorization) ??
      (req.headers[SESSION_HEADER] === this.sessionId
        ? null
        : {
            status: 409,
            reason: `send the ${SESSION_HEADER} header this answer carries`,
            headers: { 'X-Transmission-Session-Id': this.sessionId },
          }) ??
      (req.method === 'POST'
        ? null
        : { status: 405, reason: 'RPC requests are POSTed', headers: { Allow: 'POST' } })
    );
  }

  #answer(res: http.ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': 'application/json; charset=UTF-8',
      'Content-Length': Buffer.byteLength(text),
      'X-Transmission-Session-Id': this.sessionId,
    });
    res.end(text);
  }
}

/**
 * Throws a UsageError (exit 2) for a non-loopback address without
 * credentials: the daemon checks this before it takes its state directory.
 */
export function refuseOpenWithoutCredentials(host: string, credentials: unknown): void {
  if (!isLoopback(normalizeAddress(host)) && host !== 'localhost' && !credentials) {
    throw new UsageError(
      `refusing to serve RPC on ${host} without credentials: set --rpc-auth, or bind to 127.0.0.1`,
    );
  }
}

/**
 * The refusal as a one-line text answer. When the request body is not
 * wanted, the connection closes after the answer rather than reading what
 * may be gigabytes.
 */
function refuse(req: http.IncomingMessage, res: http.ServerResponse, refusal: Refusal): void {
  const text = `${refusal.reason}\n`;
  const unreadBody = !req.complete;
  res.writeHead(refusal.status, {
    'Content-Type': 'text/plain; charset=UTF-8',
    'Content-Length': Buffer.byteLength(text),
    ...(unreadBody ? { Connection: 'close' } : {}),
    ...refusal.headers,
  });
  res.end(text);
  if (unreadBody) {
    // Drain briefly so the client reads the answer instead of a reset, then cut the connection.
    req.resume();
    res.once('finish', () => setTimeout(() => req.socket.destroy(), 200).unref());
  }
}

/**
 * The body, or null once it exceeds `max` bytes (declared or counted: chunked
 * bodies too). Past the cap the rest is not kept; `refuse` closes the connection.
 */
function readBody(req: http.IncomingMessage, max: number): Promise<Buffer | null> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > max) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= max) {
        chunks.push(chunk);
        return;
      }
      req.off('data', onData);
      req.pause();
      resolve(null);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}
