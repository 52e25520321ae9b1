/**
 * HTTP(S) tracker client over Node's http/https modules. Not fetch: the body
 * has to be capped while it streams in, and every socket must be torn down
 * on timeout or cancellation.
 *
 * HTTP_PROXY/HTTPS_PROXY/NO_PROXY are honoured as for web seeds
 * (net/http-proxy.ts): through a proxy, http:// announces are forwarded and
 * https:// ones tunnelled with CONNECT. The tracker's name may then resolve
 * only on the proxy's side; a redirect is still judged by where it points.
 */
import type http from 'node:http';
import { guardedGet, type GuardedGet, type GuardedGetFailure } from '../net/guarded-get.ts';
import {
  createAgent,
  ProxyConfigError,
  proxySettingsFromEnv,
  type ProxySettings,
} from '../net/http-proxy.ts';
import { TrackerError, type TrackerErrorCode } from './errors.ts';
import { resolveHost, systemResolver, type Resolver } from './resolve.ts';
import {
  buildAnnounceUrl,
  buildScrapeUrl,
  parseAnnounceResponse,
  parseScrapeResponse,
  scrapeUrlFor,
} from './http-codec.ts';
import type { AnnounceParams, AnnounceResponse, ScrapeResult } from './types.ts';

export interface HttpTrackerOptions {
  /** Whole request time (DNS, connect, redirects, body), milliseconds. Default 15 000. */
  timeoutMs?: number;
  /** Largest body accepted; a longer one aborts the request. Default 2 MiB. */
  maxBodyBytes?: number;
  /**
   * Redirects followed (http and https targets only, and public addresses
   * only unless the tracker itself is local: net/redirect-policy.ts; a loop
   * ends at once). Default 5.
   */
  maxRedirects?: number;
  /** Cancels the request (the promise rejects with TrackerError 'aborted'). */
  signal?: AbortSignal;
  userAgent?: string;
  /** Reach the tracker (and any redirect target) over this address family only. */
  family?: 4 | 6;
  /** Name resolution; default the OS resolver. */
  resolve?: Resolver;
  /** Proxies; default: from HTTP_PROXY/HTTPS_PROXY/NO_PROXY. */
  proxies?: ProxySettings;
}

export const defaultHttpTrackerOptions = {
  timeoutMs: 15_000,
  maxBodyBytes: 2 * 1024 * 1024,
  maxRedirects: 5,
  userAgent: 'shoal/0.1',
} as const;

export interface HttpResult {
  status: number;
  body: Uint8Array;
}

function networkError(error: unknown): TrackerError {
  const message = error instanceof Error ? error.message : String(error);
  return new TrackerError('network', `tracker unreachable: ${message}`, { cause: error });
}

/** What a failed redirect or request is, as a tracker error. */
const FAILURE_CODES: Record<GuardedGetFailure, TrackerErrorCode> = {
  'bad-scheme': 'bad-url',
  'bad-location': 'bad-url',
  loop: 'too-many-redirects',
  'too-many-redirects': 'too-many-redirects',
  refused: 'redirect-refused',
  unresolved: 'network',
  network: 'network',
};

/** One GET with a deadline, a body cap and bounded redirects. Rejects only with TrackerError. */
export function httpGet(url: string, options: HttpTrackerOptions = {}): Promise<HttpResult> {
  const timeoutMs = options.timeoutMs ?? defaultHttpTrackerOptions.timeoutMs;
  const maxBody = options.maxBodyBytes ?? defaultHttpTrackerOptions.maxBodyBytes;
  const maxRedirects = options.maxRedirects ?? defaultHttpTrackerOptions.maxRedirects;
  const userAgent = options.userAgent ?? defaultHttpTrackerOptions.userAgent;
  const signal = options.signal;

  return new Promise<HttpResult>((resolve, reject) => {
    let settled = false;
    // Set once the request starts; finish() may run before (cancelled, bad URL).
    let get: GuardedGet | null = null;

    const finish = (error: TrackerError | null, result?: HttpResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      get?.current?.destroy();
      if (error) reject(error);
      else resolve(result!);
    };
    const onAbort = (): void => finish(new TrackerError('aborted', 'tracker request cancelled'));
    const timer = setTimeout(
      () => finish(new TrackerError('timeout', `tracker did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    if (signal?.aborted) {
      onAbort();
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });

    let proxies: ProxySettings;
    let first: URL;
    try {
      proxies = options.proxies ?? proxySettingsFromEnv();
      first = new URL(url);
    } catch (error) {
      const message = error instanceof ProxyConfigError ? error.message : `not a valid URL: ${url}`;
      finish(new TrackerError('bad-url', message, { cause: error }));
      return;
    }
    if (first.protocol !== 'http:' && first.protocol !== 'https:') {
      finish(new TrackerError('bad-url', `not an http(s) tracker URL: ${url}`));
      return;
    }

    const readBody = (response: http.IncomingMessage): void => {
      const declared = Number(response.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBody) {
        finish(new TrackerError('too-large', `tracker response over ${maxBody} bytes`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBody) {
          finish(new TrackerError('too-large', `tracker response over ${maxBody} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      response.on('end', () => {
        const body = Buffer.concat(chunks);
        const status = response.statusCode ?? 0;
        finish(null, { status, body: new Uint8Array(body.buffer, body.byteOffset, body.length) });
      });
      response.on('error', (error) => finish(networkError(error)));
      // 'close' after 'end' is a no-op (already settled); before it, the body was cut short.
      response.on('close', () =>
        finish(new TrackerError('network', 'tracker closed the connection mid-response')),
      );
    };

    get = guardedGet({
      url: first,
      maxRedirects,
      proxies,
      resolve: (host) => resolveHost(options.resolve ?? systemResolver, host, options.family),
      requestOptions: (target, proxy) => ({
        // No keep-alive agent: an idle pooled socket would keep a CLI process alive.
        agent:
          proxy !== null && target.protocol === 'https:'
            ? createAgent(target, proxy, { keepAlive: false, maxSockets: 1 })
            : false,
        headers: { 'User-Agent': userAgent, 'Accept-Encoding': 'identity', Connection: 'close' },
      }),
      settled: () => settled,
      onResponse: readBody,
      onFailure: (kind, message, cause) =>
        finish(
          kind === 'network' || kind === 'unresolved'
            ? networkError(cause ?? new Error(message))
            : new TrackerError(FAILURE_CODES[kind], message, { cause }),
        ),
    });
  });
}

/**
 * A non-200 status fails the request, but trackers often put a bencoded
 * `failure reason` in such a body, and that is the better message.
 */
function parseOrStatus<T>(result: HttpResult, parse: (body: Uint8Array) => T): T {
  if (result.status === 200) return parse(result.body);
  try {
    parse(result.body);
  } catch (error) {
    if (error instanceof TrackerError && error.code === 'failure') throw error;
  }
  throw new TrackerError('http-status', `tracker answered HTTP ${result.status}`);
}

/** Announces over HTTP(S). Rejects only with TrackerError. */
export async function httpAnnounce(
  announceUrl: string,
  params: AnnounceParams,
  options: HttpTrackerOptions = {},
): Promise<AnnounceResponse> {
  const url = buildAnnounceUrl(announceUrl, params);
  const result = await httpGet(url, options);
  return parseOrStatus(result, parseAnnounceResponse);
}

/** BEP 48 scrape; rejects with TrackerError 'bad-url' when the tracker has no scrape URL. */
export async function httpScrape(
  announceUrl: string,
  infoHashes: readonly Uint8Array[],
  options: HttpTrackerOptions = {},
): Promise<ScrapeResult> {
  const scrapeUrl = scrapeUrlFor(announceUrl);
  if (scrapeUrl === null) {
    throw new TrackerError('bad-url', `tracker does not support scrape: ${announceUrl}`);
  }
  const result = await httpGet(buildScrapeUrl(scrapeUrl, infoHashes), options);
  return parseOrStatus(result, (body) => parseScrapeResponse(body, infoHashes));
}
