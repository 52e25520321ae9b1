/**
 * One torrent in the daemon (or the library's client): what the user asked
 * for (its TorrentRecord) and what it is doing now. A TorrentSession runs one
 * torrent from start to stop and is then spent, so every start makes a new
 * session: the resume state beside the data makes that cheap (nothing
 * verified is fetched again). A magnet first fetches its metadata, which is
 * stored at once so a restart never fetches it twice (magnet-metadata.ts).
 *
 * It never prints: it emits events (see ManagedTorrentEvents) and keeps the
 * last error in `record.errorString`.
 */
import { EventEmitter } from 'node:events';
import { rm } from 'node:fs/promises';
import { buildDiscoveries } from '../discovery/build-discoveries.ts';
import { DiscoveryHub } from '../discovery/hub.ts';
import { InterruptedError } from '../errors.ts';
import type { HashPool } from '../hashing/pool.ts';
import { parseInfoHashOrMagnet } from '../metainfo/index.ts';
import type { Metainfo } from '../metainfo/types.ts';
import { ResumeStore } from '../resume/resume-store.ts';
import {
  TorrentSession,
  type PeerInfo,
  type SessionPhase,
  type SessionStats,
} from '../session/torrent-session.ts';
import { checkPiecesOnDisk, PieceStatus } from '../verify/piece-report.ts';
import type { PeerAddress } from '../net/peer-address.ts';
import { keepKnownPeers, KNOWN_PEERS_KEPT, knownPeersOf } from './known-peers.ts';
import {
  fetchMagnetMetadata,
  releaseCarried,
  type Carried,
  type MetadataEnvironment,
} from './magnet-metadata.ts';
import { checkOutsideSelection, wantedPieces } from './selection-check.ts';
import type { TorrentRecord } from './torrent-record.ts';

/** What a torrent is doing, in the daemon's words (rpc-view.ts maps it to Transmission's codes). */
export type Activity =
  'stopped' | 'queued' | 'metadata' | 'checking' | 'downloading' | 'seeding' | 'error';

/**
 * What the torrent needs from whoever runs it: shared engine parts and the
 * session-wide settings (those a magnet's metadata fetch needs too: see
 * MetadataEnvironment).
 */
export interface TorrentEnvironment extends MetadataEnvironment {
  hashPool: HashPool;
  /** Limits in bytes per second (undefined: none) and the seed goal, session settings applied. */
  limits(record: TorrentRecord): {
    downloadLimit?: number;
    uploadLimit?: number;
    seedRatio?: number;
    maxPeers: number;
  };
  /**
   * Adds the v2 piece layers fetched from peers to the kept metadata of a
   * magnet (the resume state that holds them meanwhile goes once the torrent
   * is complete, and a restart with no peer could then not verify the data).
   * A hybrid's are built from its data in `completeIn`, the folder of a
   * complete download (null: not complete, nothing to build from).
   */
  keepPieceLayers(hash: string, meta: Metainfo, completeIn: string | null): Promise<void>;
}

export interface ManagedTorrentEvents {
  /** The activity changed. */
  activity: [activity: Activity];
  /** A magnet's metadata arrived (and was stored). */
  metadata: [meta: Metainfo];
  progress: [stats: SessionStats];
  'peer-connected': [peer: { key: string; client: string }];
  'piece-verified': [index: number];
  /** Every wanted piece is verified. */
  complete: [];
  warning: [message: string];
  /** The run ended with an error (also kept in record.errorString). */
  error: [error: Error];
  /** A run ended (stopped, failed or reached its seed goal). */
  ended: [];
}

export class ManagedTorrent extends EventEmitter<ManagedTorrentEvents> {
  readonly record: TorrentRecord;
  meta: Metainfo | null;
  readonly #env: TorrentEnvironment;
  #session: TorrentSession | null = null;
  #running: Promise<void> | null = null;
  /** A verify is stopping the run and clearing its resume state: no run may start meanwhile. */
  #verifying = false;
  #abort: AbortController | null = null;
  /** The last run's peers, for the next run (and in the record, for after a restart). */
  #knownPeers: PeerAddress[];
  /** Verified pieces (wire bitfield, high bit first), kept between runs. */
  #have: Uint8Array;
  #activity: Activity = 'stopped';
  /** Counters of the run in progress, added to the record's when it ends. */
  #runDownloaded = 0;
  #runUploaded = 0;
  #checkFraction = 0;
  /** Unix seconds this run started, and of the last transfer. */
  startDate = 0;
  activityDate = 0;
  /** Seconds spent downloading and seeding over past runs. */
  #secondsDownloading = 0;
  #secondsSeeding = 0;
  #phaseSince = 0;
  /** The manager held it back for the queue. */
  queued = false;
  /** Bytes counted before this process took the torrent on (for session-stats' current-stats). */
  readonly #downloadedBefore: number;
  readonly #uploadedBefore: number;

  constructor(record: TorrentRecord, meta: Metainfo | null, env: TorrentEnvironment) {
    super();
    this.record = record;
    this.meta = meta;
    this.#env = env;
    this.#have = new Uint8Array(Math.ceil((meta?.pieceCount ?? 0) / 8));
    if (record.haveOutsideSelection) {
      const kept = Buffer.from(record.haveOutsideSelection, 'base64');
      for (let i = 0; i < this.#have.length && i < kept.length; i++) this.#have[i] = kept[i];
    }
    this.#knownPeers = knownPeersOf(record);
    this.#downloadedBefore = record.downloadedEver;
    this.#uploadedBefore = record.uploadedEver;
    if (record.errorString) this.#activity = 'error';
  }

  get id(): number {
    return this.record.id;
  }

  get running(): boolean {
    return this.#running !== null;
  }

  get activity(): Activity {
    if (this.#running) return this.#activity;
    if (this.queued && !this.record.paused) return 'queued';
    return this.record.errorString ? 'error' : 'stopped';
  }

  /** Still has wanted data to fetch (as far as is known: true until a run has checked). */
  get needsData(): boolean {
    if (this.#running && this.#session) return this.#session.stats().left > 0;
    return this.record.doneDate === 0;
  }

  get have(): Uint8Array {
    return this.#have;
  }

  get checkFraction(): number {
    return this.#activity === 'checking' ? this.#checkFraction : 0;
  }

  /** The session's statistics now (null when not running a session). */
  stats(): SessionStats | null {
    return this.#session?.stats() ?? null;
  }

  peers(): PeerInfo[] {
    return this.#session?.peerInfo() ?? [];
  }

  get downloadedEver(): number {
    return this.record.downloadedEver + (this.#session?.stats().downloaded ?? this.#runDownloaded);
  }

  get uploadedEver(): number {
    return this.record.uploadedEver + (this.#session?.stats().uploaded ?? this.#runUploaded);
  }

  /** Bytes moved by this process (since the daemon started), not counting earlier ones. */
  get transferredHere(): { downloaded: number; uploaded: number } {
    return {
      downloaded: this.downloadedEver - this.#downloadedBefore,
      uploaded: this.uploadedEver - this.#uploadedBefore,
    };
  }

  get secondsDownloading(): number {
    const now = Date.now();
    return Math.round(
      this.#secondsDownloading +
        (this.#activity === 'downloading' && this.#running ? (now - this.#phaseSince) / 1000 : 0),
    );
  }

  get secondsSeeding(): number {
    const now = Date.now();
    return Math.round(
      this.#secondsSeeding +
        (this.#activity === 'seeding' && this.#running ? (now - this.#phaseSince) / 1000 : 0),
    );
  }

  /** Starts a run (a no-op while one runs or a verify is clearing the resume state). */
  start(): void {
    if (this.#running || this.#verifying) return;
    this.queued = false;
    this.record.errorString = '';
    const abort = new AbortController();
    this.#abort = abort;
    this.startDate = Math.floor(Date.now() / 1000);
    // Deferred a turn: #run emits events at once, and a listener must already see us running.
    this.#running = Promise.resolve()
      .then(() => this.#run(abort.signal))
      .finally(() => {
        this.#running = null;
        this.#abort = null;
        this.emit('ended');
      });
  }

  /** Stops the run, if any, and resolves once its state is saved and its files are closed. */
  async stop(): Promise<void> {
    const running = this.#running;
    if (!running) return;
    this.#abort?.abort(new InterruptedError('stopped'));
    await this.#session?.interrupt();
    await running;
  }

  /**
   * Forgets the resume state, so the next run checks every piece on disk by
   * SHA-1 (torrent-verify). The caller stops the torrent first.
   */
  async forgetResumeState(): Promise<void> {
    if (!this.meta) return;
    const store = new ResumeStore(this.record.downloadDir, {
      infoHash: wireHash(this.meta),
      pieceCount: this.meta.pieceCount,
      pieceLength: this.meta.pieceLength,
    });
    await rm(store.snapshotPath, { force: true });
    await rm(store.journalPath, { force: true });
    this.#have.fill(0);
  }

  /**
   * torrent-verify: every piece on disk checked again by SHA-1. A running
   * torrent restarts without its resume state (its start-up check is the
   * verify); a stopped one is checked in place and stays stopped. A running
   * torrent with unwanted files has the pieces only those files hold checked
   * in place first (selection-check.ts): its run's check covers only wanted
   * pieces, and the others would otherwise be forgotten (and fetched again
   * once wanted). A v2-only torrent is checked whole there instead.
   */
  async verify(): Promise<void> {
    const wasRunning = this.running;
    // No restart while the resume state goes: the manager restarts torrents that end unpaused.
    this.#verifying = true;
    try {
      await this.stop();
      await this.forgetResumeState();
    } finally {
      this.#verifying = false;
    }
    const meta = this.meta;
    if (wasRunning && (!meta || this.record.unwanted.length === 0)) {
      this.start();
      return;
    }
    if (!meta) return;
    // Ending unpaused, a torrent that was running is started again by the manager.
    const outsideOnly = wasRunning && meta.pieces !== null;
    this.#running = Promise.resolve()
      .then(() => this.#checkOnly(meta, outsideOnly))
      .finally(() => {
        this.#running = null;
        this.emit('ended');
      });
  }

  /** Checks the data in place; `outsideOnly`: just the pieces outside the selection (the run checks the rest). */
  async #checkOnly(meta: Metainfo, outsideOnly = false): Promise<void> {
    this.#checkFraction = 0;
    this.#setActivity('checking');
    try {
      if (outsideOnly) {
        const unwanted = new Set(this.record.unwanted);
        const good = await checkOutsideSelection(
          this.#env.hashPool,
          meta,
          this.record.downloadDir,
          unwanted,
          (bytes) => (this.#checkFraction = Math.min(1, bytes / meta.spaceSize)),
        );
        for (const index of good) this.#setHave(index);
        return;
      }
      const report = await checkPiecesOnDisk(this.#env.hashPool, meta, this.record.downloadDir, {
        onProgress: (bytes) => (this.#checkFraction = Math.min(1, bytes / meta.spaceSize)),
      });
      report.pieces.forEach((status, index) => {
        if (status === PieceStatus.good) this.#setHave(index);
      });
      if (report.good === meta.pieceCount && !this.record.doneDate)
        this.record.doneDate = Math.floor(Date.now() / 1000);
    } catch (error) {
      this.record.errorString = (error as Error).message;
    } finally {
      this.#setActivity(this.record.errorString ? 'error' : 'stopped');
    }
  }

  async #run(signal: AbortSignal): Promise<void> {
    let carried: Carried | null = null;
    try {
      if (!this.meta) carried = await this.#fetchMetadata(signal);
      if (signal.aborted) return;
      // From here the session releases what the fetch carried over, whatever happens.
      const handedOver = carried;
      carried = null;
      await this.#runSession(this.meta!, handedOver, signal);
    } catch (error) {
      if (signal.aborted || error instanceof InterruptedError) return;
      const failure = error instanceof Error ? error : new Error(String(error));
      this.record.errorString = failure.message;
      this.emit('error', failure);
    } finally {
      if (carried) await releaseCarried(carried, 'not started');
      this.#endPhase();
      this.#setActivity(this.record.errorString ? 'error' : 'stopped');
    }
  }

  async #fetchMetadata(signal: AbortSignal): Promise<Carried> {
    this.#setActivity('metadata');
    const { meta, carried } = await fetchMagnetMetadata(
      this.record.magnet!,
      this.record.hash,
      this.#env,
      (fetched) => this.#newHub(fetched),
      signal,
    );
    this.meta = meta;
    this.record.name = meta.name;
    this.#have = new Uint8Array(Math.ceil(meta.pieceCount / 8));
    this.emit('metadata', meta);
    return carried;
  }

  #newHub(meta: Metainfo): DiscoveryHub {
    // A magnet's own peers (x.pe) stay a source after its metadata is known: after a
    // restart they may be the only peers it knows.
    const magnetPeers = this.record.magnet ? parseInfoHashOrMagnet(this.record.magnet).peers : [];
    return new DiscoveryHub(
      buildDiscoveries({
        trackers: this.record.trackerList ?? meta.trackers,
        peers: magnetPeers,
        knownPeers: this.#knownPeers,
        dht: this.#env.dht,
        isPrivate: meta.private,
      }),
    );
  }

  async #runSession(meta: Metainfo, carried: Carried | null, signal: AbortSignal): Promise<void> {
    const limits = this.#env.limits(this.record);
    const unwanted = new Set(this.record.unwanted);
    const session = new TorrentSession({
      meta,
      outDir: this.record.downloadDir,
      hashPool: this.#env.hashPool,
      client: this.#env.client,
      selectedFiles:
        unwanted.size === 0
          ? null
          : new Set(meta.files.map((_, i) => i).filter((i) => !unwanted.has(i))),
      discoveries: carried?.hub ?? this.#newHub(meta),
      handedOff: carried?.connections,
      peerId: carried?.peerId,
      maxPeers: limits.maxPeers,
      downloadLimit: limits.downloadLimit,
      uploadLimit: limits.uploadLimit,
      seedRatio: limits.seedRatio,
      seedForever: limits.seedRatio === undefined,
      version: this.#env.version,
      signal,
    });
    this.#session = session;
    this.#runDownloaded = 0;
    this.#runUploaded = 0;
    this.#watch(session);
    try {
      await session.run();
      // The seed goal was met: Transmission stops such a torrent, and so do we.
      this.record.paused = true;
    } finally {
      await this.#keepPieceLayers(meta);
      this.#knownPeers = session.knownAddresses(KNOWN_PEERS_KEPT);
      keepKnownPeers(this.record, this.#knownPeers);
      const stats = session.stats();
      this.record.downloadedEver += stats.downloaded;
      this.record.uploadedEver += stats.uploaded;
      this.#runDownloaded = 0;
      this.#runUploaded = 0;
      this.#session = null;
    }
  }

  #watch(session: TorrentSession): void {
    session.on('phase', (phase) => this.#onPhase(phase));
    session.on('check-progress', (done, total) => {
      this.#checkFraction = total > 0 ? done / total : 0;
    });
    session.on('check-done', (_found, _wanted, found) => {
      // The check covered the wanted pieces only: the others keep what was known of them.
      const wanted = wantedPieces(session.meta, new Set(this.record.unwanted));
      const outside = this.#have.map((byte, i) => byte & ~wanted[i]);
      const anyOutside = outside.some((byte) => byte !== 0);
      if (anyOutside) this.record.haveOutsideSelection = Buffer.from(outside).toString('base64');
      else delete this.record.haveOutsideSelection;
      this.#have = outside;
      for (const index of found) this.#setHave(index);
    });
    session.on('piece-verified', (index) => {
      this.#setHave(index);
      this.activityDate = Math.floor(Date.now() / 1000);
      this.emit('piece-verified', index);
    });
    session.on('progress', (stats) => this.emit('progress', stats));
    session.on('peer-connected', (peer) => this.emit('peer-connected', peer));
    session.on('warning', (message) => this.emit('warning', message));
    session.on('complete', () => {
      if (!this.record.doneDate) this.record.doneDate = Math.floor(Date.now() / 1000);
      void this.#keepPieceLayers(session.meta, this.record.downloadDir);
      this.emit('complete');
    });
  }

  async #keepPieceLayers(meta: Metainfo, completeIn: string | null = null): Promise<void> {
    if (!this.record.magnet) return;
    await this.#env
      .keepPieceLayers(this.record.hash, meta, completeIn)
      .catch((error: unknown) =>
        this.emit('warning', `could not keep the piece layers: ${(error as Error).message}`),
      );
  }

  #onPhase(phase: SessionPhase): void {
    const activity: Activity | null =
      phase === 'checking'
        ? 'checking'
        : phase === 'downloading'
          ? 'downloading'
          : phase === 'seeding'
            ? 'seeding'
            : null;
    if (activity) this.#setActivity(activity);
  }

  #setActivity(activity: Activity): void {
    if (activity === this.#activity) return;
    this.#endPhase();
    this.#activity = activity;
    this.#phaseSince = Date.now();
    this.emit('activity', activity);
  }

  /** Adds the time spent in the phase that ends to its total. */
  #endPhase(): void {
    const seconds = (Date.now() - this.#phaseSince) / 1000;
    if (this.#activity === 'downloading') this.#secondsDownloading += seconds;
    if (this.#activity === 'seeding') this.#secondsSeeding += seconds;
    this.#phaseSince = Date.now();
  }

  #setHave(index: number): void {
    if (index >> 3 < this.#have.length) this.#have[index >> 3] |= 0x80 >> (index & 7);
  }
}

/** The 20-byte hash peers use (the truncated v2 hash for v2-only torrents). */
export function wireHash(meta: Metainfo): Uint8Array {
  return (meta.infoHash ?? meta.infoHashV2!.subarray(0, 20)) as Uint8Array;
}

/** The info-hash as the daemon keys torrents: lower-case hex of the wire hash. */
export function hashKey(meta: Metainfo): string {
  return Buffer.from(wireHash(meta)).toString('hex');
}
