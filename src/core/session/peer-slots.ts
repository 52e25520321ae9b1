/**
 * Who may hold a connection slot (pure: times are passed in).
 *
 * Slots are few (--max-peers), so a peer that does nothing must not keep one
 * from a peer that would. Two rules:
 *
 * - Incoming connections may take at most `incomingLimit(maxPeers)` slots:
 *   a fifth of them (at least one once there are five) is kept for peers we
 *   dial, so a crowd connecting to us can never stop us from reaching the
 *   peers trackers, the DHT and PEX tell us about.
 * - A peer is idle when, for `idleMs`, no block moved in either direction and
 *   it was neither interesting (it has pieces we want and lets us request
 *   them) nor interested (it wants ours). Idle peers are dropped, oldest
 *   first, but only while others wait for a slot: peers we know and could
 *   dial, or peers that connected and were refused. An idle swarm with nobody
 *   waiting keeps its connections.
 */

export interface SlotView {
  id: string;
  /** Last time a block moved, or the peer was interesting or interested (ms). */
  lastActiveAt: number;
}

/** Most slots incoming connections may hold out of `maxPeers`. */
export function incomingLimit(maxPeers: number): number {
  return maxPeers - Math.floor(maxPeers / 5);
}

/** Idle peers to drop now, most idle first: as many as wait for a slot, no more. */
export function idlePeersToDrop(
  peers: readonly SlotView[],
  options: { now: number; idleMs: number; waiting: number },
): string[] {
  if (options.waiting <= 0) return [];
  return peers
    .filter((peer) => options.now - peer.lastActiveAt >= options.idleMs)
    .sort((a, b) => a.lastActiveAt - b.lastActiveAt)
    .slice(0, options.waiting)
    .map((peer) => peer.id);
}
