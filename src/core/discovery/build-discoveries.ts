/**
 * Assembles the peer sources for a torrent from what the user asked for:
 * peers given on the command line (or in a magnet's x.pe), trackers, the
 * DHT and Local Service Discovery. Private torrents (BEP 27) use their
 * trackers only. Every call builds
 * fresh instances: a source is started and stopped once.
 */
import type { DhtNode } from '../dht/dht-node.ts';
import { DhtDiscovery } from './dht-discovery.ts';
import { LsdDiscovery } from './lsd.ts';
import type { PeerAddress } from '../net/peer-address.ts';
import { staticPeers, type PeerDiscovery } from './discovery.ts';
import { trackerDiscovery, type TrackerDiscoveryEvents } from './tracker-discovery.ts';

export interface DiscoveryChoices {
  trackers: string[][];
  peers: PeerAddress[];
  /**
   * Peers an earlier run of the same torrent knew (the daemon's stop/start,
   * verify): a torrent whose peers dialled in, or whose tracker is gone, can
   * still reach them. libtorrent and Transmission keep such a list too.
   */
  knownPeers?: PeerAddress[];
  /**
   * false: no DHT (--no-dht or a private torrent). `node`: a shared node
   * (the client's) instead of one per discovery.
   */
  dht: false | { bootstrap?: string[]; port?: number; node?: () => DhtNode };
  /** Local Service Discovery (BEP 14) on the network segment; off for private torrents. */
  lsd?: boolean;
  isPrivate: boolean;
}

/** `trackerEvents` lets renderers count tracker answers (including those with no peers). */
export function buildDiscoveries(
  choices: DiscoveryChoices,
  trackerEvents: TrackerDiscoveryEvents = {},
): PeerDiscovery[] {
  const discoveries: PeerDiscovery[] = [
    staticPeers(choices.peers),
    staticPeers(choices.knownPeers ?? [], 'earlier run'),
    trackerDiscovery(choices.trackers, trackerEvents),
  ];
  if (choices.dht && !choices.isPrivate) {
    discoveries.push(
      new DhtDiscovery({
        bootstrap: choices.dht.bootstrap,
        port: choices.dht.port ?? 0,
        node: choices.dht.node,
      }),
    );
  }
  if (choices.lsd && !choices.isPrivate) discoveries.push(new LsdDiscovery());
  return discoveries;
}
