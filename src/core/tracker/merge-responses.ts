/**
 * One answer from a tracker announced to over IPv4 and IPv6 at once (see
 * Announcer): the peers of both, and one set of numbers.
 */
import { dedupePeers } from '../net/compact-peers.ts';
import type { AnnounceResponse } from './types.ts';

/** Merges the answers (IPv4's first) of one tracker's announces over each address family. */
export function mergeFamilyResponses(answers: readonly AnnounceResponse[]): AnnounceResponse {
  const most = (pick: (a: AnnounceResponse) => number | undefined): number | undefined => {
    const values = answers.map(pick).filter((v): v is number => v !== undefined);
    return values.length === 0 ? undefined : Math.max(...values);
  };
  return {
    // Each family's announce is scheduled together: the longer interval honours both.
    interval: most((a) => a.interval),
    minInterval: most((a) => a.minInterval),
    // The tracker counts us once per family; the larger count is the closer one.
    seeders: most((a) => a.seeders),
    leechers: most((a) => a.leechers),
    warning: answers.find((a) => a.warning !== undefined)?.warning,
    trackerId: answers.find((a) => a.trackerId !== undefined)?.trackerId,
    peers: dedupePeers(answers.flatMap((a) => a.peers)),
  };
}
