/**
 * What the TUI shows, in its own plain types, and the seam it reads them
 * through. `TuiSource` is everything the screen needs from whatever runs the
 * torrents: rpc-source.ts implements it over the Transmission RPC (shoal
 * daemon, transmission-daemon); a one-download adapter (`shoal download
 * --tui`) can implement it over one session, and the views do not change.
 */

/** Transmission's status codes, as `torrent-get` reports them. */
export type StatusCode = 0 | 1 | 2 | 3 | 4 | 5 | 6;

export interface TuiTorrent {
  id: number;
  name: string;
  status: StatusCode;
  /** 0 none; 1 tracker warning; 2 tracker error; 3 local error. */
  error: number;
  errorString: string;
  /** 0..1 of the wanted data. */
  percentDone: number;
  /** 0..1 of a running verify. */
  recheckProgress: number;
  sizeWhenDone: number;
  downloadedEver: number;
  uploadedEver: number;
  rateDownload: number;
  rateUpload: number;
  peersConnected: number;
  /** -1 when nothing was downloaded yet (Transmission's "not applicable"). */
  uploadRatio: number;
  /** Seconds; -1 not available, -2 unknown. */
  eta: number;
  addedDate: number;
  /** Transmission's isFinished: stopped because it is done, not paused by someone (shown as Finished). */
  isFinished?: boolean;
}

export interface TuiFile {
  index: number;
  /** `/`-separated path, the torrent's folder first for multi-file torrents. */
  name: string;
  length: number;
  bytesCompleted: number;
  wanted: boolean;
  /** -1 low, 0 normal, 1 high. */
  priority: number;
}

export interface TuiPeer {
  address: string;
  port: number;
  clientName: string;
  /** Transmission's flag letters (D/d/U/u/E/I/T/X/H...). */
  flagStr: string;
  rateToClient: number;
  rateToPeer: number;
  /** 0..1; -1 unknown (shown as a dash). */
  progress: number;
}

export interface TuiTracker {
  tier: number;
  announce: string;
  lastAnnounceResult: string;
  lastAnnounceSucceeded: boolean;
  lastAnnounceTime: number;
  nextAnnounceTime: number;
  seederCount: number;
  leecherCount: number;
}

export interface TuiPieces {
  pieceCount: number;
  /** Bitfield, high bit first. */
  bitfield: Uint8Array;
}

export type DetailTab = 'files' | 'peers' | 'trackers' | 'pieces';
export const DETAIL_TABS: readonly DetailTab[] = ['files', 'peers', 'trackers', 'pieces'];

export interface TuiDetail {
  id: number;
  files?: TuiFile[];
  peers?: TuiPeer[];
  trackers?: TuiTracker[];
  pieces?: TuiPieces;
}

/** One poll of the list: full (every torrent) or only the recently active ones plus removed ids. */
export interface ListUpdate {
  full: boolean;
  torrents: TuiTorrent[];
  removed: number[];
}

export interface SessionInfo {
  /** Where the source adds torrents by default, and the free space there (-1 unknown). */
  downloadDir: string;
  freeSpace: number;
  version: string;
}

export interface Limits {
  /** Bytes per second; undefined: unlimited. */
  download?: number;
  upload?: number;
}

/**
 * What a source rejects an action with when it answered and cannot do it
 * (a one-download view cannot add or remove torrents): the action's message
 * says why, and the link to the source is not marked away for it.
 */
export class ActionRefused extends Error {}

export interface TuiSource {
  /** Where the source is, for the status bar (`127.0.0.1:9091`). */
  readonly address: string;
  list(full: boolean): Promise<ListUpdate>;
  detail(id: number, tab: DetailTab): Promise<TuiDetail>;
  session(): Promise<SessionInfo>;
  start(ids: number[]): Promise<void>;
  stop(ids: number[]): Promise<void>;
  verify(ids: number[]): Promise<void>;
  remove(ids: number[], deleteData: boolean): Promise<void>;
  /** A magnet link, an http(s) URL, or a path to a .torrent file on this machine. */
  add(source: string): Promise<void>;
  setWanted(id: number, files: number[], wanted: boolean): Promise<void>;
  setPriority(id: number, files: number[], priority: number): Promise<void>;
  setLimits(id: number, limits: Limits): Promise<void>;
}
