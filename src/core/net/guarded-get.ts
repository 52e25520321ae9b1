/**
 * The part of an HTTP(S) GET that HTTP trackers and web seeds share, written
 * once because it carries the rules that keep a hostile server from steering
 * us: only http:// and https:// targets; proxies from the environment
 * (net/http-proxy.ts); a name resolved here is pinned, so the connection goes
 * to exactly the addresses that were checked; redirects bounded, loops
 * refused, and each target judged by redirectRefusal against where the first
 * request went (a public server may not send us to a private address).
 *
 * The caller keeps what differs: its deadlines, its error type, the request's
 * agent and headers, and the body of the final (non-redirect) response.
 */
import type { LookupAddress } from 'node:dns';
import http from 'node:http';
import type { LookupFunction } from 'node:net';
import { proxiedRequest, proxyFor, type ProxySettings } from './http-proxy.ts';
import { redirectRefusal } from './redirect-policy.ts';

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Why an exchange ended before a final response. */
export type GuardedGetFailure =
  /** A redirect to something other than http:// or https://. */
  | 'bad-scheme'
  /** A redirect Location that is not a URL. */
  | 'bad-location'
  /** A redirect back to a URL already requested. */
  | 'loop'
  | 'too-many-redirects'
  /** The redirect policy refused the target's addresses. */
  | 'refused'
  /** The name did not resolve (and no proxy could resolve it for us). */
  | 'unresolved'
  /** The request failed: connection, TLS, proxy. */
  | 'network';

export interface GuardedGetOptions {
  url: URL;
  maxRedirects: number;
  proxies: ProxySettings;
  /** Every address of a host name (or of an IP literal: itself). */
  resolve: (host: string) => Promise<LookupAddress[]>;
  /** Agent and headers of one request to `target` (the route's proxy headers are added). */
  requestOptions: (
    target: URL,
    proxy: URL | null,
    agentKey: string,
  ) => { agent: http.Agent | false; headers: Record<string, string> };
  /** True once the caller has ended the exchange: nothing more is started. */
  settled: () => boolean;
  /** A request was sent (the caller may start a headers deadline). */
  onRequest?: (request: http.ClientRequest) => void;
  /** Response headers arrived, redirect or not. */
  onHeaders?: () => void;
  /** The final response, after `hops` redirects; the caller reads the body. */
  onResponse: (response: http.IncomingMessage, request: http.ClientRequest, hops: number) => void;
  /** The exchange failed before a final response; the caller ends it. */
  onFailure: (kind: GuardedGetFailure, message: string, cause?: unknown) => void;
}

export interface GuardedGet {
  /** The request in flight, if any (the caller destroys it when it gives up). */
  readonly current: http.ClientRequest | undefined;
}

function pinnedLookup(addresses: LookupAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) callback(null, addresses);
    else callback(null, addresses[0]!.address, addresses[0]!.family);
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Starts the GET of `options.url`; the outcome arrives through the callbacks,
 * never before this returns.
 */
export function guardedGet(options: GuardedGetOptions): GuardedGet {
  const state: { current: http.ClientRequest | undefined } = { current: undefined };
  // The addresses of the first request's host: redirects are judged against them
  // (null: it was reached through a proxy without resolving here).
  let origin: string[] | null = null;
  const visited = new Set<string>();
  const refusal = (found: string[]): string | null => redirectRefusal(origin, found);

  const go = (target: URL, hops: number): void => {
    if (target.protocol !== 'http:' && target.protocol !== 'https:') {
      options.onFailure('bad-scheme', `redirected to a non-http URL: ${target.href}`);
      return;
    }
    if (visited.has(target.href)) {
      options.onFailure('loop', `redirect loop at ${target.href}`);
      return;
    }
    visited.add(target.href);
    const proxy = proxyFor(target, options.proxies);
    const host = target.hostname.startsWith('[') ? target.hostname.slice(1, -1) : target.hostname;
    options.resolve(host).then(
      (addresses) => {
        if (options.settled()) return;
        const found = addresses.map((a) => a.address);
        if (hops === 0) origin = found;
        const refused = hops === 0 ? null : refusal(found);
        if (refused !== null) options.onFailure('refused', refused);
        else send(target, hops, proxy, proxy === null ? pinnedLookup(addresses) : undefined);
      },
      (error: unknown) => {
        if (options.settled()) return;
        // Behind a proxy the name may resolve only on the proxy's side.
        if (proxy !== null && (hops === 0 || refusal([]) === null)) {
          send(target, hops, proxy, undefined);
        } else {
          options.onFailure('unresolved', `cannot resolve ${host}: ${describe(error)}`, error);
        }
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
    // node:https (and with it node:tls) loads with the first https:// URL, not with every
    // download: a plain-http tracker's announce is on the way to the first piece.
    const client = route.secure ? process.getBuiltinModule('node:https') : http;
    const { agent, headers } = options.requestOptions(target, proxy, route.agentKey);
    let request: http.ClientRequest;
    try {
      request = client.request({
        ...route.options,
        method: 'GET',
        agent,
        lookup: pinned,
        headers: { ...route.options.headers, ...headers },
      });
    } catch (error) {
      options.onFailure('network', describe(error), error);
      return;
    }
    state.current = request;
    options.onRequest?.(request);
    request.on('error', (error) => {
      if (request === state.current) options.onFailure('network', describe(error), error);
    });
    request.on('response', (response) => {
      options.onHeaders?.();
      const location = response.headers.location;
      if (!REDIRECTS.has(response.statusCode ?? 0) || !location) {
        options.onResponse(response, request, hops);
        return;
      }
      state.current = undefined;
      request.destroy();
      if (hops >= options.maxRedirects) {
        options.onFailure('too-many-redirects', `more than ${options.maxRedirects} redirects`);
        return;
      }
      let next: URL;
      try {
        next = new URL(location, target);
      } catch (error) {
        options.onFailure('bad-location', 'redirected to an invalid URL', error);
        return;
      }
      go(next, hops + 1);
    });
    request.end();
  };

  // Never a callback before the caller holds the handle.
  queueMicrotask(() => go(options.url, 0));
  return state;
}
