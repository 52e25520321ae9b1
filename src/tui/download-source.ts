/**
 * The TUI's source for `shoal download --tui`: the one download this process
 * runs, shown through the same `TuiSource` seam the daemon's RPC uses, so the
 * views do not change. Before the torrent is known (a magnet's metadata fetch)
 * it shows one placeholder row; from `attach` on it reads the session.
 *
 * It only watches: nothing here drives the engine. The session has no pause,
 * no verify on demand, no file selection or limits to change while it runs,
 * and a one-download process has nothing to add or remove, so those actions
 * are refused with a one-line reason (ActionRefused) the TUI shows.
 */
import { statfs } from 'node:fs/promises';
import type { SessionPhase, TorrentSession } from '../core/session/torrent-session.ts';
import type { SourceEvent } from '../ui/sources.ts';
import {
  ActionRefused,
  type DetailTab,
  type ListUpdate,
  type SessionInfo,
  type StatusCode,
  type TuiDetail,
  type TuiFile,
  type TuiPeer,
  type TuiSource,
  type TuiTorrent,
  type TuiTracker,
} from './types.ts';

/** The one row's id. */
export const DOWNLOAD_ID = 1;

/** What the source reads from a session (a TorrentSession; tests may pass a stand-in). */
export type WatchedSession = Pick<
  TorrentSession,
  'meta' | 'phase' | 'stats' | 'peerInfo' | 'on' | 'storage'
>;

export interface DownloadSourceOptions {
  /** The row's name until the torrent is known (a magnet's display name, a file name). */
  name: string;
  outDir: string;
  version: string;
  /** Clock (tests fix it). */
  now?: () => number;
}

export interface AttachOptions {
  /** Selected file indexes (null: all). */
  selected: readonly number[] | null;
  /** Tracker tiers the download announces to. */
  trackers: readonly (readonly string[])[];
  /** Where tracker answers are heard (SourceCounters.onEvent). */
  sources?: { onEvent(listener: (event: SourceEvent) => void): void };
}

const REFUSALS = {
  pause: 'no pause here: q stops, the same command resumes',
  verify: 'no verify here: data is checked at start (and with --verify)',
  files: 'files are fixed here: use --select/--exclude',
  limits: 'limits are fixed here: use --download-limit/--upload-limit',
  torrents: 'one download only: shoal daemon and shoal tui manage many',
};

export class DownloadSource implements TuiSource {
  readonly address = 'download';
  readonly #options: DownloadSourceOptions;
  readonly #addedDate: number;
  #session: WatchedSession | null = null;
  #selected: ReadonlySet<number> | null = null;
  #trackers: { tier: number; announce: string }[] = [];
  /** Tracker URL -> its latest answer: when, and how many peers. */
  readonly #answers = new Map<string, { at: number; peers: number }>();
  /** Verified pieces, high bit first (from the session's events). */
  #have = new Uint8Array(0);
  /** Bytes of each file inside verified pieces. */
  #fileBytes: number[] = [];
  #checked = { done: 0, total: 0 };
  #finished = false;

  constructor(options: DownloadSourceOptions) {
    this.#options = options;
    this.#addedDate = Math.floor(this.#now() / 1000);
  }

  /** The torrent is known and its session made (before it runs, so no piece is missed). */
  attach(session: WatchedSession, options: AttachOptions): void {
    this.#session = session;
    this.#selected = options.selected ? new Set(options.selected) : null;
    this.#trackers = options.trackers.flatMap((tier, t) =>
      tier.map((announce) => ({ tier: t, announce })),
    );
    this.#have = new Uint8Array(Math.ceil(session.meta.pieceCount / 8));
    this.#fileBytes = session.meta.files.map(() => 0);
    session.on('check-progress', (done, total) => (this.#checked = { done, total }));
    session.on('check-done', (_found, _wanted, found) => {
      for (const index of found) this.#pieceVerified(index);
    });
    session.on('piece-verified', (index) => this.#pieceVerified(index));
    options.sources?.onEvent((event) => {
      if (event.type === 'tracker')
        this.#answers.set(event.url, { at: Math.floor(this.#now() / 1000), peers: event.peers });
    });
  }

  /** The whole run ended well (download, --verify, receipt): the row reads Finished. */
  finish(): void {
    this.#finished = true;
  }

  async list(): Promise<ListUpdate> {
    return { full: true, torrents: [this.#torrent()], removed: [] };
  }

  async detail(id: number, tab: DetailTab): Promise<TuiDetail> {
    const session = this.#session;
    if (!session) {
      // Nothing is known before the metadata: empty tabs, not "loading" forever.
      const empty = { files: [], peers: [], trackers: [] };
      return tab === 'pieces' ? { id } : { id, [tab]: empty[tab] };
    }
    switch (tab) {
      case 'files':
        return { id, files: this.#files(session) };
      case 'peers':
        return { id, peers: session.peerInfo().map(toTuiPeer) };
      case 'trackers':
        return { id, trackers: this.#trackerRows() };
      case 'pieces':
        return {
          id,
          pieces: { pieceCount: session.meta.pieceCount, bitfield: this.#have.slice() },
        };
    }
  }

  async session(): Promise<SessionInfo> {
    return {
      downloadDir: this.#options.outDir,
      freeSpace: await freeSpace(this.#options.outDir),
      version: this.#options.version,
    };
  }

  async start(): Promise<void> {
    throw new ActionRefused(REFUSALS.pause);
  }

  async stop(): Promise<void> {
    throw new ActionRefused(REFUSALS.pause);
  }

  async verify(): Promise<void> {
    throw new ActionRefused(REFUSALS.verify);
  }

  async remove(): Promise<void> {
    throw new ActionRefused(REFUSALS.torrents);
  }

  async add(): Promise<void> {
    throw new ActionRefused(REFUSALS.torrents);
  }

  async setWanted(): Promise<void> {
    throw new ActionRefused(REFUSALS.files);
  }

  async setPriority(): Promise<void> {
    throw new ActionRefused(REFUSALS.files);
  }

  async setLimits(): Promise<void> {
    throw new ActionRefused(REFUSALS.limits);
  }

  #now(): number {
    return this.#options.now?.() ?? Date.now();
  }

  #pieceVerified(index: number): void {
    const mask = 0x80 >> (index & 7);
    if (this.#have[index >> 3]! & mask) return;
    this.#have[index >> 3]! |= mask;
    for (const span of this.#session!.storage.layout.fileSpans(index))
      if (span.kind === 'data') this.#fileBytes[span.fileIndex]! += span.length;
  }

  #torrent(): TuiTorrent {
    const row: TuiTorrent = {
      id: DOWNLOAD_ID,
      name: this.#options.name,
      status: 4,
      error: 0,
      errorString: '',
      percentDone: 0,
      recheckProgress: 0,
      sizeWhenDone: 0,
      downloadedEver: 0,
      uploadedEver: 0,
      rateDownload: 0,
      rateUpload: 0,
      peersConnected: 0,
      uploadRatio: -1,
      eta: -1,
      addedDate: this.#addedDate,
    };
    const session = this.#session;
    if (!session) return row;
    const stats = session.stats();
    const downloading = stats.phase === 'downloading';
    const rateDownload = Math.round(stats.downloadRate);
    return {
      ...row,
      name: session.meta.name,
      status: this.#finished ? 0 : STATUS_OF_PHASE[stats.phase],
      isFinished: this.#finished,
      percentDone: stats.totalWanted > 0 ? stats.haveWanted / stats.totalWanted : 1,
      recheckProgress: this.#checked.total > 0 ? this.#checked.done / this.#checked.total : 0,
      sizeWhenDone: stats.totalWanted,
      downloadedEver: stats.downloaded,
      uploadedEver: stats.uploaded,
      rateDownload: downloading ? rateDownload : 0,
      rateUpload: this.#finished ? 0 : Math.round(stats.uploadRate),
      peersConnected: stats.peers,
      uploadRatio: stats.downloaded > 0 ? stats.uploaded / stats.downloaded : -1,
      eta: downloading && rateDownload > 0 ? Math.round(stats.left / rateDownload) : -1,
    };
  }

  #files(session: WatchedSession): TuiFile[] {
    const files: TuiFile[] = [];
    session.meta.files.forEach((file, index) => {
      if (file.padding) return;
      files.push({
        index,
        name: file.path.join('/'),
        length: file.length,
        bytesCompleted: this.#fileBytes[index]!,
        wanted: this.#selected === null || this.#selected.has(index),
        priority: 0,
      });
    });
    return files;
  }

  #trackerRows(): TuiTracker[] {
    return this.#trackers.map(({ tier, announce }) => {
      const answer = this.#answers.get(announce);
      return {
        tier,
        announce,
        lastAnnounceResult: answer ? `Success (${answer.peers} peers)` : '',
        lastAnnounceSucceeded: answer !== undefined,
        lastAnnounceTime: answer?.at ?? 0,
        // Announces are timed by the tracker's interval inside the engine: not known here.
        nextAnnounceTime: 0,
        seederCount: -1,
        leecherCount: -1,
      };
    });
  }
}

/** Transmission's status codes for the session's phases (stopping: still counted as running). */
const STATUS_OF_PHASE: Record<SessionPhase, StatusCode> = {
  checking: 2,
  downloading: 4,
  seeding: 6,
  stopping: 4,
  done: 0,
};

/** A peer as the Peers tab shows it; flags as Transmission spells them (D: getting data, d: choked). */
function toTuiPeer(peer: ReturnType<WatchedSession['peerInfo']>[number]): TuiPeer {
  const colon = peer.key.lastIndexOf(':');
  const flags = peer.interested ? (peer.choked ? 'd' : 'D') : '';
  return {
    address: peer.key.slice(0, colon).replace(/^\[|\]$/g, ''),
    port: Number(peer.key.slice(colon + 1)) || 0,
    clientName: peer.client,
    flagStr: `${flags}${peer.uploadRate > 0 ? 'U' : ''}`,
    rateToClient: Math.round(peer.downloadRate),
    rateToPeer: Math.round(peer.uploadRate),
    // The session does not say how much each peer has.
    progress: -1,
  };
}

/** Bytes free for an unprivileged user where the download goes (-1 unknown, e.g. not made yet). */
async function freeSpace(dir: string): Promise<number> {
  try {
    const info = await statfs(dir);
    return info.bavail * info.bsize;
  } catch {
    return -1;
  }
}
