/**
 * One ranged GET from a web seed, written straight into the caller's buffer:
 * never more than the range asked for is kept in memory, whatever the
 * server sends. Redirects are followed (bounded, loops refused, and judged
 * by the trackers' redirect policy); proxies come from the environment.
 *
 * Deadlines: the response headers must arrive within `headersTimeoutMs`, the
 * whole range within `headersTimeoutMs + length / minBytesPerSecond`, and
 * every `rateWindowMs` of body at least `minBytesPerSecond` on average must
 * arrive (a server that drips a byte a second fails fast, not after minutes).
 */
import type { LookupAddress } from 'node:dns';
import { lookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { proxiedRequest, proxyFor, type ProxySettings } from '../net/http-proxy.ts';
import { redirectRefusal } from '../tracker/redirect-policy.ts';
import { WebSeedError } from './errors.ts';
import { planBody, retryAfterMs, type AskedRange } from './response-checks.ts';

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export interface RangeRequestOptions {
  headersTimeoutMs: number;
  minBytesPerSecond: number;
  rateWindowMs: number;
  maxRedirects: number;
  userAgent: string;
  proxies: ProxySettings;
  /** The keep-alive agent for a server (cached by the caller, one per server). */
  agent: (target: URL, proxy: URL | null, agentKey: string) => http.Agent;
  /** Name resolution (default: dns.lookup, every time); tests may pin it. */
  resolve?: (host: string) => Promise<LookupAddress[]>;
}

export interface RangeRequest extends AskedRange {
  url: URL;
  /** Exactly `length` bytes, filled in by the request. */
  target: Buffer;
  /** Called after each piece of body is in `target`, with how many bytes from its start are. */
  onProgress?: (kept: number) => void;
}

export interface RangeResult {
  /** The server answered 200 with the whole file (it ignored Range). */
  wholeFile: boolean;
  /** Redirects followed. */
  redirects: number;
}

const defaultResolve = (host: string): Promise<LookupAddress[]> => lookup(host, { all: true });

function pinnedLookup(addresses: LookupAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) callback(null, addresses);
    else callback(null, addresses[0]!.address, addresses[0]!.family);
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Fetches `request.length` bytes from `request.start` of the file at `request.url`. */
export function fetchRange(
  request: RangeRequest,
  options: RangeRequestOptions,
  signal?: AbortSignal,
): Promise<RangeResult> {
  const resolveHost = options.resolve ?? defaultResolve;
  const last = request.start + request.length - 1;
  const deadlineMs =
    options.headersTimeoutMs + Math.ceil((request.length / options.minBytesPerSecond) * 1000);

  return new Promise<RangeResult>((resolve, reject) => {
    let settled = false;
    let current: http.ClientRequest | undefined;
    let rateTimer: NodeJS.Timeout | undefined;
    let headersTimer: NodeJS.Timeout | undefined;

    const finish = (error: WebSeedError | null, result?: RangeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      clearTimeout(headersTimer);
      clearInterval(rateTimer);
      signal?.removeEventListener('abort', onAbort);
      // A failed or cut-short exchange leaves the connection in an unknown
      // state: destroy it rather than hand it back to the keep-alive pool.
      if (error) current?.destroy();
      if (error) reject(error);
      else resolve(result!);
    };
    const onAbort = (): void => finish(new WebSeedError('aborted', 'web seed request cancelled'));
    const deadline = setTimeout(
      () => finish(new WebSeedError('too-slow', `range not complete within ${deadlineMs} ms`)),
      deadlineMs,
    );
    if (signal?.aborted) {
      onAbort();
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });

    let origin: string[] | null = null;
    const visited = new Set<string>();

    /** null when the redirect to `found` is allowed, else why not. */
    const refusal = (found: string[]): string | null => redirectRefusal(origin, found);

    const go = (target: URL, hops: number): void => {
      if (target.protocol !== 'http:' && target.protocol !== 'https:') {
        finish(new WebSeedError('redirect', `redirected to a non-http URL: ${target.protocol}`));
        return;
      }
      if (visited.has(target.href)) {
        finish(new WebSeedError('redirect', `redirect loop at ${target.href}`));
        return;
      }
      visited.add(target.href);
      const proxy = proxyFor(target, options.proxies);
      const host = target.hostname.startsWith('[') ? target.hostname.slice(1, -1) : target.hostname;
      resolveHost(host).then(
        (addresses) => {
          if (settled) return;
          const found = addresses.map((a) => a.address);
          if (hops === 0) origin = found;
          const refused = hops === 0 ? null : refusal(found);
          if (refused !== null) finish(new WebSeedError('redirect', refused));
          else send(target, hops, proxy, proxy === null ? pinnedLookup(addresses) : undefined);
        },
        (error: unknown) => {
          if (settled) return;
          // Behind a proxy the name may resolve only on the proxy's side.
          if (proxy !== null && hops === 0) send(target, hops, proxy, undefined);
          else if (proxy !== null && refusal([]) === null) send(target, hops, proxy, undefined);
          else finish(new WebSeedError('network', `cannot resolve ${host}: ${describe(error)}`));
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
      let req: http.ClientRequest;
      try {
        req = client.request({
          ...route.options,
          method: 'GET',
          agent: options.agent(target, proxy, route.agentKey),
          lookup: pinned,
          headers: {
            ...route.options.headers,
            Range: `bytes=${request.start}-${last}`,
            'User-Agent': options.userAgent,
            'Accept-Encoding': 'identity',
          },
        });
      } catch (error) {
        finish(new WebSeedError('network', describe(error), { cause: error }));
        return;
      }
      current = req;
      headersTimer = setTimeout(
        () =>
          finish(new WebSeedError('too-slow', `no response within ${options.headersTimeoutMs} ms`)),
        options.headersTimeoutMs,
      );
      req.on('error', (error) => {
        if (req === current) finish(new WebSeedError('network', describe(error), { cause: error }));
      });
      req.on('response', (response) => {
        clearTimeout(headersTimer);
        const status = response.statusCode ?? 0;
        const location = response.headers.location;
        if (REDIRECTS.has(status) && location) {
          current = undefined;
          req.destroy();
          if (hops >= options.maxRedirects) {
            finish(new WebSeedError('redirect', `more than ${options.maxRedirects} redirects`));
            return;
          }
          let next: URL;
          try {
            next = new URL(location, target);
          } catch (error) {
            finish(new WebSeedError('redirect', 'redirected to an invalid URL', { cause: error }));
            return;
          }
          go(next, hops + 1);
          return;
        }
        if (status === 503 || status === 429) {
          finish(
            new WebSeedError('unavailable', `HTTP ${status}`, {
              retryAfterMs: retryAfterMs(response.headers['retry-after'], Date.now()),
            }),
          );
          return;
        }
        let skip: number;
        let wholeFile: boolean;
        try {
          ({ skip, wholeFile } = planBody(status, response.headers, request));
        } catch (error) {
          finish(error as WebSeedError);
          return;
        }
        readBody(response, req, skip, wholeFile, hops);
      });
      req.end();
    };

    const readBody = (
      response: http.IncomingMessage,
      req: http.ClientRequest,
      skip: number,
      wholeFile: boolean,
      hops: number,
    ): void => {
      // Bytes of the body seen so far (skipped ones included) and bytes kept.
      let seen = 0;
      let kept = 0;
      let windowStart = 0;
      const windowBytes = Math.ceil((options.minBytesPerSecond * options.rateWindowMs) / 1000);
      rateTimer = setInterval(() => {
        if (seen - windowStart < windowBytes) {
          finish(
            new WebSeedError(
              'too-slow',
              `under ${options.minBytesPerSecond} bytes/s over ${options.rateWindowMs} ms`,
            ),
          );
        }
        windowStart = seen;
      }, options.rateWindowMs);
      const done = (): void => finish(null, { wholeFile, redirects: hops });

      response.on('data', (chunk: Buffer) => {
        if (settled) return;
        let from = 0;
        if (seen < skip) from = Math.min(chunk.length, skip - seen);
        seen += chunk.length;
        const take = Math.min(chunk.length - from, request.length - kept);
        if (take > 0) {
          chunk.copy(request.target, kept, from, from + take);
          kept += take;
          request.onProgress?.(kept);
        }
        if (from + take < chunk.length) {
          if (!wholeFile) {
            // More than the range asked for (a chunked body has no Content-Length to stop it).
            finish(
              new WebSeedError(
                'bad-response',
                `body longer than the ${request.length} bytes asked for`,
              ),
            );
            return;
          }
          // The rest of a whole-file answer is not needed: never read it.
          req.destroy();
          done();
          return;
        }
        if (kept === request.length && wholeFile && seen === request.fileLength) done();
      });
      response.on('end', () => {
        if (kept === request.length) done();
        else {
          finish(
            new WebSeedError('short-body', `body ended after ${kept} of ${request.length} bytes`),
          );
        }
      });
      // Node reports a connection cut mid-body as an error ('aborted', ECONNRESET).
      response.on('error', (error) =>
        finish(
          new WebSeedError(
            'short-body',
            `body cut after ${kept} of ${request.length} bytes: ${describe(error)}`,
            { cause: error },
          ),
        ),
      );
      // 'close' after 'end' changes nothing (settled); before it, the body was cut short.
      // (Checked first: an error object per request, with its stack, is not free.)
      response.on('close', () => {
        if (settled) return;
        finish(
          new WebSeedError(
            'short-body',
            `connection closed after ${kept} of ${request.length} bytes`,
          ),
        );
      });
      if (wholeFile && request.length === 0) done();
    };

    go(request.url, 0);
  });
}
