/**
 * A Transmission-RPC client: POSTs `{method, arguments}` to a server's
 * `/transmission/rpc`, does the 409 session-id handshake, and sends HTTP
 * Basic credentials taken from the URL (`http://user:pass@host:9091/...`) or
 * given apart. It never imports the engine: `shoal remote` works the same
 * against shoal's daemon, transmission-daemon, or one on another machine.
 *
 * Failures are ShoalErrors: the server cannot be reached or answers
 * garbage → NetworkError (exit 4); credentials refused or a request refused
 * by the server → UsageError (exit 2), with the server's reason.
 */
import http from 'node:http';
import https from 'node:https';
import { NetworkError, UsageError } from '../errors.ts';

export const DEFAULT_RPC_URL = 'http://127.0.0.1:9091/transmission/rpc';

export interface RpcClientOptions {
  /** `USER:PASS`; overrides credentials in the URL. */
  auth?: string;
  /** Per request (default 30 s). */
  timeoutMs?: number;
}

export class RpcClient {
  readonly url: string;
  readonly #authorization: string | undefined;
  readonly #timeoutMs: number;
  #sessionId = '';

  constructor(url: string, options: RpcClientOptions = {}) {
    const parsed = parseRpcUrl(url);
    const credentials =
      options.auth ??
      (parsed.username
        ? `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`
        : undefined);
    parsed.username = '';
    parsed.password = '';
    this.url = parsed.toString();
    this.#authorization = credentials
      ? `Basic ${Buffer.from(credentials).toString('base64')}`
      : undefined;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** Calls `method`; resolves with its `arguments` when the result is "success". */
  async call(method: string, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const body = JSON.stringify({ method, arguments: args });
    // A 409 hands out the session id; the server may also have restarted since the last one.
    for (let attempt = 0; attempt < 3; attempt++) {
      const response = await this.#post(body);
      if (response.status === 409) {
        this.#sessionId = String(response.headers['x-transmission-session-id'] ?? '');
        continue;
      }
      return this.#result(method, response);
    }
    throw new NetworkError(`${this.url} kept asking for a new session id (409)`);
  }

  async #post(body: string): Promise<HttpAnswer> {
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'X-Transmission-Session-Id': this.#sessionId,
    };
    if (this.#authorization) headers.Authorization = this.#authorization;
    try {
      return await post(this.url, headers, body, this.#timeoutMs);
    } catch (error) {
      const why = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new NetworkError(`cannot reach the RPC server at ${this.url}: ${why}`, {
        cause: error,
      });
    }
  }

  #result(method: string, response: HttpAnswer): Record<string, unknown> {
    const text = response.body;
    const firstLine = text.trim().split('\n')[0]?.slice(0, 200) ?? '';
    if (response.status === 401) {
      throw new UsageError(
        `the RPC server at ${this.url} refused the credentials (401); give --rpc-auth USER:PASS`,
      );
    }
    if (response.status !== 200 && response.status !== 400) {
      throw new UsageError(
        `the RPC server at ${this.url} refused ${method}: HTTP ${response.status} ${firstLine}`,
      );
    }
    let parsed: { result?: unknown; arguments?: unknown };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      throw new NetworkError(
        `${this.url} did not answer ${method} with JSON (is it an RPC server?)`,
      );
    }
    if (parsed.result !== 'success') {
      throw new UsageError(`${method} failed: ${String(parsed.result).slice(0, 300)}`);
    }
    return (parsed.arguments ?? {}) as Record<string, unknown>;
  }
}

/** `host:port`, `http://host:port` or a full URL: the path defaults to /transmission/rpc. */
export function parseRpcUrl(text: string): URL {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UsageError(`invalid --rpc URL "${text}": use http://HOST:PORT/transmission/rpc`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`invalid --rpc URL "${text}": only http and https`);
  }
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/transmission/rpc';
  return url;
}

interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Most bytes of an answer read (a torrent-get of thousands of torrents fits; a hostile endless body does not). */
const MAX_ANSWER_BYTES = 256 * 1024 * 1024;

/**
 * One POST with node:http (fetch refuses some ports, such as 6665-6669, that
 * a daemon may well use). Rejects with the socket error, or ETIMEDOUT.
 */
function post(
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<HttpAnswer> {
  const transport = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    const request = transport.request(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'Content-Length': Buffer.byteLength(body) },
        // A fresh connection per call: a kept-alive one to a daemon that restarted meets a reset.
        agent: false,
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_ANSWER_BYTES) request.destroy(new Error('answer too large'));
          else chunks.push(chunk);
        });
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        response.on('error', reject);
      },
    );
    request.setTimeout(timeoutMs, () =>
      request.destroy(
        Object.assign(new Error(`no answer within ${timeoutMs / 1000} s`), { code: 'ETIMEDOUT' }),
      ),
    );
    request.on('error', reject);
    request.end(body);
  });
}
