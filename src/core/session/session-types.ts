/**
 * The shapes a torrent session is made from and reports in: its options, its
 * events, its statistics. Renderers and commands import these without the
 * engine itself.
 */
import type { Client } from '../client/client.ts';
import type { PeerDiscovery, TransferStats } from '../discovery/discovery.ts';
import type { DiscoveryHub } from '../discovery/hub.ts';
import type { HashPool } from '../hashing/pool.ts';
import type { HandedOffPeer } from '../metadata/hand-off.ts';
import type { Metainfo } from '../metainfo/types.ts';

export interface SessionOptions {
  meta: Metainfo;
  outDir: string;
  hashPool: HashPool;
  /**
   * The client this torrent runs on (listening port, transport, incoming
   * connections shared with other torrents). Without one the session makes
   * its own, listening on `port`.
   */
  client?: Client;
  /** File indexes to download (null: all). */
  selectedFiles?: ReadonlySet<number> | null;
  /** Without `client`: listening port; 0 picks any free port; null does not listen. */
  port?: number | null;
  /** Where peers come from: sources to start, or a hub already running (a magnet's). */
  discoveries?: PeerDiscovery[] | DiscoveryHub;
  /** HTTP mirrors (BEP 19) to fetch pieces from beside the peers; none by default. */
  webSeeds?: readonly string[];
  /** Connections a magnet's metadata phase made, carried on into the download. */
  handedOff?: HandedOffPeer[];
  maxPeers?: number;
  /** Bytes per second; 0/undefined = unlimited. */
  downloadLimit?: number;
  uploadLimit?: number;
  /** Give up (exit 4) after this long without a verified piece. */
  stallTimeoutMs?: number;
  /** Housekeeping period: timeouts, keep-alives, chokers, redials (default 1 s). */
  tickMs?: number;
  /** A peer idle this long gives its slot to one that waits (default 60 s; see peer-slots.ts). */
  idlePeerMs?: number;
  /**
   * A peer that connected during the existing-data check is sent a `have` per
   * piece the check found, up to this many (default 32 768: 288 KiB a peer);
   * past it the peer is let go instead and found again.
   */
  lateHavesLimit?: number;
  /** Keep seeding after completion until this many ms passed ... */
  seedTimeMs?: number;
  /** ... or this upload/download ratio is reached. Neither: stop at completion. */
  seedRatio?: number;
  /** Seed forever (shoal seed without limits). */
  seedForever?: boolean;
  /** Fail with VerifyError (exit 6) when the data on disk is not complete (shoal seed). */
  requireComplete?: boolean;
  /** Open the data read-only (seeding). */
  readOnly?: boolean;
  /** Follow symlinks inside outDir (seeding a path the user named); default: refuse them. */
  followLinks?: boolean;
  version?: string;
  peerId?: Uint8Array;
  signal?: AbortSignal;
}

export interface PeerInfo {
  key: string;
  client: string;
  downloadRate: number;
  uploadRate: number;
  choked: boolean;
  interested: boolean;
  snubbed: boolean;
  outstanding: number;
}

export interface SessionStats extends TransferStats {
  phase: SessionPhase;
  totalWanted: number;
  haveWanted: number;
  downloadRate: number;
  uploadRate: number;
  peers: number;
  knownPeers: number;
  piecesVerified: number;
  piecesWanted: number;
  elapsedMs: number;
}

export type SessionPhase = 'checking' | 'downloading' | 'seeding' | 'stopping' | 'done';

export interface SessionSummary {
  status: 'complete' | 'seeded';
  downloaded: number;
  uploaded: number;
  seconds: number;
  /** Peers we exchanged handshakes with during the run. */
  peers: number;
}

export interface SessionEvents {
  phase: [phase: SessionPhase];
  'check-progress': [bytesChecked: number, totalBytes: number];
  /** `found`: indexes of the wanted pieces already on disk (renderers show per-file progress). */
  'check-done': [piecesFound: number, piecesWanted: number, found: readonly number[]];
  progress: [stats: SessionStats];
  'peer-connected': [peer: { key: string; client: string }];
  'peer-disconnected': [peer: { key: string; reason: string }];
  'piece-verified': [index: number];
  'piece-failed': [index: number, blamed: string[]];
  warning: [message: string];
  listening: [port: number];
  /** A source reported addresses (`source`: tracker URL, 'dht', 'pex', 'command line'). */
  'peers-found': [source: string, count: number];
  complete: [];
}
