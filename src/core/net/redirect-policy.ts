/**
 * Where an HTTP tracker or a web seed may send shoal with a redirect
 * (DESIGN.md §4; applied by guarded-get.ts).
 *
 * A tracker is a third party the torrent named; a redirect lets it choose a
 * host and a path for a GET request shoal sends. Sent to a loopback or
 * private address, that request reaches services that trust the local
 * network (a router's admin page, a database's HTTP port, a cloud metadata
 * endpoint). So a redirect may lead only to public addresses, unless the
 * tracker itself is local: then it is part of the same network already
 * (a tracker on a LAN or on loopback in tests), and its redirects may stay
 * there.
 *
 * Decisions are made on addresses, not names: hostnames are resolved first
 * (a name that resolves to 127.0.0.1 is local), and the request then goes
 * to exactly the address that was checked, so DNS cannot answer differently
 * between the check and the connection.
 */
import { BlockList, isIP } from 'node:net';

/** Addresses that are not on the public internet, IPv4 and IPv6. */
const local = new BlockList();
for (const [prefix, bits] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local (cloud metadata lives here)
  ['172.16.0.0', 12],
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, and the broadcast address
] as const) {
  local.addSubnet(prefix, bits, 'ipv4');
}
for (const [prefix, bits] of [
  ['::', 128], // unspecified
  ['::1', 128],
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
] as const) {
  local.addSubnet(prefix, bits, 'ipv6');
}

/** The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d) or NAT64 (64:ff9b::/96) IPv6 one. */
function embeddedIpv4(address: string): string | null {
  const match = /^(?:::ffff:|64:ff9b::)(?:0:)?(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (match) return match[1];
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (!hex) return null;
  const high = parseInt(hex[1], 16);
  const low = parseInt(hex[2], 16);
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

/** True for loopback, private, link-local and other non-public addresses (and for non-addresses). */
export function isLocalAddress(address: string): boolean {
  const bare = address.startsWith('[') ? address.slice(1, -1) : address;
  const family = isIP(bare);
  if (family === 4) return local.check(bare, 'ipv4');
  if (family === 6) {
    const v4 = embeddedIpv4(bare);
    if (v4 !== null) return local.check(v4, 'ipv4');
    return local.check(bare, 'ipv6');
  }
  return true; // not an address at all: never treat it as public
}

/**
 * May a tracker whose first request went to a host with `origin` addresses
 * redirect shoal to a host that resolved to `target` addresses? Returns null
 * when it may, else the reason it may not. A host counts as local only when
 * all its addresses are, and a target as public only when all its addresses
 * are: a name that resolves to one public and one private address must not
 * open the door to either side. `origin` is null when the first request went
 * through a proxy without resolving the host here.
 */
export function redirectRefusal(
  origin: readonly string[] | null,
  target: readonly string[],
): string | null {
  // null: the first host was reached through a proxy and never resolved here, so
  // nothing says it is local: only targets that are public for certain.
  if (origin === null) {
    return target.length > 0 && !target.some(isLocalAddress)
      ? null
      : `redirect to local or unresolvable address ${target.join(', ') || '(none)'}`;
  }
  if (origin.every(isLocalAddress)) return null;
  const local = target.find(isLocalAddress);
  if (local === undefined && target.length > 0) return null;
  return `tracker at public address ${origin.join(', ')} redirected to local address ${local ?? '(none)'}`;
}
