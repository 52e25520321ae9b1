/**
 * Peer address parsing and validation shared by the HTTP and UDP codecs.
 * Pure functions; every address a tracker hands out passes through here, so
 * this is where unusable addresses (port 0, unspecified, multicast,
 * broadcast, host names) are dropped.
 */
import { ipv4Text, ipv6Text } from '../net/ip-text.ts';
import type { Peer } from './types.ts';

/** Most peers taken from one response; more is a hostile or broken tracker. */
export const MAX_PEERS_PER_RESPONSE = 5000;

/** 0.0.0.0/8 is "this network", 224/4 multicast, 240/4 reserved and broadcast. */
function ipv4Usable(firstOctet: number): boolean {
  return firstOctet !== 0 && firstOctet < 224;
}

function usableIpv4Text(bytes: Uint8Array, offset: number): string | null {
  return ipv4Usable(bytes[offset]!) ? ipv4Text(bytes, offset) : null;
}

/**
 * Formats 16 bytes as RFC 5952 text. IPv4-mapped addresses become plain IPv4
 * so the same peer is not seen twice under two spellings. Null when unusable.
 */
function usableIpv6Text(bytes: Uint8Array, offset: number): string | null {
  let zeros = true;
  for (let i = 0; i < 10; i++) if (bytes[offset + i] !== 0) zeros = false;
  if (zeros && bytes[offset + 10] === 0xff && bytes[offset + 11] === 0xff) {
    return usableIpv4Text(bytes, offset + 12);
  }
  let unspecified = true;
  for (let i = 0; i < 16; i++) if (bytes[offset + i] !== 0) unspecified = false;
  if (unspecified) return null;
  if (bytes[offset] === 0xff) return null; // multicast
  return ipv6Text(bytes, offset);
}

function validPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}

/** Parses `count` fixed-size entries (4 or 16 address bytes + 2 port bytes) at `offset`. */
function parseCompact(
  bytes: Uint8Array,
  offset: number,
  addressLength: 4 | 16,
  max: number,
): Peer[] {
  const entry = addressLength + 2;
  const peers: Peer[] = [];
  // A trailing partial entry is ignored rather than failing the whole list,
  // as libtorrent does: the complete entries before it are still good.
  for (let at = offset; at + entry <= bytes.length && peers.length < max; at += entry) {
    const port = (bytes[at + addressLength]! << 8) | bytes[at + addressLength + 1]!;
    if (!validPort(port)) continue;
    const host = addressLength === 4 ? usableIpv4Text(bytes, at) : usableIpv6Text(bytes, at);
    if (host !== null) peers.push({ host, port });
  }
  return peers;
}

/** BEP 23 compact IPv4 peers: 4 address bytes + 2 port bytes, big-endian. */
export function parseCompactPeers4(
  bytes: Uint8Array,
  offset = 0,
  max = MAX_PEERS_PER_RESPONSE,
): Peer[] {
  return parseCompact(bytes, offset, 4, max);
}

/** BEP 7 compact IPv6 peers: 16 address bytes + 2 port bytes, big-endian. */
export function parseCompactPeers6(
  bytes: Uint8Array,
  offset = 0,
  max = MAX_PEERS_PER_RESPONSE,
): Peer[] {
  return parseCompact(bytes, offset, 16, max);
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
export function validatePeer(host: string, port: number): Peer | null {
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

/** Removes repeated host:port pairs, keeping the first occurrence. */
export function dedupePeers(peers: Peer[]): Peer[] {
  const seen = new Set<string>();
  const out: Peer[] = [];
  for (const peer of peers) {
    const key = `${peer.host}|${peer.port}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(peer);
  }
  return out;
}
