/**
 * The seam between the Transmission-RPC server and whatever runs the torrents.
 *
 * The server (server.ts, methods.ts) does everything of the protocol that does
 * not need an engine: HTTP, security, parsing, id resolution, the field table,
 * the download-root policy. A backend only answers in plain data: a snapshot
 * of each torrent (`RpcTorrent`) that the field table turns into whatever
 * fields a client asks for, and actions on torrent ids. The daemon plugs its
 * client object in here; tests use an in-memory one (test/helpers/rpc-backend.ts).
 *
 * Every path a backend receives has already been checked against the
 * download roots, and every id exists. A backend throws `RpcRefusal` for a
 * request it cannot do (the message goes to the caller as the `result`).
 */

/** Transmission's torrent status codes (`status` in torrent-get). */
export const TorrentStatus = {
  stopped: 0,
  checkWait: 1,
  checking: 2,
  downloadWait: 3,
  downloading: 4,
  seedWait: 5,
  seeding: 6,
} as const;
export type TorrentStatusCode = (typeof TorrentStatus)[keyof typeof TorrentStatus];

/** Transmission's error kinds (`error` in torrent-get): 0 none, 1 tracker warning, 2 tracker error, 3 local error. */
export type TorrentErrorCode = 0 | 1 | 2 | 3;

/** Transmission's priorities: -1 low, 0 normal, 1 high. */
export type Priority = -1 | 0 | 1;

export interface RpcFile {
  /** Path inside the download directory, `/`-separated, starting with the torrent's folder for multi-file torrents. */
  name: string;
  length: number;
  bytesCompleted: number;
  wanted: boolean;
  priority: Priority;
}

export interface RpcPeer {
  address: string;
  port: number;
  clientName: string;
  isEncrypted: boolean;
  isIncoming: boolean;
  isUTP: boolean;
  clientIsChoked: boolean;
  clientIsInterested: boolean;
  peerIsChoked: boolean;
  peerIsInterested: boolean;
  /** 0..1 of the torrent the peer has. */
  progress: number;
  /** Bytes per second from the peer to us, and from us to the peer. */
  rateToClient: number;
  rateToPeer: number;
  /** Where the peer came from, for `peersFrom`. */
  source: 'tracker' | 'dht' | 'pex' | 'lpd' | 'incoming' | 'ltep' | 'cache';
}

export interface RpcTracker {
  announce: string;
  tier: number;
  lastAnnounceTime: number;
  lastAnnounceSucceeded: boolean;
  lastAnnounceResult: string;
  lastAnnouncePeerCount: number;
  nextAnnounceTime: number;
  seederCount: number;
  leecherCount: number;
  downloadCount: number;
}

/**
 * One torrent as the backend sees it right now. Times are Unix seconds (0:
 * never); rates are bytes per second; sizes are bytes.
 */
export interface RpcTorrent {
  id: number;
  /** v1 info-hash, lower-case hex (the truncated v2 hash for v2-only torrents, as Transmission does). */
  hashString: string;
  name: string;
  status: TorrentStatusCode;
  error: TorrentErrorCode;
  errorString: string;
  downloadDir: string;
  /** Metadata known (false for a magnet still fetching it: then sizes and files are empty). */
  hasMetadata: boolean;
  metadataPercentComplete: number;
  totalSize: number;
  pieceCount: number;
  pieceSize: number;
  /** Bitfield of verified pieces, high bit first (the wire format). */
  pieces: Uint8Array;
  /** Bytes verified, counting only wanted files' pieces for `sizeWhenDone` maths. */
  haveValid: number;
  haveUnchecked: number;
  sizeWhenDone: number;
  leftUntilDone: number;
  files: RpcFile[];
  isPrivate: boolean;
  comment: string;
  creator: string;
  dateCreated: number;
  addedDate: number;
  startDate: number;
  doneDate: number;
  activityDate: number;
  downloadedEver: number;
  uploadedEver: number;
  corruptEver: number;
  rateDownload: number;
  rateUpload: number;
  /** 0..1 progress of a running verify. */
  recheckProgress: number;
  secondsDownloading: number;
  secondsSeeding: number;
  queuePosition: number;
  peers: RpcPeer[];
  trackers: RpcTracker[];
  webseeds: string[];
  labels: string[];
  magnetLink: string;
  /** Path of the stored .torrent, or ''. */
  torrentFile: string;
  downloadLimit: number;
  downloadLimited: boolean;
  uploadLimit: number;
  uploadLimited: boolean;
  honorsSessionLimits: boolean;
  bandwidthPriority: Priority;
  peerLimit: number;
  seedRatioLimit: number;
  /** 0 session default, 1 this torrent's limit, 2 unlimited. */
  seedRatioMode: 0 | 1 | 2;
  seedIdleLimit: number;
  seedIdleMode: 0 | 1 | 2;
}

/** What `torrent-add` asks for, already checked. */
export interface AddRequest {
  /** A .torrent's bytes, or a magnet link / http(s) URL for the backend to resolve. */
  source: { metainfo: Uint8Array } | { magnet: string } | { url: string };
  downloadDir: string;
  paused: boolean;
  labels: string[];
  filesWanted?: number[];
  filesUnwanted?: number[];
  priorityHigh?: number[];
  priorityLow?: number[];
  priorityNormal?: number[];
  peerLimit?: number;
  bandwidthPriority?: Priority;
}

export interface AddResult {
  torrent: RpcTorrent;
  /** The torrent was already there: nothing was added. */
  duplicate: boolean;
}

/** What `torrent-set` may change (each key optional; checked before the backend sees it). */
export interface TorrentChanges {
  bandwidthPriority?: Priority;
  downloadLimit?: number;
  downloadLimited?: boolean;
  uploadLimit?: number;
  uploadLimited?: boolean;
  honorsSessionLimits?: boolean;
  filesWanted?: number[];
  filesUnwanted?: number[];
  priorityHigh?: number[];
  priorityLow?: number[];
  priorityNormal?: number[];
  labels?: string[];
  peerLimit?: number;
  queuePosition?: number;
  seedRatioLimit?: number;
  seedRatioMode?: 0 | 1 | 2;
  seedIdleLimit?: number;
  seedIdleMode?: 0 | 1 | 2;
  /** Announce URLs by tier. */
  trackerList?: string[][];
}

export interface SessionStats {
  activeTorrentCount: number;
  pausedTorrentCount: number;
  torrentCount: number;
  downloadSpeed: number;
  uploadSpeed: number;
  cumulative: TransferStats;
  current: TransferStats;
}

export interface TransferStats {
  uploadedBytes: number;
  downloadedBytes: number;
  filesAdded: number;
  sessionCount: number;
  secondsActive: number;
}

export type QueueMove = 'top' | 'up' | 'down' | 'bottom';

export interface RpcBackend {
  /** Every torrent, in id order. */
  list(): Promise<RpcTorrent[]>;
  /** Ids removed in the last minute (for `recently-active`'s `removed`). */
  recentlyRemoved(): Promise<number[]>;
  add(request: AddRequest): Promise<AddResult>;
  start(ids: number[], options: { now: boolean }): Promise<void>;
  stop(ids: number[]): Promise<void>;
  verify(ids: number[]): Promise<void>;
  reannounce(ids: number[]): Promise<void>;
  remove(ids: number[], options: { deleteData: boolean }): Promise<void>;
  set(ids: number[], changes: TorrentChanges): Promise<void>;
  /** With `move`, the data moves (in the background); without, the data is looked for there. */
  setLocation(ids: number[], location: string, options: { move: boolean }): Promise<void>;
  queueMove(ids: number[], where: QueueMove): Promise<void>;
  /**
   * Session settings under their RPC names (`download-dir`, `speed-limit-down`, ...).
   * The server adds the protocol's own (`version`, `rpc-version`, `session-id`, `units`).
   */
  session(): Promise<Record<string, unknown>>;
  /** Only keys the server let through (SETTABLE_SESSION_KEYS in methods.ts), paths checked. */
  setSession(changes: Record<string, unknown>): Promise<void>;
  stats(): Promise<SessionStats>;
  /** Free and total bytes of the file system holding `path` (checked to be inside the roots). */
  freeSpace(path: string): Promise<{ free: number; total: number }>;
  /** `session-close`: the daemon shuts down after answering. */
  close(): Promise<void>;
}

/** A request the backend (or the server) refuses: `message` becomes the RPC `result`. */
export class RpcRefusal extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RpcRefusal';
  }
}
