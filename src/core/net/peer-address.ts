/**
 * The one type for a peer's address everywhere in the engine (trackers, DHT,
 * PEX, magnets, the command line, connections), its key, and the validation
 * every address from the network passes: unusable addresses (port 0,
 * unspecified, multicast, broadcast, IPv6 link-local, host names) are
 * dropped here. IPv4-mapped IPv6 (::ffff:a.b.c.d) becomes plain IPv4, so one
 * peer has one key whichever family reported it.
 */
import { ipv4Text, ipv6Text } from './ip-text.ts';

/** An IPv4 or IPv6 literal (no brackets) and a port 1..65535. */
export interface PeerAddress {
  host: string;
  port: number;
}

/**
 * `host:port` (`[v6]:port`): peers are keyed by address AND port, never IP alone,
 * since honest and hostile peers can share an address behind NAT or on loopback.
 */
export function addressKey(address: PeerAddress): string {
  return address.host.includes(':')
    ? `[${address.host}]:${address.port}`
    : `${address.host}:${address.port}`;
}

/** 0.0.0.0/8 is "this network", 224/4 multicast, 240/4 reserved and broadcast. */
function ipv4Usable(firstOctet: number): boolean {
  return firstOctet !== 0 && firstOctet < 224;
}

export function usableIpv4Text(bytes: Uint8Array, offset: number): string | null {
  return ipv4Usable(bytes[offset]!) ? ipv4Text(bytes, offset) : null;
}

/**
 * Formats 16 bytes as RFC 5952 text. IPv4-mapped addresses become plain IPv4
 * so the same peer is not seen twice under two spellings. Null when unusable.
 */
export function usableIpv6Text(bytes: Uint8Array, offset: number): string | null {
  let zeros = true;
  for (let i = 0; i < 10; i++) if (bytes[offset + i] !== 0) zeros = false;
  if (zeros && bytes[offset + 10] === 0xff && bytes[offset + 11] === 0xff) {
    return usableIpv4Text(bytes, offset + 12);
  }
  let unspecified = true;
  for (let i = 0; i < 16; i++) if (bytes[offset + i] !== 0) unspecified = false;
  if (unspecified) return null;
  if (bytes[offset] === 0xff) return null; // multicast
  // fe80::/10 link-local: dialling one needs the zone (the interface) it lives on, which no
  // compact list, tracker or PEX message carries, so from the network it is undialable.
  if (bytes[offset] === 0xfe && (bytes[offset + 1]! & 0xc0) === 0x80) return null;
  return ipv6Text(bytes, offset);
}

export function validPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}

/** Strict dotted-quad: four decimal octets, no leading zeros (which some resolvers read as octal). */
function parseIPv4Text(text: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i]!;
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return null;
    const value = Number(part);
    if (value > 255) return null;
    out[i] = value;
  }
  return out;
}

/** IPv6 text (no brackets, no zone) to 16 bytes; accepts "::" and an IPv4 tail. */
function parseIPv6Text(text: string): Uint8Array | null {
  if (text.length > 45 || !/^[0-9a-fA-F:.]+$/.test(text)) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const toGroups = (part: string): number[] | null => {
    if (part === '') return [];
    const groups: number[] = [];
    const pieces = part.split(':');
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i]!;
      if (i === pieces.length - 1 && piece.includes('.')) {
        const v4 = parseIPv4Text(piece);
        if (!v4) return null;
        groups.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(piece)) return null;
        groups.push(parseInt(piece, 16));
      }
    }
    return groups;
  };
  const head = toGroups(halves[0]!);
  const tail = halves.length === 2 ? toGroups(halves[1]!) : [];
  if (!head || !tail) return null;
  // An IPv4 tail is only allowed at the very end of the address.
  if (halves.length === 2 && halves[0]!.includes('.')) return null;
  const total = head.length + tail.length;
  if (halves.length === 2 ? total > 7 : total !== 8) return null;
  const groups = [...head, ...new Array<number>(8 - total).fill(0), ...tail];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

/**
 * Validates a textual address and port (from a dictionary-model peer list)
 * and returns the canonical peer, or null. Host names are refused: resolving
 * names a tracker chose would let it steer our DNS traffic, and trackers in
 * practice send IP literals.
 */
export function validatePeer(host: string, port: number): PeerAddress | null {
  if (!validPort(port)) return null;
  const v4 = parseIPv4Text(host);
  if (v4) {
    const text = usableIpv4Text(v4, 0);
    return text === null ? null : { host: text, port };
  }
  const v6 = parseIPv6Text(host);
  if (v6) {
    const text = usableIpv6Text(v6, 0);
    return text === null ? null : { host: text, port };
  }
  return null;
}

/**
 * The address bytes of an IP literal that validatePeer accepts: 4 for IPv4
 * (IPv4-mapped IPv6 included), 16 for IPv6; null for anything unusable.
 * For writing compact forms (PEX).
 */
export function addressBytes(host: string): Uint8Array | null {
  const v4 = parseIPv4Text(host);
  if (v4) return usableIpv4Text(v4, 0) === null ? null : v4;
  const v6 = parseIPv6Text(host);
  if (!v6) return null;
  const text = usableIpv6Text(v6, 0);
  if (text === null) return null;
  return text.includes(':') ? v6 : v6.slice(12);
}

export type HostPortText = { ok: true; host: string; port: number } | { ok: false; reason: string };

/**
 * Splits what a person typed (`--peer`, a magnet's `x.pe`): `HOST:PORT`, or
 * `[IPV6]:PORT`. IP literals are checked and made canonical like any peer
 * address; host names are returned as given (the caller may resolve them).
 * A bare IPv6 address with a port (`::1:6881`) is refused: its last group
 * could be the port or part of the address.
 */
export function parseHostPortText(text: string): HostPortText {
  const bracketed = /^\[([^\]]*)\]:(\d{1,5})$/.exec(text);
  const plain = bracketed ? null : /^([^:[\]\s]+):(\d{1,5})$/.exec(text);
  if (!bracketed && !plain) {
    if (!text.includes('[') && (text.match(/:/g) ?? []).length > 1)
      return { ok: false, reason: 'an IPv6 address goes in brackets, e.g. [::1]:6881' };
    return { ok: false, reason: 'use HOST:PORT or [IPV6]:PORT, e.g. 10.0.0.2:6881 or [::1]:6881' };
  }
  const host = (bracketed ?? plain)![1]!;
  const port = Number((bracketed ?? plain)![2]);
  if (!validPort(port)) return { ok: false, reason: `port ${port} is not 1 to 65535` };
  if (bracketed) {
    if (host.includes('%'))
      return { ok: false, reason: 'scoped IPv6 addresses (with a %zone) are not supported' };
    const bytes = parseIPv6Text(host);
    if (!bytes) return { ok: false, reason: `[${host}] is not an IPv6 address` };
    const canonical = usableIpv6Text(bytes, 0);
    if (canonical === null)
      return {
        ok: false,
        reason: `${host} cannot be dialled (unspecified, multicast or link-local)`,
      };
    return { ok: true, host: canonical, port };
  }
  // Four dotted numbers are meant as an IPv4 address, never a host name.
  if (/^[\d.]+$/.test(host)) {
    const valid = validatePeer(host, port);
    return valid
      ? { ok: true, ...valid }
      : { ok: false, reason: `${host} is not a usable IPv4 address` };
  }
  return { ok: true, host, port };
}
