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
import type { LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import {
  createAgent,
  proxiedRequest,
  proxyFor,
  proxySettingsFromEnv,
  type ProxySettings,
} from '../net/http-proxy.ts';
import { TrackerError } from './errors.ts';
import { redirectRefusal } from './redirect-policy.ts';
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
   * only unless the tracker itself is local: redirect-policy.ts). Default 5.
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

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

function networkError(error: unknown): TrackerError {
  const message = error instanceof Error ? error.message : String(error);
  return new TrackerError('network', `tracker unreachable: ${message}`, { cause: error });
}

/**
 * A `lookup` for http.get that answers with the addresses already resolved
 * and checked, so the connection goes to one of exactly those.
 */
function pinnedLookup(addresses: LookupAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) callback(null, addresses);
    else callback(null, addresses[0].address, addresses[0].family);
  };
}

/** One GET with a deadline, a body cap and bounded redirects. Rejects only with TrackerError. */
export function httpGet(url: string, options: HttpTrackerOptions = {}): Promise<HttpResult> {
  const timeoutMs = options.timeoutMs ?? defaultHttpTrackerOptions.timeoutMs;
  const maxBody = options.maxBodyBytes ?? defaultHttpTrackerOptions.maxBodyBytes;
  const maxRedirects = options.maxRedirects ?? defaultHttpTrackerOptions.maxRedirects;
  const userAgent = options.userAgent ?? defaultHttpTrackerOptions.userAgent;
  const signal = options.signal;

  return new Promise<HttpResult>((resolve, reject) => {
    let settled = false;
    let current: http.ClientRequest | undefined;

    const finish = (error: TrackerError | null, result?: HttpResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      current?.destroy();
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
    try {
      proxies = options.proxies ?? proxySettingsFromEnv();
    } catch (error) {
      finish(new TrackerError('bad-url', (error as Error).message, { cause: error }));
      return;
    }

    // The addresses of the first request's host: redirects are judged against them
    // (null: it was reached through a proxy without resolving here).
    let origin: string[] | null = null;
    /** null when the redirect to `found` is allowed, else why not. */
    const refusal = (found: string[]): string | null => redirectRefusal(origin, found);

    const go = (target: URL, hops: number): void => {
      if (target.protocol !== 'http:' && target.protocol !== 'https:') {
        finish(new TrackerError('bad-url', `tracker redirected to a non-http URL: ${target.href}`));
        return;
      }
      const proxy = proxyFor(target, proxies);
      const host = target.hostname.startsWith('[') ? target.hostname.slice(1, -1) : target.hostname;
      resolveHost(options.resolve ?? systemResolver, host, options.family).then(
        (addresses) => {
          if (settled) return;
          const found = addresses.map((a) => a.address);
          if (hops === 0) origin = found;
          const refused = hops === 0 ? null : refusal(found);
          if (refused !== null) {
            finish(new TrackerError('redirect-refused', refused));
            return;
          }
          send(target, hops, proxy, proxy === null ? pinnedLookup(addresses) : undefined);
        },
        (error: unknown) => {
          if (settled) return;
          // Behind a proxy the name may resolve only on the proxy's side.
          const viaProxy = proxy !== null && (hops === 0 || refusal([]) === null);
          if (viaProxy) send(target, hops, proxy, undefined);
          else finish(networkError(error));
        },
      );
    };

    const send = (
      target: URL,
      hops: number,
      proxy: URL | null,
      pinned: LookupFunction | undefined,
    ): void => {
      const route = proxiedRequest(target, proxy);
      const client = route.secure ? https : http;
      let request: http.ClientRequest;
      try {
        request = client.request({
          ...route.options,
          method: 'GET',
          // No keep-alive agent: an idle pooled socket would keep a CLI process alive.
          agent:
            proxy !== null && route.secure
              ? createAgent(target, proxy, { keepAlive: false, maxSockets: 1 })
              : false,
          lookup: pinned,
          headers: {
            ...route.options.headers,
            'User-Agent': userAgent,
            'Accept-Encoding': 'identity',
            Connection: 'close',
          },
        });
        request.end();
      } catch (error) {
        finish(networkError(error));
        return;
      }
      current = request;
      request.on('error', (error) => {
        if (request === current) finish(networkError(error));
      });
      request.on('response', (response) => {
        const status = response.statusCode ?? 0;
        const location = response.headers.location;
        if (REDIRECTS.has(status) && location) {
          response.resume();
          if (hops >= maxRedirects) {
            finish(new TrackerError('too-many-redirects', `more than ${maxRedirects} redirects`));
            return;
          }
          let next: URL;
          try {
            next = new URL(location, target);
          } catch (error) {
            finish(
              new TrackerError('bad-url', 'tracker redirected to an invalid URL', { cause: error }),
            );
            return;
          }
          current = undefined;
          request.destroy();
          go(next, hops + 1);
          return;
        }
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
          finish(null, { status, body: new Uint8Array(body.buffer, body.byteOffset, body.length) });
        });
        response.on('error', (error) => finish(networkError(error)));
        // 'close' after 'end' is a no-op (already settled); before it, the body was cut short.
        response.on('close', () =>
          finish(new TrackerError('network', 'tracker closed the connection mid-response')),
        );
      });
    };

    let first: URL;
    try {
      first = new URL(url);
    } catch (error) {
      finish(new TrackerError('bad-url', `not a valid URL: ${url}`, { cause: error }));
      return;
    }
    go(first, 0);
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
