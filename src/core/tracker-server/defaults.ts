/**
 * The numbers `shoal tracker` runs with (docs/TRACKER.md explains them).
 * Memory is bounded by the caps. Measured (bench/tracker.ts and an announce
 * flood): a stored peer costs about 0.7 KiB of resident memory, a torrent
 * with one peer about 1.8 KiB; so a registry filled to both caps (200 000
 * peers, 10 000 torrents) stays within about 160 MiB above the idle process.
 */
export const TRACKER_DEFAULTS = {
  /** Seconds between regular announces that the tracker asks for. */
  intervalSec: 300,
  /** Peers not heard from for this many intervals are forgotten. */
  expiryIntervals: 3,
  /** Most peers stored per torrent; later newcomers get peers but are not stored. */
  maxPeersPerTorrent: 20_000,
  /** Most peers stored over all torrents. */
  maxPeers: 200_000,
  /** Most torrents tracked at once (only reachable with --open; a fleet has a handful). */
  maxTorrents: 10_000,
  /**
   * Most torrents with no peers whose completed count is kept (with --open; a
   * whitelist keeps one per listed hash). About 80 bytes of heap each (measured:
   * 100 000 take 7.4 MiB), so the cap costs at most about 8 MiB.
   */
  maxIdleTorrents: 100_000,
  /** Peers handed out when the client does not say (numwant absent, UDP -1). */
  defaultNumWant: 50,
  /** Most peers handed out per announce, whatever numwant asks. */
  maxNumWant: 200,
} as const;
