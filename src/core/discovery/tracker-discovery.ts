/**
 * Trackers as a peer source for the session: wraps the Announcer (BEP 3/15
 * clients, BEP 12 tiers) behind the PeerDiscovery seam. Tracker failures are
 * warnings, never fatal: other trackers, the DHT or given peers may still work.
 *
 * A hybrid torrent (BEP 52) is in two swarms, so each of its hashes gets an
 * Announcer of its own (addSwarm): every tracker hears of both, each on its
 * own interval, and each gets its own `stopped`, as libtorrent does.
 */
import { Announcer } from '../tracker/announcer.ts';
import type { DiscoveryContext, PeerDiscovery } from './discovery.ts';

export interface TrackerDiscoveryEvents {
  /** A tracker answered with this many peers. */
  onResponse?: (tracker: string, peers: number) => void;
}

export function trackerDiscovery(
  tiers: string[][],
  events: TrackerDiscoveryEvents = {},
): PeerDiscovery {
  /** One per swarm: the context's hash first, then any other (addSwarm). */
  const announcers: Announcer[] = [];
  let started: DiscoveryContext | null = null;
  let stopped = false;

  /** An announcer for `infoHash`; `firstWalk` hears how its first walk over the tiers ended. */
  const announce = (
    context: DiscoveryContext,
    infoHash: Uint8Array,
    firstWalk?: (peerCount: number) => void,
  ) => {
    const announcer = new Announcer({
      infoHash,
      peerId: context.peerId,
      port: context.port,
      trackers: tiers,
      stats: context.stats,
    });
    const other = infoHash === context.infoHash ? undefined : infoHash;
    const trackerCount = announcer.tiers.flat().length;
    const failed = new Set<string>();
    announcer.on('peers', ({ tracker, peers }) => context.addPeers(peers, tracker, other));
    announcer.on('response', ({ tracker, peerCount }) => {
      events.onResponse?.(tracker, peerCount);
      firstWalk?.(peerCount);
    });
    announcer.on('warning', ({ tracker, message }) =>
      context.warn(tracker ? `${tracker}: ${message}` : message),
    );
    announcer.on('error', ({ tracker, error }) => {
      context.warn(`tracker ${tracker}: ${error.message}`);
      failed.add(tracker);
      if (failed.size >= trackerCount) firstWalk?.(0);
    });
    announcers.push(announcer);
    announcer.start();
    // No usable tracker URL: nothing will be asked.
    if (trackerCount === 0) firstWalk?.(0);
  };

  return {
    name: 'trackers',
    canFindPeers: tiers.length > 0,
    start(context) {
      if (tiers.length === 0) return;
      started = context;
      // The first walk over the tiers ends with an answer or with every tracker failed.
      let firstWalkDone = false;
      announce(context, context.infoHash, (peerCount) => {
        if (firstWalkDone) return;
        firstWalkDone = true;
        if (peerCount === 0) context.foundNothing?.();
      });
    },
    addSwarm(infoHash) {
      if (!started || stopped) return;
      announce(started, infoHash);
    },
    requestPeers() {
      for (const announcer of announcers) announcer.announceNow();
    },
    completed() {
      for (const announcer of announcers) announcer.complete();
    },
    haveChanged() {
      for (const announcer of announcers) announcer.announceChange();
    },
    async stop() {
      stopped = true;
      await Promise.all(announcers.map((announcer) => announcer.stop()));
    },
  };
}
