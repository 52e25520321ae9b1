/**
 * How far an address reaches: loopback (this machine), private (a local
 * network: RFC 1918, carrier-grade NAT, link-local, IPv6 unique-local), or
 * public. PEX uses it so that a stranger on the internet cannot make us dial
 * ports on our own machine or network on its behalf (issue #15): an address
 * is taken only from a peer at least as close as the address itself.
 * Pure; takes the canonical text validatePeer produces, and the forms a
 * socket reports (IPv4-mapped IPv6, an IPv6 zone).
 */

export type AddressScope = 'loopback' | 'private' | 'public';

const RANK: Record<AddressScope, number> = { loopback: 0, private: 1, public: 2 };

export function addressScope(host: string): AddressScope {
  let text = host.toLowerCase();
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  if (text.startsWith('::ffff:') && text.includes('.')) text = text.slice('::ffff:'.length);
  if (text.includes('.') && !text.includes(':')) return ipv4Scope(text);
  if (text === '::1') return 'loopback';
  const first = parseInt(text.split(':')[0] || '0', 16);
  // fc00::/7 unique-local, fe80::/10 link-local.
  if ((first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80) return 'private';
  return 'public';
}

function ipv4Scope(text: string): AddressScope {
  const [a = 0, b = 0] = text.split('.').map(Number);
  if (a === 127) return 'loopback';
  if (
    a === 10 ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 169 && b === 254) ||
    (a === 100 && b >= 64 && b <= 127)
  )
    return 'private';
  return 'public';
}

/**
 * Whether a peer at `sender` may tell us about `address`: public addresses
 * from anyone, private ones from private or loopback peers, loopback ones
 * only from loopback peers.
 */
export function mayAdvertise(sender: string, address: string): boolean {
  return RANK[addressScope(address)] >= RANK[addressScope(sender)];
}
