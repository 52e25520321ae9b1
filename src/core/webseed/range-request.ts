/**
 * One ranged GET from a web seed, written straight into the caller's buffer:
 * never more than the range asked for is kept in memory, whatever the
 * server sends. Redirects, proxies and the addresses a server may send us to
 * are net/guarded-get.ts's; this file keeps the deadlines and the body.
 *
 * Deadlines: the response headers must arrive within `headersTimeoutMs`, the
 * whole range within `headersTimeoutMs + length / minBytesPerSecond`, and
 * every `rateWindowMs` of body at least `minBytesPerSecond` on average must
 * arrive (a server that drips a byte a second fails fast, not after minutes).
 */
import type { LookupAddress } from 'node:dns';
import { lookup } from 'node:dns/promises';
import type http from 'node:http';
import { guardedGet, type GuardedGet, type GuardedGetFailure } from '../net/guarded-get.ts';
import type { ProxySettings } from '../net/http-proxy.ts';
import { WebSeedError, type WebSeedErrorCode } from './errors.ts';
import { planBody, retryAfterMs, type AskedRange } from './response-checks.ts';

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

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Fetches `request.length` bytes from `request.start` of the file at `request.url`. */
export function fetchRange(
  request: RangeRequest,
  options: RangeRequestOptions,
  signal?: AbortSignal,
): Promise<RangeResult> {
  const last = request.start + request.length - 1;
  const deadlineMs =
    options.headersTimeoutMs + Math.ceil((request.length / options.minBytesPerSecond) * 1000);

  return new Promise<RangeResult>((resolve, reject) => {
    let settled = false;
    // Set once the request starts; finish() may run before (cancelled, bad URL).
    let get: GuardedGet | null = null;
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
      if (error) get?.current?.destroy();
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

    const failureCodes: Record<GuardedGetFailure, WebSeedErrorCode> = {
      'bad-scheme': 'redirect',
      'bad-location': 'redirect',
      loop: 'redirect',
      'too-many-redirects': 'redirect',
      refused: 'redirect',
      unresolved: 'network',
      network: 'network',
    };

    const onResponse = (
      response: http.IncomingMessage,
      req: http.ClientRequest,
      hops: number,
    ): void => {
      const status = response.statusCode ?? 0;
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

    get = guardedGet({
      url: request.url,
      maxRedirects: options.maxRedirects,
      proxies: options.proxies,
      resolve: options.resolve ?? defaultResolve,
      requestOptions: (target, proxy, agentKey) => ({
        agent: options.agent(target, proxy, agentKey),
        headers: {
          Range: `bytes=${request.start}-${last}`,
          'User-Agent': options.userAgent,
          'Accept-Encoding': 'identity',
        },
      }),
      settled: () => settled,
      onRequest: () => {
        clearTimeout(headersTimer);
        headersTimer = setTimeout(
          () =>
            finish(
              new WebSeedError('too-slow', `no response within ${options.headersTimeoutMs} ms`),
            ),
          options.headersTimeoutMs,
        );
      },
      onHeaders: () => clearTimeout(headersTimer),
      onResponse,
      onFailure: (kind, message, cause) =>
        finish(new WebSeedError(failureCodes[kind], message, { cause })),
    });
  });
}
