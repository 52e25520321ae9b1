/**
 * The numbers `shoal tracker` runs with (docs/TRACKER.md explains them).
 * Memory is bounded by the caps: every stored peer costs a few hundred bytes,
 * so the overall peer cap (500 000) keeps the registry under about 250 MB even
 * when an announce flood fills it.
 */
export const TRACKER_DEFAULTS = {
  /** Seconds between regular announces that the tracker asks for. */
  intervalSec: 300,
  /** Peers not heard from for this many intervals are forgotten. */
  expiryIntervals: 3,
  /** Most peers stored per torrent; later newcomers get peers but are not stored. */
  maxPeersPerTorrent: 20_000,
  /** Most peers stored over all torrents. */
  maxPeers: 500_000,
  /** Most torrents tracked at once (only reachable with --open). */
  maxTorrents: 100_000,
  /** Peers handed out when the client does not say (numwant absent, UDP -1). */
  defaultNumWant: 50,
  /** Most peers handed out per announce, whatever numwant asks. */
  maxNumWant: 200,
} as const;
