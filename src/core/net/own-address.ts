/**
 * This machine's own public IPv6 address, for telling a tracker reached over
 * IPv4 where IPv6 peers can find us (BEP 7 `ipv6=`). Only global unicast
 * addresses (2000::/3) count: loopback, link-local and unique-local ones
 * (fc00::/7) mean nothing to a tracker on the internet.
 */
import os from 'node:os';
import { validatePeer } from './peer-address.ts';

type Interfaces = ReturnType<typeof os.networkInterfaces>;

/** The first global unicast IPv6 address of any interface, canonical, or undefined. */
export function globalIpv6Address(
  interfaces: Interfaces = os.networkInterfaces(),
): string | undefined {
  for (const addresses of Object.values(interfaces)) {
    for (const address of addresses ?? []) {
      if (address.family !== 'IPv6' || address.internal) continue;
      const valid = validatePeer(address.address, 1);
      if (!valid || !valid.host.includes(':')) continue;
      const first = parseInt(valid.host.split(':')[0] || '0', 16);
      if ((first & 0xe000) === 0x2000) return valid.host;
    }
  }
  return undefined;
}
