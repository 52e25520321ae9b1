/**
 * The peer addresses a torrent's run hands to its next run (after a stop and
 * start, a verify, or a restart of the daemon), kept in its record in
 * torrents.json. Without them a new run knows only what its trackers and the
 * DHT say, and a peer that only ever dialled in (a seed that thinks we are
 * complete, say) is lost for good. libtorrent and Transmission keep such a
 * list in their resume data too.
 */
import { validatePeer, type PeerAddress } from '../net/peer-address.ts';
import type { TorrentRecord } from './torrent-record.ts';

/** Enough addresses to find the swarm again; no more to keep in torrents.json. */
export const KNOWN_PEERS_KEPT = 200;

/**
 * The record's addresses, checked again: torrents.json is ours, but a
 * hand-edited or damaged entry must not become a dial target.
 */
export function knownPeersOf(record: TorrentRecord): PeerAddress[] {
  const saved: unknown = record.knownPeers;
  if (!Array.isArray(saved)) return [];
  return saved.slice(0, KNOWN_PEERS_KEPT).flatMap((entry: unknown) => {
    if (entry === null || typeof entry !== 'object') return [];
    const { host, port } = entry as { host?: unknown; port?: unknown };
    const valid = validatePeer(String(host), Number(port));
    return valid ? [valid] : [];
  });
}

/** Stores a run's addresses in its record (plain `{ host, port }` objects, for JSON). */
export function keepKnownPeers(record: TorrentRecord, peers: readonly PeerAddress[]): void {
  record.knownPeers = peers.slice(-KNOWN_PEERS_KEPT).map(({ host, port }) => ({ host, port }));
}
