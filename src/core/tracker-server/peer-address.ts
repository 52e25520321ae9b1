/**
 * A peer's address as the registry keys it: the BEP 23 / BEP 7 compact form
 * (4 or 16 address bytes, then the port, big-endian) held as a latin1 string.
 * The address is always the one the request came from: the `ip` parameter
 * and UDP's IP field are ignored, so nobody can put someone else's address
 * into a swarm.
 */
import { ipv4Text, ipv6Text } from '../net/ip-text.ts';
import { addressBytes, validPort } from '../net/peer-address.ts';

function portBytes(port: number): string {
  return String.fromCharCode(port >> 8, port & 0xff);
}

/**
 * The compact key for a socket's remote address; IPv4-mapped IPv6
 * (`::ffff:1.2.3.4`, what a dual-stack socket reports) becomes plain IPv4.
 * Null for anything that is not a usable IP literal (net/peer-address.ts):
 * a host name, a scoped or link-local IPv6 address (useless to other peers).
 */
export function compactAddress(host: string, port: number): string | null {
  const bytes = validPort(port) ? addressBytes(host) : null;
  return bytes === null ? null : Buffer.from(bytes).toString('latin1') + portBytes(port);
}

/** The address text of a compact key (no brackets). */
export function peerHost(address: string): string {
  const bytes = Buffer.from(address, 'latin1');
  return address.length === 6 ? ipv4Text(bytes, 0) : ipv6Text(bytes, 0);
}

export function peerPort(address: string): number {
  const at = address.length - 2;
  return (address.charCodeAt(at) << 8) | address.charCodeAt(at + 1);
}
