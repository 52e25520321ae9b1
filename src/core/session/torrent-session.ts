/**
 * The engine for one torrent, as a lifecycle: check the data already on
 * disk, connect, download, seed, stop. The session is the conductor: each
 * phase is visible in `run()`, and each job has its own home beside this
 * file (docs/ARCHITECTURE.md, "The engine's parts"): the peer pool, the
 * download scheduler, the uploader, peer extensions, the resume state, BEP 52
 * piece layers, web seeds, the client we run on, discovery (built and wired
 * to each other in session-parts.ts); and the steps that stand on their own
 * (session-startup, -rounds, -completion, -teardown).
 *
 * It never prints; it emits typed events (see SessionEvents) that renderers
 * subscribe to, and `run()` resolves with a summary or rejects with a
 * ShoalError carrying the exit code. An exception that escapes the engine
 * (a bug) also ends the run: it is never blamed on a peer.
 *
 * Invariants:
 * - Only pieces whose hash checked out are written to disk or announced.
 * - Every request we have outstanding is known to the picker; a peer that
 *   leaves, chokes us or times out gives its blocks back.
 * - Peers are keyed by address and port, never IP alone.
 */
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { ClientTorrent } from '../client/client.ts';
import { swarmHashes } from '../client/swarm-hashes.ts';
import type { TransferStats } from '../discovery/discovery.ts';
import type { DiscoveryHub } from '../discovery/hub.ts';
import { InterruptedError } from '../errors.ts';
import type { Metainfo } from '../metainfo/types.ts';
import type { PeerAddress } from '../net/peer-address.ts';
import type { DiskStorage } from '../storage/disk-storage.ts';
import type { PiecePicker } from '../swarm/piece-picker.ts';
import { generatePeerId, peerIdPrefix } from '../wire/peer-id.ts';
import type { DownloadScheduler } from './download-scheduler.ts';
import type { PieceLayerPhase } from './piece-layer-phase.ts';
import type { PeerPool } from './peer-pool.ts';
import { seedGoalMet, seedsAfterCompletion } from './seed-goal.ts';
import type { SessionClient } from './session-client.ts';
import { finishFiles, turnToSeeding } from './session-completion.ts';
import { SessionEnding } from './session-ending.ts';
import { recheckData, wantedPieces } from './session-data.ts';
import { buildSessionParts } from './session-parts.ts';
import type { SessionResume } from './session-resume.ts';
import type { SessionRounds } from './session-rounds.ts';
import {
  checkOutDir,
  peersDuringCheck,
  refuseMissingData,
  tellPeersWhatWeHave,
} from './session-startup.ts';
import { peerInfo, sessionStats, wantedBytesLeft } from './session-stats.ts';
import { tearDown } from './session-teardown.ts';
import type {
  PeerInfo,
  SessionEvents,
  SessionOptions,
  SessionPhase,
  SessionStats,
  SessionSummary,
} from './session-types.ts';
import { stallError } from './stall.ts';
import type { Uploader } from './uploader.ts';
import type { UploadReadStats } from './upload-reader.ts';
import { makeWebSeedSource } from './web-seed-setup.ts';
import type { WebSeedSource } from './web-seed-source.ts';

export { MAX_QUEUED_UPLOAD_BYTES } from './uploader.ts';
export { MAX_CANDIDATES } from './peer-pool.ts';

export type * from './session-types.ts';

const TICK_MS = 1000;

export class TorrentSession extends EventEmitter<SessionEvents> implements ClientTorrent {
  readonly meta: Metainfo;
  readonly storage: DiskStorage;
  readonly peerId: Uint8Array;
  readonly infoHash: Uint8Array;
  /** A hybrid is reached by either hash (swarm-hashes.ts). */
  readonly infoHashes: readonly Uint8Array[];
  readonly #options: SessionOptions;

  // Its parts, built and wired to each other by buildSessionParts (session-parts.ts).
  readonly #picker: PiecePicker;
  readonly #client: SessionClient;
  readonly #discovery: DiscoveryHub;
  readonly #resume: SessionResume;
  /** BEP 52: fetching missing piece layers; no block is requested while it runs. */
  readonly #layers: PieceLayerPhase;
  readonly #download: DownloadScheduler;
  readonly #upload: Uploader;
  readonly #pool: PeerPool;
  readonly #rounds: SessionRounds;
  /** Made when downloading starts, if the torrent or the user named web seeds. */
  #webSeeds: WebSeedSource | null = null;

  // The lifecycle's state.
  #phase: SessionPhase = 'checking';
  readonly #startedAt = Date.now();
  /**
   * The fresh snapshot and empty journal written after the check. Peers are
   * found meanwhile: the snapshot's fsync was on the way to the first byte
   * (39 ms in a traced run on a busy machine), and records wait for it on
   * the store's own queue.
   */
  #journalStarted: Promise<void> = Promise.resolve();
  #tick: NodeJS.Timeout | null = null;
  #lastProgressAt = Date.now();
  #completedAt = 0;
  readonly #ending = new SessionEnding({
    shutdown: async () => {
      await this.#shutdown();
      this.#setPhase('done');
    },
    summary: () => ({
      downloaded: this.#download.downloaded,
      uploaded: this.#upload.uploaded,
      seconds: (Date.now() - this.#startedAt) / 1000,
      peers: this.#pool.peersSeen,
    }),
  });
  /** Peers are found during the existing-data check (see peersDuringCheck). */
  readonly #peersDuringCheck: boolean;
  /** Joined the client and started discovery before the check. */
  #joinedBeforeCheck = false;

  constructor(options: SessionOptions) {
    super();
    this.#options = options;
    this.meta = options.meta;
    const meta = options.meta;
    this.infoHash = (meta.infoHash ?? meta.infoHashV2!.subarray(0, 20)) as Uint8Array;
    this.infoHashes = swarmHashes(meta);
    this.peerId = options.peerId ?? generatePeerId(peerIdPrefix(options.version ?? '0.1.0'));
    this.#peersDuringCheck = peersDuringCheck(options);
    const parts = buildSessionParts(
      options,
      { infoHash: this.infoHash, peerId: this.peerId },
      {
        events: this,
        phase: () => this.#phase,
        addPeers: (peers, source) => this.addPeers(peers, source),
        pieceVerified: (index, print) => this.#onPieceVerified(index, print),
        mayDial: () => this.#mayDial(),
        webSeeds: () => this.#webSeeds,
        ending: this.#ending,
      },
    );
    this.storage = parts.storage;
    this.#picker = parts.picker;
    this.#client = parts.client;
    this.#discovery = parts.discovery;
    this.#resume = parts.resume;
    this.#layers = parts.layers;
    this.#download = parts.download;
    this.#upload = parts.upload;
    this.#pool = parts.pool;
    this.#rounds = parts.rounds;
  }

  get port(): number {
    return this.#client.port;
  }

  get phase(): SessionPhase {
    return this.#phase;
  }

  /** Runs to the end: resolves when the goal is met, rejects with a ShoalError otherwise. */
  async run(): Promise<SessionSummary> {
    const done = this.#ending.begin();
    const onAbort = () => void this.#ending.fail(new InterruptedError());
    this.#options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await checkOutDir(this.#options.outDir);
      if (this.#peersDuringCheck) {
        await this.#resume.lock();
        if (this.#ending.stopping) return await done;
        await this.#client.join(this);
        if (this.#ending.stopping) return await done;
        this.#joinedBeforeCheck = true;
        this.#startDiscovery();
      }
      await this.#checkExisting();
      if (this.#ending.stopping) return await done;
      const complete = this.#picker.isComplete();
      // Refused before listening: a seeder without its data never shows up as a peer.
      refuseMissingData(this.#picker, this.#options);
      if (!this.#peersDuringCheck) await this.#client.join(this);
      if (this.#ending.stopping) return await done;
      this.#setPhase(complete ? 'seeding' : 'downloading');
      if (this.#peersDuringCheck) this.#tellPeersWhatWeHave();
      if (complete) await this.#onComplete(true);
      if (this.#ending.stopping) return await done;
      for (const handedOff of this.#options.handedOff ?? []) this.#pool.adopt(handedOff);
      if (!complete) this.#layers.start((fetched) => this.#startDownloading(fetched));
      if (this.#peersDuringCheck) this.#pool.dialMore();
      else this.#startDiscovery();
      this.#tick = setInterval(() => this.#onTick(), this.#options.tickMs ?? TICK_MS);
      await this.#journalStarted;
      return await done;
    } catch (error) {
      await this.#ending.fail(error);
      return await done;
    } finally {
      this.#options.signal?.removeEventListener('abort', onAbort);
    }
  }

  stats(): SessionStats {
    const sources = {
      picker: this.#picker,
      pool: this.#pool,
      download: this.#download,
      upload: this.#upload,
      webSeeds: this.#webSeeds,
      phase: this.#phase,
      startedAt: this.#startedAt,
    };
    return sessionStats(sources, Date.now());
  }

  /** Addresses a later run of this torrent may start from (see PeerPool.knownAddresses). */
  knownAddresses(limit: number): PeerAddress[] {
    return this.#pool.knownAddresses(limit);
  }

  peerInfo(): PeerInfo[] {
    return peerInfo(this.#pool, this.#download, Date.now());
  }

  /**
   * Upload accounting, to check the bounds seeding keeps: bytes read from
   * disk against bytes requested, bytes queued on sockets now (all peers, gone
   * ones included until their sockets release them) and
   * the most ever queued for one peer.
   */
  uploadStats(): UploadReadStats & { queuedBytes: number; maxQueuedBytes: number } {
    return this.#upload.stats();
  }

  /** Re-reads and re-hashes every wanted piece from disk by SHA-1 (after `run()`, for --verify). */
  async recheck(): Promise<{ good: number; wanted: number }> {
    const data = { storage: this.storage, picker: this.#picker };
    return recheckData(this.meta, data, this.#options.hashPool);
  }

  /** Stops the session early (e.g. SIGINT): resolves `run()` by rejecting with InterruptedError. */
  async interrupt(): Promise<void> {
    await this.#ending.fail(new InterruptedError());
  }

  /** Adds peer addresses to dial (from any source). */
  addPeers(peers: PeerAddress[], source: string, swarm?: Uint8Array): void {
    this.#pool.add(peers, source, swarm);
    const phase = this.#phase;
    if (phase === 'downloading' || phase === 'seeding') this.#pool.dialMore();
    else if (phase === 'checking' && this.#joinedBeforeCheck) this.#pool.dialMore();
  }

  /** A connection the client routed to us (it named our info-hash). */
  accept(stream: Duplex, address: PeerAddress, opening: Uint8Array): void {
    this.#pool.accept(stream, address, opening);
  }

  // ---------------------------------------------------------------- startup

  #tellPeersWhatWeHave(): void {
    tellPeersWhatWeHave({
      peers: this.#pool.peers.values(),
      picker: this.#picker,
      download: this.#download,
      limit: this.#options.lateHavesLimit,
    });
  }

  /** Finds the wanted pieces already on disk, then starts writing a fresh resume journal. */
  async #checkExisting(): Promise<void> {
    this.#setPhase('checking');
    const wanted = wantedPieces(this.#picker, this.meta.pieceCount);
    const found = await this.#resume.checkExisting({
      meta: this.meta,
      storage: this.storage,
      pool: this.#options.hashPool,
      wanted,
      onProgress: (done, total) => this.emit('check-progress', done, total),
    });
    for (const index of found.keys()) this.#picker.pieceVerified(index);
    this.emit('check-done', found.size, wanted.length, [...found.keys()]);
    // Stopped meanwhile: storage is closed and the old resume state must stay as it was.
    if (this.#ending.stopping) return;
    if (this.#picker.isComplete()) return;
    this.#journalStarted = this.#resume.startJournal();
    // Awaited by run() once the swarm is joined; a stop before then must not make it unhandled.
    this.#journalStarted.catch(() => {});
  }

  /** Downloading begins once BEP 52 piece layers are here (`fetched`: they had to be fetched). */
  #startDownloading(fetched: boolean): void {
    if (fetched) this.#lastProgressAt = Date.now();
    this.#webSeeds = makeWebSeedSource({
      urls: this.#options.webSeeds ?? [],
      meta: this.meta,
      picker: this.#picker,
      download: this.#download,
      active: () => this.#phase === 'downloading' && !this.#ending.stopping,
      warn: (message) => this.emit('warning', message),
    });
    this.#webSeeds?.pump();
    if (fetched) this.#download.fillAll();
  }

  /** Payload bytes received from each peer (by key) and web seed this session. */
  bytesBySource(): ReadonlyMap<string, number> {
    return this.#download.bytesBySource;
  }

  /** Payload bytes that came from web seeds (the rest of `downloaded` came from peers). */
  get webSeedBytes(): number {
    return this.#webSeeds?.bytes ?? 0;
  }

  /** Per mirror: state, bytes, failures, bad pieces (empty without web seeds). */
  webSeedStats(): ReturnType<WebSeedSource['stats']> {
    return this.#webSeeds?.stats() ?? [];
  }

  #startDiscovery(): void {
    this.#discovery.attach({
      stats: (): TransferStats => ({
        uploaded: this.#upload.uploaded,
        downloaded: this.#download.downloaded,
        left: wantedBytesLeft(this.#picker),
      }),
      addPeers: (peers, source, swarm) => this.addPeers(peers, source, swarm),
      warn: (message) => this.emit('warning', message),
    });
    // The DHT and LSD start at the first verified piece or the first tick (see DiscoveryHub.start).
    this.#discovery.start(this.infoHash, this.peerId, this.port, true);
    this.#discovery.joinSwarms(this.infoHashes); // a hybrid is announced under both hashes
  }

  // ---------------------------------------------------------------- verified pieces

  async #onPieceVerified(index: number, print: bigint): Promise<void> {
    this.#discovery.startDeferred();
    this.#resume.record(index, print);
    this.#lastProgressAt = Date.now();
    this.emit('piece-verified', index);
    for (const peer of this.#pool.peers.values()) {
      if (!peer.have.get(index)) peer.conn.send({ type: 'have', index });
    }
    if (this.#picker.isComplete()) await this.#onComplete();
    else this.#webSeeds?.pump();
  }

  // ---------------------------------------------------------------- timing

  #onTick(): void {
    const now = Date.now();
    if (this.#ending.stopping) return;
    this.#rounds.run(now);
    this.emit('progress', this.stats());

    const stall = this.#options.stallTimeoutMs;
    if (this.#phase === 'downloading' && stall && now - this.#lastProgressAt > stall) {
      const facts = { stallMs: stall, knownPeers: this.#pool.knownPeers };
      void this.#ending.fail(stallError({ ...facts, webSeeds: this.webSeedStats() }));
    }
    if (this.#phase === 'seeding' && this.#seedGoalMet()) void this.#ending.succeed('seeded');
  }

  // ---------------------------------------------------------------- ending

  /** `atCheck`: the check found every wanted piece, nothing was downloaded. */
  async #onComplete(atCheck = false): Promise<void> {
    if (this.#completedAt) return;
    this.#completedAt = Date.now();
    await finishFiles({
      meta: this.meta,
      storage: this.storage,
      selectedFiles: this.#options.selectedFiles,
      readOnly: this.#options.readOnly,
      warn: (message) => this.emit('warning', message),
    });
    this.emit('complete');
    // Trackers told `started` during the check are not told of a download that never was.
    if (!(atCheck && this.#peersDuringCheck)) this.#discovery.completed();
    if (!seedsAfterCompletion(this.#options)) {
      await this.#ending.succeed('complete');
      return;
    }
    // Trackers told `started` with left=<size> hear left=0 now, not at the next regular announce.
    if (atCheck && this.#peersDuringCheck) this.#discovery.haveChanged();
    this.#setPhase('seeding');
    turnToSeeding(this.#pool.peers.values(), this.meta.pieceCount);
    if (this.#seedGoalMet()) await this.#ending.succeed('seeded');
  }

  /** No new peers while stopping, nor once seeding has met its goal. */
  #mayDial(): boolean {
    return !this.#ending.stopping && !(this.#phase === 'seeding' && this.#seedGoalMet());
  }

  #seedGoalMet(): boolean {
    const progress = {
      completedAt: this.#completedAt,
      uploaded: this.#upload.uploaded,
      downloaded: this.#download.downloaded,
      wantedTotal: this.#picker.progress().wantedBytes,
    };
    return seedGoalMet(this.#options, progress, Date.now());
  }

  /**
   * Ends seeding now, as a success: for a goal decided outside the session
   * (`--seed-until`). Does nothing before the download is complete.
   */
  endSeeding(): void {
    if (this.#phase === 'seeding') void this.#ending.succeed('seeded');
  }

  async #shutdown(): Promise<void> {
    this.#resume.cancelCheck(new InterruptedError());
    this.#setPhase('stopping');
    if (this.#tick) clearInterval(this.#tick);
    this.#tick = null;
    await tearDown({
      torrent: this,
      client: this.#client,
      webSeeds: this.#webSeeds,
      layers: this.#layers,
      download: this.#download,
      discovery: this.#discovery,
      handedOff: this.#options.handedOff ?? [],
      pool: this.#pool,
      picker: this.#picker,
      storage: this.storage,
      resume: this.#resume,
      warn: (message) => this.emit('warning', message),
    });
  }

  #setPhase(phase: SessionPhase): void {
    if (this.#phase === phase) return;
    this.#phase = phase;
    this.emit('phase', phase);
  }
}

/** A random 20-byte peer id (exported for tests that need a fixed one). */
export function randomPeerId(): Uint8Array {
  return randomBytes(20);
}
