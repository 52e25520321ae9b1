/**
 * What the session views show, kept up to date from the engine's events: the
 * phase, the latest stats, per-file progress (verified pieces mapped onto files
 * through the piece layout), peer sources and recent warnings. A plain object
 * snapshot of it is what the frame renderer draws, so frames can be tested
 * from recorded events without a terminal.
 */
import type { Metainfo } from '../core/metainfo/types.ts';
import type { PeerInfo, SessionStats, TorrentSession } from '../core/session/torrent-session.ts';
import { PieceLayout } from '../core/storage/layout.ts';
import type { SourceCounters } from './sources.ts';

export type ModelSession = Pick<TorrentSession, 'on' | 'stats' | 'peerInfo' | 'phase'> & {
  meta: Pick<Metainfo, 'name' | 'files' | 'pieceLength' | 'pieceCount' | 'spaceSize'>;
};

export interface FileProgress {
  index: number;
  path: string;
  length: number;
  /** Verified pieces of the file / all its pieces (pieces it shares with neighbours included). */
  fraction: number;
}

export interface SessionSnapshot {
  name: string;
  verb: string;
  phase: SessionStats['phase'];
  check: { bytes: number; total: number; found: number | null; wanted: number | null };
  stats: SessionStats;
  /** Selected files with some but not all pieces verified, in torrent order. */
  filesActive: FileProgress[];
  filesDone: number;
  filesTotal: number;
  sources: {
    trackers: number;
    trackersAnswered: number;
    dhtPeers: number;
    dhtNodes: number | null;
    pexPeers: number;
  };
  /** Busiest peers first (verbose only, else null). */
  peers: PeerInfo[] | null;
  warnings: string[];
}

interface TrackedFile {
  index: number;
  path: string;
  length: number;
  first: number;
  last: number;
  have: number;
}

export class SessionModel {
  readonly #session: ModelSession;
  readonly #verb: string;
  readonly #sources: SourceCounters | null;
  readonly #verbose: boolean;
  readonly #selected: ReadonlySet<number> | null;
  /**
   * In torrent order, so their piece ranges never go backwards (see
   * #filesOfPiece). Built at the first snapshot, not with the model: under
   * --quiet, --json or --events that is at the end of the run, if at all, and
   * a download's start (on the way to its first piece) has no use for it.
   */
  #files: TrackedFile[] | null = null;
  /** 1 per verified piece: a byte each, not a Set entry (a million pieces is 1 MiB). */
  readonly #verified: Uint8Array;
  readonly #warnings: string[] = [];
  #stats: SessionStats;
  #check = { bytes: 0, total: 0, found: null as number | null, wanted: null as number | null };

  constructor(
    session: ModelSession,
    options: {
      verb: string;
      selected?: readonly number[] | null;
      sources?: SourceCounters | null;
      verbose?: boolean;
    },
  ) {
    this.#session = session;
    this.#verb = options.verb;
    this.#sources = options.sources ?? null;
    this.#verbose = options.verbose ?? false;
    this.#stats = session.stats();
    this.#verified = new Uint8Array(session.meta.pieceCount);
    this.#selected = options.selected ? new Set(options.selected) : null;

    session.on('progress', (stats) => {
      this.#stats = stats;
    });
    session.on('check-progress', (bytes, total) => {
      this.#check.bytes = bytes;
      this.#check.total = total;
    });
    session.on('check-done', (found, wanted, pieces) => {
      this.#check.found = found;
      this.#check.wanted = wanted;
      for (const piece of pieces ?? []) this.#pieceVerified(piece);
      this.#stats = session.stats();
    });
    session.on('piece-verified', (index) => this.#pieceVerified(index));
    session.on('warning', (message) => {
      this.#warnings.push(message);
      if (this.#warnings.length > 3) this.#warnings.shift();
    });
  }

  #pieceVerified(index: number): void {
    if (this.#verified[index] === 1) return;
    this.#verified[index] = 1;
    if (this.#files) for (const file of this.#filesOfPiece(this.#files, index)) file.have++;
  }

  /** The selected files with their verified pieces counted so far (built once, see #files). */
  #trackedFiles(): TrackedFile[] {
    if (this.#files) return this.#files;
    const meta = this.#session.meta;
    const layout = new PieceLayout({
      pieceLength: meta.pieceLength,
      pieceCount: meta.pieceCount,
      spaceSize: meta.spaceSize,
      files: meta.files,
    });
    const files: TrackedFile[] = [];
    meta.files.forEach((file, index) => {
      if (file.padding) return;
      if (this.#selected && !this.#selected.has(index)) return;
      const range = layout.piecesOfFile(index);
      if (!range) return;
      let have = 0;
      for (let piece = range[0]; piece <= range[1]; piece++) have += this.#verified[piece]!;
      files.push({
        index,
        path: file.path.join('/'),
        length: file.length,
        first: range[0],
        last: range[1],
        have,
      });
    });
    this.#files = files;
    return files;
  }

  /**
   * The tracked files piece `index` touches. Looked up, not kept per piece: a
   * map of every piece held ~150 MB at a million pieces. Files lie in torrent
   * order, so both ends of their piece ranges only grow: binary search for the
   * first whose range ends at or after the piece, then walk while they start
   * at or before it.
   */
  #filesOfPiece(files: TrackedFile[], index: number): TrackedFile[] {
    let low = 0;
    let high = files.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (files[mid]!.last < index) low = mid + 1;
      else high = mid;
    }
    const touched: TrackedFile[] = [];
    for (let i = low; i < files.length && files[i]!.first <= index; i++) touched.push(files[i]!);
    return touched;
  }

  /** Fresh stats from the engine (between its once-a-second progress events). */
  refresh(): void {
    this.#stats = this.#session.stats();
  }

  snapshot(): SessionSnapshot {
    const pieces = (file: TrackedFile) => file.last - file.first + 1;
    const files = this.#trackedFiles();
    const active = files.filter((file) => file.have > 0 && file.have < pieces(file));
    const sources = this.#sources;
    return {
      name: this.#session.meta.name,
      verb: this.#verb,
      phase: this.#session.phase,
      check: { ...this.#check },
      stats: this.#stats,
      filesActive: active.map((file) => ({
        index: file.index,
        path: file.path,
        length: file.length,
        fraction: file.have / pieces(file),
      })),
      filesDone: files.filter((file) => file.have === pieces(file)).length,
      filesTotal: files.length,
      sources: {
        trackers: sources?.trackers ?? 0,
        trackersAnswered: sources?.answered.size ?? 0,
        dhtPeers: sources?.dhtPeers ?? 0,
        dhtNodes: sources?.dhtNodes() ?? null,
        pexPeers: sources?.pexPeers ?? 0,
      },
      peers: this.#verbose
        ? this.#session
            .peerInfo()
            .sort((a, b) => b.downloadRate + b.uploadRate - (a.downloadRate + a.uploadRate))
        : null,
      warnings: [...this.#warnings],
    };
  }
}
