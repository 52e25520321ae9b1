/**
 * What the daemon keeps about each torrent across restarts (one entry of
 * torrents.json). Plain JSON: the metainfo itself is stored beside it as a
 * .torrent file; what a torrent is doing right now is not kept, only what the
 * user asked for (`paused`), from which the state after a restart follows.
 */
import type { Priority } from '../rpc/backend.ts';

export interface TorrentRecord {
  id: number;
  /** v1 info-hash in hex (or the truncated v2 one): the key of everything else. */
  hash: string;
  /** The magnet link it was added from (kept until, and after, its metadata is fetched). */
  magnet: string | null;
  /** Display name until the metadata is known. */
  name: string;
  downloadDir: string;
  /** The user stopped it (torrent-stop, or added paused). */
  paused: boolean;
  labels: string[];
  /** File indexes not wanted (Transmission's files-unwanted); empty: all wanted. */
  unwanted: number[];
  /**
   * Verified pieces that no wanted file touches (base64 wire bitfield; absent:
   * none). A run checks only wanted pieces, so this keeps the bytes of an
   * unwanted file that is on disk counted in files/fileStats across restarts.
   */
  haveOutsideSelection?: string;
  /** Per-file priority by index (absent: normal). */
  priorities: Record<string, Priority>;
  addedDate: number;
  doneDate: number;
  /** Bytes over every run before this one (the running session adds its own). */
  downloadedEver: number;
  uploadedEver: number;
  /** Bytes per second; 0 with `downloadLimited` false: unlimited. */
  downloadLimit: number;
  downloadLimited: boolean;
  uploadLimit: number;
  uploadLimited: boolean;
  honorsSessionLimits: boolean;
  bandwidthPriority: Priority;
  peerLimit: number;
  seedRatioLimit: number;
  /** 0 session default, 1 this torrent's limit, 2 unlimited (Transmission's modes). */
  seedRatioMode: 0 | 1 | 2;
  /** Minutes without upload before a seed stops. */
  seedIdleLimit: number;
  seedIdleMode: 0 | 1 | 2;
  queuePosition: number;
  /** Announce URLs by tier set over RPC (null: the torrent's own). */
  trackerList: string[][] | null;
  /** The last error, kept so a torrent that failed says why after a restart. */
  errorString: string;
  /**
   * Peer addresses the last run knew, for the next one (after a restart too,
   * as libtorrent and Transmission keep theirs); checked again when read.
   */
  knownPeers?: { host: string; port: number }[];
}

export function newRecord(
  fields: Pick<TorrentRecord, 'id' | 'hash' | 'magnet' | 'name' | 'downloadDir' | 'paused'> &
    Partial<TorrentRecord>,
): TorrentRecord {
  return {
    labels: [],
    unwanted: [],
    priorities: {},
    addedDate: Math.floor(Date.now() / 1000),
    doneDate: 0,
    downloadedEver: 0,
    uploadedEver: 0,
    downloadLimit: 100_000,
    downloadLimited: false,
    uploadLimit: 100_000,
    uploadLimited: false,
    honorsSessionLimits: true,
    bandwidthPriority: 0,
    peerLimit: 50,
    seedRatioLimit: 2,
    seedRatioMode: 0,
    seedIdleLimit: 30,
    seedIdleMode: 0,
    queuePosition: 0,
    trackerList: null,
    errorString: '',
    ...fields,
  };
}
