/**
 * Compact peer lists (BEP 23 IPv4, BEP 7 IPv6) as trackers, the DHT and PEX
 * send them. Pure functions; each entry is validated by peer-address.ts.
 */
import { usableIpv4Text, usableIpv6Text, validPort, type PeerAddress } from './peer-address.ts';

/** Most peers taken from one response; more is a hostile or broken tracker. */
export const MAX_PEERS_PER_RESPONSE = 5000;

/** Parses `count` fixed-size entries (4 or 16 address bytes + 2 port bytes) at `offset`. */
function parseCompact(
  bytes: Uint8Array,
  offset: number,
  addressLength: 4 | 16,
  max: number,
): PeerAddress[] {
  const entry = addressLength + 2;
  const peers: PeerAddress[] = [];
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
): PeerAddress[] {
  return parseCompact(bytes, offset, 4, max);
}

/** BEP 7 compact IPv6 peers: 16 address bytes + 2 port bytes, big-endian. */
export function parseCompactPeers6(
  bytes: Uint8Array,
  offset = 0,
  max = MAX_PEERS_PER_RESPONSE,
): PeerAddress[] {
  return parseCompact(bytes, offset, 16, max);
}

/** Removes repeated host:port pairs, keeping the first occurrence. */
export function dedupePeers(peers: PeerAddress[]): PeerAddress[] {
  const seen = new Set<string>();
  const out: PeerAddress[] = [];
  for (const peer of peers) {
    const key = `${peer.host}|${peer.port}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(peer);
  }
  return out;
}
