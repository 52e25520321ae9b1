/**
 * Trackers as a peer source for the session: wraps the Announcer (BEP 3/15
 * clients, BEP 12 tiers) behind the PeerDiscovery seam. Tracker failures are
 * warnings, never fatal: other trackers, the DHT or given peers may still work.
 */
import { Announcer } from '../tracker/announcer.ts';
import type { PeerDiscovery } from './discovery.ts';

export interface TrackerDiscoveryEvents {
  /** A tracker answered with this many peers. */
  onResponse?: (tracker: string, peers: number) => void;
}

export function trackerDiscovery(
  tiers: string[][],
  events: TrackerDiscoveryEvents = {},
): PeerDiscovery {
  let announcer: Announcer | null = null;
  return {
    name: 'trackers',
    canFindPeers: tiers.length > 0,
    start(context) {
      if (tiers.length === 0) return;
      announcer = new Announcer({
        infoHash: context.infoHash,
        peerId: context.peerId,
        port: context.port,
        trackers: tiers,
        stats: context.stats,
      });
      // The first walk over the tiers ends with an answer or with every tracker failed.
      const trackerCount = announcer.tiers.flat().length;
      const failed = new Set<string>();
      let firstWalkDone = false;
      const walkEnded = (peerCount: number) => {
        if (firstWalkDone) return;
        firstWalkDone = true;
        if (peerCount === 0) context.foundNothing?.();
      };
      announcer.on('peers', ({ tracker, peers }) => context.addPeers(peers, tracker));
      announcer.on('response', ({ tracker, peerCount }) => {
        events.onResponse?.(tracker, peerCount);
        walkEnded(peerCount);
      });
      announcer.on('warning', ({ tracker, message }) =>
        context.warn(tracker ? `${tracker}: ${message}` : message),
      );
      announcer.on('error', ({ tracker, error }) => {
        context.warn(`tracker ${tracker}: ${error.message}`);
        failed.add(tracker);
        if (failed.size >= trackerCount) walkEnded(0);
      });
      announcer.start();
      // No usable tracker URL: nothing will be asked.
      if (trackerCount === 0) walkEnded(0);
    },
    requestPeers() {
      announcer?.announceNow();
    },
    completed() {
      announcer?.complete();
    },
    haveChanged() {
      announcer?.announceChange();
    },
    async stop() {
      await announcer?.stop();
    },
  };
}
