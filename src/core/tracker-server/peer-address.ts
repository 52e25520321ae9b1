/**
 * A peer's address as the registry keys it: the BEP 23 / BEP 7 compact form
 * (4 or 16 address bytes, then the port, big-endian) held as a latin1 string.
 * The address is always the one the request came from: the `ip` parameter
 * and UDP's IP field are ignored, so nobody can put someone else's address
 * into a swarm.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { ipv4Text, ipv6Text } from '../net/ip-text.ts';

function portBytes(port: number): string {
  return String.fromCharCode(port >> 8, port & 0xff);
}

function ipv4Bytes(text: string): string {
  return String.fromCharCode(...text.split('.').map(Number));
}

/** 16 bytes of an address that node:net's isIPv6 accepted (so the syntax is already checked). */
function ipv6Bytes(text: string): string {
  const groupsOf = (part: string): number[] => {
    const groups: number[] = [];
    for (const piece of part === '' ? [] : part.split(':')) {
      if (piece.includes('.')) {
        const v4 = piece.split('.').map(Number);
        groups.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else groups.push(parseInt(piece, 16));
    }
    return groups;
  };
  const [head, tail] = text.split('::');
  const left = groupsOf(head!);
  const right = tail === undefined ? [] : groupsOf(tail);
  const groups = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  let out = '';
  for (const group of groups) out += String.fromCharCode(group >> 8, group & 0xff);
  return out;
}

/**
 * The compact key for a socket's remote address; IPv4-mapped IPv6
 * (`::ffff:1.2.3.4`, what a dual-stack socket reports) becomes plain IPv4.
 * Null for anything that is not an IP literal, and for IPv6 link-local
 * addresses (scoped or not), which no other peer could use. Hand-written
 * rather than net/peer-address.ts's validating parser: this runs for every
 * announce, and is twice as fast.
 */
export function compactAddress(host: string, port: number): string | null {
  if (!Number.isInteger(port) || port < 1 || port > 65535) return null;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host);
  const plain = mapped ? mapped[1]! : host;
  if (isIPv4(plain)) return ipv4Bytes(plain) + portBytes(port);
  if (isIPv6(plain) && !plain.includes('%')) {
    const bytes = ipv6Bytes(plain);
    // fe80::/10 link-local: no other peer could dial it without its zone.
    const linkLocal = bytes.charCodeAt(0) === 0xfe && (bytes.charCodeAt(1) & 0xc0) === 0x80;
    return bytes.length === 16 && !linkLocal ? bytes + portBytes(port) : null;
  }
  return null;
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
