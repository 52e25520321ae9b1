/**
 * A `lookup` for UDP sockets that are given IP addresses (uTP, LSD): an
 * address is answered as it is, without Node's resolver, which first tests
 * every name against its IPv6 pattern; that pattern's first use costs 10-20 ms
 * of a download's start, before its first byte (docs/PERFORMANCE.md, "First
 * byte"). A host name still goes to dns.lookup.
 */
import dns from 'node:dns';

/** Every IPv6 literal has a colon; no IPv4 address or host name has one. */
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

export function literalLookup(
  address: string,
  family: dns.LookupOneOptions | number,
  callback: (error: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  const literal = address.includes(':') ? 6 : IPV4.test(address) ? 4 : 0;
  if (literal === 0) dns.lookup(address, family as dns.LookupOneOptions, callback);
  else process.nextTick(callback, null, address, literal);
}
