/**
 * Name resolution for tracker clients, in one place so that both clients
 * resolve the same way and tests can stand in for DNS (a name that has an
 * IPv4 and an IPv6 address cannot be made on a test machine's /etc/hosts).
 */
import type { LookupAddress } from 'node:dns';
import { lookup } from 'node:dns/promises';

/** Every address of `host`, in the resolver's preferred order (an IP literal resolves to itself). */
export type Resolver = (host: string) => Promise<LookupAddress[]>;

/** The OS resolver (getaddrinfo: /etc/hosts, then DNS). */
export const systemResolver: Resolver = (host) => lookup(host, { all: true });

/**
 * The addresses of `host` of one family (all of them without one). Rejects
 * when there are none, with the resolver's own error or ENOTFOUND.
 */
export async function resolveHost(
  resolver: Resolver,
  host: string,
  family?: 4 | 6,
): Promise<LookupAddress[]> {
  const all = await resolver(host);
  const chosen = family === undefined ? all : all.filter((a) => a.family === family);
  if (chosen.length === 0) {
    const which = family === undefined ? '' : ` IPv${family}`;
    throw Object.assign(new Error(`${host} has no${which} address`), { code: 'ENOTFOUND' });
  }
  return chosen;
}

/** The families `host` has addresses in, IPv4 first; empty when it does not resolve. */
export async function hostFamilies(resolver: Resolver, host: string): Promise<(4 | 6)[]> {
  let addresses: LookupAddress[];
  try {
    addresses = await resolver(host);
  } catch {
    return [];
  }
  const families = new Set(addresses.map((a) => a.family));
  return ([4, 6] as const).filter((family) => families.has(family));
}
