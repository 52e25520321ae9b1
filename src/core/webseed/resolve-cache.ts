/**
 * Name resolution for one web seed's requests, remembered for a short while:
 * a download sends thousands of requests to the same host, and each would
 * otherwise cost a getaddrinfo call on libuv's small thread pool (shared with
 * disk I/O). Failures are not remembered.
 */
import type { LookupAddress } from 'node:dns';
import { lookup } from 'node:dns/promises';

export type Resolve = (host: string) => Promise<LookupAddress[]>;

export function cachedResolve(
  ttlMs = 60_000,
  resolve: Resolve = (host) => lookup(host, { all: true }),
  now: () => number = Date.now,
): Resolve {
  const cache = new Map<string, { addresses: LookupAddress[]; until: number }>();
  return async (host) => {
    const hit = cache.get(host);
    if (hit && now() < hit.until) return hit.addresses;
    const addresses = await resolve(host);
    cache.set(host, { addresses, until: now() + ttlMs });
    return addresses;
  };
}
