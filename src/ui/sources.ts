/**
 * Counts where peers come from (trackers that answered, DHT, PEX, addresses
 * given on the command line) for the status line and the event stream. Fed by
 * the tracker discovery's onResponse, the session's `peers-found` events and
 * the metadata fetcher's `peers-found` events; renderers only read it.
 */
export type SourceEvent =
  | { type: 'tracker'; url: string; peers: number }
  | { type: 'dht'; peers: number; nodes: number | null }
  | { type: 'pex'; peers: number };

export class SourceCounters {
  /** Trackers configured (torrent tiers plus --tracker). */
  trackers: number;
  /** Tracker URL -> peers in its latest answer. */
  readonly answered = new Map<string, number>();
  dhtPeers = 0;
  pexPeers = 0;
  givenPeers = 0;
  /** Nodes in the DHT routing table, when a DHT runs. */
  dhtNodes: () => number | null = () => null;
  readonly #listeners: ((event: SourceEvent) => void)[] = [];

  constructor(trackers = 0) {
    this.trackers = trackers;
  }

  onEvent(listener: (event: SourceEvent) => void): void {
    this.#listeners.push(listener);
  }

  /** Pass as `onResponse` to the tracker discovery (buildDiscoveries' second argument). */
  readonly trackerResponse = (url: string, peers: number): void => {
    this.answered.set(url, peers);
    this.#emit({ type: 'tracker', url, peers });
  };

  /** A session or metadata `peers-found`: `source` is a tracker URL, 'dht', 'pex…' or 'command line'. */
  readonly peersFound = (source: string, count: number): void => {
    if (source === 'dht') {
      this.dhtPeers += count;
      this.#emit({ type: 'dht', peers: count, nodes: this.dhtNodes() });
    } else if (source === 'pex' || source.startsWith('pex ')) {
      this.pexPeers += count;
      this.#emit({ type: 'pex', peers: count });
    } else if (source === 'command line') {
      this.givenPeers += count;
    }
    // Tracker sources arrive through trackerResponse too (also when they have no peers).
  };

  #emit(event: SourceEvent): void {
    for (const listener of this.#listeners) listener(event);
  }
}
