/**
 * The engine for one torrent, as a lifecycle: check the data already on
 * disk, connect, download, seed, stop. Each job has its own home and the
 * session wires them together:
 * - PeerPool (peer-pool.ts): addresses, dialing, accepting, slots, bans;
 * - Peer (peer/peer.ts): one connection's protocol state;
 * - DownloadScheduler (download-scheduler.ts): availability and interest,
 *   requests, piece buffers, verification, smart ban;
 * - Uploader (uploader.ts): choking and serving requests;
 * - PeerExtensions (peer-extensions.ts): ut_metadata and ut_pex;
 * - SessionResume (session-resume.ts): the existing-data check and what
 *   survives a stop; seed-goal.ts: when seeding ends;
 * - PieceLayerFetcher/Server: BEP 52 hashes; WebSeedSource: HTTP mirrors;
 * - the discovery hub: where peers come from.
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
import { stat } from 'node:fs/promises';
import type { Duplex } from 'node:stream';
import { Client, type ClientTorrent } from '../client/client.ts';
import type { TransferStats } from '../discovery/discovery.ts';
import { DiscoveryHub } from '../discovery/hub.ts';
import { DiskError, InterruptedError, VerifyError } from '../errors.ts';
import { closeHandedOff } from '../metadata/hand-off.ts';
import type { Metainfo } from '../metainfo/types.ts';
import type { PeerAddress } from '../net/peer-address.ts';
import type { Peer } from '../peer/peer.ts';
import { DiskStorage } from '../storage/disk-storage.ts';
import { applyFileAttributes } from '../storage/file-attributes.ts';
import { PiecePicker } from '../swarm/piece-picker.ts';
import { checkPieces } from '../verify/check-pieces.ts';
import { EXTENDED_HANDSHAKE_ID } from '../wire/extension.ts';
import { supportsExtensionProtocol } from '../wire/handshake.ts';
import { generatePeerId, peerIdPrefix } from '../wire/peer-id.ts';
import { DownloadScheduler } from './download-scheduler.ts';
import { PieceLayerFetcher } from './piece-layer-fetcher.ts';
import { PieceLayerServer } from './piece-layer-server.ts';
import { PeerExtensions } from './peer-extensions.ts';
import { PeerPool } from './peer-pool.ts';
import { seedGoalMet, seedsAfterCompletion } from './seed-goal.ts';
import { extensionPeer, sessionPeerHandler } from './session-peer-handler.ts';
import { SessionResume } from './session-resume.ts';
import type {
  PeerInfo,
  SessionEvents,
  SessionOptions,
  SessionPhase,
  SessionStats,
  SessionSummary,
} from './session-types.ts';
import { stallError } from './stall.ts';
import { Uploader } from './uploader.ts';
import { WebSeedSource } from './web-seed-source.ts';
import { WebSeedPool } from '../webseed/web-seed-pool.ts';
import type { UploadReadStats } from './upload-reader.ts';

export { MAX_QUEUED_UPLOAD_BYTES } from './uploader.ts';
export { MAX_CANDIDATES } from './peer-pool.ts';

export type * from './session-types.ts';

const TICK_MS = 1000;
const CHOKE_ROUND_MS = 10_000;
/** Default for SessionOptions.idlePeerMs. */
const IDLE_PEER_MS = 60_000;
const MAX_UPLOAD_QUEUE = 500;
/** How often PEX diffs are considered (each peer still gets at most one a minute). */
const PEX_CHECK_MS = 5_000;
/** Default for SessionOptions.lateHavesLimit. */
const LATE_HAVES_LIMIT = 32_768;

export class TorrentSession extends EventEmitter<SessionEvents> implements ClientTorrent {
  readonly meta: Metainfo;
  readonly storage: DiskStorage;
  readonly peerId: Uint8Array;
  readonly infoHash: Uint8Array;
  readonly #options: SessionOptions;
  readonly #picker: PiecePicker;
  readonly #pool: PeerPool;
  readonly #download: DownloadScheduler;
  readonly #upload: Uploader;
  readonly #extensions: PeerExtensions;
  readonly #discovery: DiscoveryHub;
  /** BEP 52: answers peers' hash requests from the piece layers we hold. */
  readonly #layerServer: PieceLayerServer;
  /** BEP 52: fetching missing piece layers; no block is requested while it runs. */
  #layerFetcher: PieceLayerFetcher | null = null;
  /** Made when downloading starts, if the torrent or the user named web seeds. */
  #webSeeds: WebSeedSource | null = null;
  readonly #startedAt = Date.now();
  readonly #resume: SessionResume;
  /**
   * The fresh snapshot and empty journal written after the check. Peers are
   * found meanwhile: the snapshot's fsync was on the way to the first byte
   * (39 ms in a traced run on a busy machine), and records wait for it on
   * the store's own queue.
   */
  #journalStarted: Promise<void> = Promise.resolve();
  /** The client we run on; made (and closed) by us when none was given. */
  #client: Client | null;
  readonly #ownsClient: boolean;
  #phase: SessionPhase = 'checking';
  #lastPexAt = 0;
  #tick: NodeJS.Timeout | null = null;
  #lastChokeRound = 0;
  #lastProgressAt = Date.now();
  #completedAt = 0;
  #finish: { resolve: (s: SessionSummary) => void; reject: (e: unknown) => void } | null = null;
  #stopping = false;
  /** Joined the client and started discovery before the check (see #peersDuringCheck). */
  #joinedBeforeCheck = false;

  constructor(options: SessionOptions) {
    super();
    this.#options = options;
    this.meta = options.meta;
    const meta = options.meta;
    this.infoHash = (meta.infoHash ?? meta.infoHashV2!.subarray(0, 20)) as Uint8Array;
    this.peerId = options.peerId ?? generatePeerId(peerIdPrefix(options.version ?? '0.1.0'));
    const selected = meta.files.map(
      (file, i) => !file.padding && (!options.selectedFiles || options.selectedFiles.has(i)),
    );
    this.storage = new DiskStorage(
      { ...meta, infoHashHex: Buffer.from(this.infoHash).toString('hex') },
      {
        outDir: options.outDir,
        selected,
        readOnly: options.readOnly,
        followLinks: options.followLinks,
      },
    );
    this.#picker = new PiecePicker({
      pieceCount: meta.pieceCount,
      pieceLength: meta.pieceLength,
      totalLength: meta.spaceSize,
      random: Math.random,
    });
    for (let index = 0; index < meta.pieceCount; index++) {
      if (!this.#pieceWanted(index, selected)) this.#picker.setPriority(index, 0);
    }
    this.#client = options.client ?? null;
    this.#ownsClient = !options.client;
    this.#discovery =
      options.discoveries instanceof DiscoveryHub
        ? options.discoveries
        : new DiscoveryHub(options.discoveries ?? []);
    this.#resume = new SessionResume({
      outDir: options.outDir,
      infoHash: this.infoHash,
      pieceCount: meta.pieceCount,
      pieceLength: meta.pieceLength,
      readOnly: options.readOnly,
    });
    this.#extensions = new PeerExtensions({
      infoBytes: meta.infoBytes,
      isPrivate: meta.private,
      clientName: `shoal ${options.version ?? ''}`.trim(),
      maxRequests: MAX_UPLOAD_QUEUE,
      port: () => this.port,
      addPeers: (peers, source) => this.addPeers(peers, source),
    });
    this.#layerServer = new PieceLayerServer(meta);
    this.#download = new DownloadScheduler({
      meta,
      picker: this.#picker,
      storage: this.storage,
      hashPool: options.hashPool,
      webSeeds: (options.webSeeds ?? []).length > 0,
      downloadLimit: options.downloadLimit,
      active: () => this.#phase === 'downloading' && this.#layerFetcher === null,
      peers: () => this.#pool.peers.values(),
      peer: (key) => this.#pool.peers.get(key),
      identity: (key) => this.#pool.identity(key),
      verified: (index, print) => this.#onPieceVerified(index, print),
      failed: (index, contributors) => {
        this.#webSeeds?.pieceFailed(contributors);
        this.emit('piece-failed', index, contributors);
      },
      ban: (identity, reason) => this.#pool.ban(identity, reason),
      fatal: (error) => void this.#fail(error),
      stopping: () => this.#stopping,
    });
    this.#upload = new Uploader({
      picker: this.#picker,
      storage: this.storage,
      pieceCount: meta.pieceCount,
      pieceLength: meta.pieceLength,
      uploadLimit: options.uploadLimit,
      seeding: () => this.#phase === 'seeding',
      peers: () => this.#pool.peers.values(),
      isSnubbed: (peer, now) => this.#download.isSnubbed(peer, now),
      fatal: (error) => void this.#fail(error),
      warn: (message) => this.emit('warning', message),
    });
    this.#pool = new PeerPool({
      infoHash: this.infoHash,
      peerId: this.peerId,
      pieceCount: meta.pieceCount,
      pieceLength: meta.pieceLength,
      maxPeers: options.maxPeers ?? 50,
      transport: options.client?.transport ?? { name: 'unset', dial: (a, o) => this.#dial(a, o) },
      port: () => this.port,
      maxUploadQueue: MAX_UPLOAD_QUEUE,
      handler: sessionPeerHandler({
        download: this.#download,
        upload: this.#upload,
        extensions: this.#extensions,
        layerServer: this.#layerServer,
        pool: () => this.#pool,
        layerFetcher: () => this.#layerFetcher,
      }),
      mayDial: () => !this.#stopping && !(this.#phase === 'seeding' && this.#seedGoalMet()),
      connected: (peer, adopted) => this.#onConnected(peer, adopted),
      disconnected: (peer, reason) => this.#onDisconnected(peer, reason),
      found: (source, count) => this.emit('peers-found', source, count),
      warn: (message) => this.emit('warning', message),
      failed: (error) => void this.#fail(error),
    });
  }

  get port(): number {
    return this.#client?.port ?? 0;
  }

  get phase(): SessionPhase {
    return this.#phase;
  }

  /** Runs to the end: resolves when the goal is met, rejects with a ShoalError otherwise. */
  async run(): Promise<SessionSummary> {
    const done = new Promise<SessionSummary>((resolve, reject) => {
      this.#finish = { resolve, reject };
    });
    // A stop can settle `done` while startup is still awaiting (e.g. Ctrl-C during the check
    // of existing data); it is awaited below, but not yet: without this it is an unhandled
    // rejection, which crashes the process with a stack trace instead of exiting 130.
    done.catch(() => {});
    const onAbort = () => void this.#fail(new InterruptedError());
    this.#options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await this.#checkOutDir();
      if (this.#peersDuringCheck) {
        await this.#resume.lock();
        if (this.#stopping) return await done;
        await this.#joinClient();
        if (this.#stopping) return await done;
        this.#joinedBeforeCheck = true;
        this.#startDiscovery();
      }
      await this.#checkExisting();
      if (this.#stopping) return await done;
      const complete = this.#picker.isComplete();
      // Refused before listening: a seeder without its data never shows up as a peer.
      if (!complete && this.#options.requireComplete) {
        const { havePieces, pieceCount } = this.#picker.progress();
        throw new VerifyError(
          `the data in ${this.#options.outDir} is incomplete: ${havePieces} of ${pieceCount} pieces match the torrent`,
        );
      }
      if (!this.#peersDuringCheck) await this.#joinClient();
      if (this.#stopping) return await done;
      this.#setPhase(complete ? 'seeding' : 'downloading');
      if (this.#peersDuringCheck) this.#tellPeersWhatWeHave();
      if (complete) await this.#onComplete(true);
      if (this.#stopping) return await done;
      for (const handedOff of this.#options.handedOff ?? []) this.#pool.adopt(handedOff);
      if (!complete) this.#fetchMissingLayers(() => this.#startWebSeeds());
      if (this.#peersDuringCheck) this.#pool.dialMore();
      else this.#startDiscovery();
      this.#tick = setInterval(() => this.#onTick(), this.#options.tickMs ?? TICK_MS);
      await this.#journalStarted;
      return await done;
    } catch (error) {
      await this.#fail(error);
      return await done;
    } finally {
      this.#options.signal?.removeEventListener('abort', onAbort);
    }
  }

  stats(): SessionStats {
    const progress = this.#picker.progress();
    const now = Date.now();
    let downloadRate = 0;
    let uploadRate = 0;
    for (const peer of this.#pool.peers.values()) {
      downloadRate += peer.conn.downloaded.rate(now);
      uploadRate += peer.conn.uploaded.rate(now);
    }
    downloadRate += this.#webSeeds?.rate(now) ?? 0;
    return {
      phase: this.#phase,
      uploaded: this.#upload.uploaded,
      downloaded: this.#download.downloaded,
      left: this.#wantedBytesLeft(),
      totalWanted: this.#wantedBytesTotal(),
      haveWanted: this.#wantedBytesTotal() - this.#wantedBytesLeft(),
      downloadRate,
      uploadRate,
      peers: this.#pool.peers.size,
      knownPeers: this.#pool.knownPeers,
      piecesVerified: progress.haveWantedPieces,
      piecesWanted: progress.wantedPieces,
      elapsedMs: now - this.#startedAt,
    };
  }

  /** Addresses a later run of this torrent may start from (see PeerPool.knownAddresses). */
  knownAddresses(limit: number): PeerAddress[] {
    return this.#pool.knownAddresses(limit);
  }

  peerInfo(): PeerInfo[] {
    const now = Date.now();
    return [...this.#pool.peers.values()].map((peer) => ({
      key: peer.key,
      client: peer.client,
      downloadRate: peer.conn.downloaded.rate(now),
      uploadRate: peer.conn.uploaded.rate(now),
      choked: peer.peerChoking,
      interested: peer.amInterested,
      snubbed: this.#download.isSnubbed(peer, now),
      outstanding: peer.outstanding.size,
    }));
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
    const wanted = this.#wantedPieces();
    try {
      const good = await checkPieces({
        meta: this.meta,
        storage: this.storage,
        pool: this.#options.hashPool,
        wanted,
        claimed: null,
      });
      return { good: good.size, wanted: wanted.length };
    } finally {
      await this.storage.close();
    }
  }

  /** Stops the session early (e.g. SIGINT): resolves `run()` by rejecting with InterruptedError. */
  async interrupt(): Promise<void> {
    await this.#fail(new InterruptedError());
  }

  /** Adds peer addresses to dial (from any source). */
  addPeers(peers: PeerAddress[], source: string): void {
    this.#pool.add(peers, source);
    const phase = this.#phase;
    if (phase === 'downloading' || phase === 'seeding') this.#pool.dialMore();
    else if (phase === 'checking' && this.#joinedBeforeCheck) this.#pool.dialMore();
  }

  /** A connection the client routed to us (it named our info-hash). */
  accept(stream: Duplex, address: PeerAddress, opening: Uint8Array): void {
    this.#pool.accept(stream, address, opening);
  }

  // ---------------------------------------------------------------- startup

  /**
   * Whether trackers, the DHT and LSD are asked, and peers dialled, while the
   * existing-data check runs: their round trips then overlap it instead of
   * following it (docs/PERFORMANCE.md, "First byte (2026-12-07)"). Nothing is
   * requested before the check says what we have: requests wait for the
   * `downloading` phase. Not for a seeder that must have all its data (it
   * never shows up as a peer without it), nor read-only data, nor a magnet's
   * download, whose sources and connections were started by its metadata
   * fetch and are adopted after the check.
   */
  get #peersDuringCheck(): boolean {
    const options = this.#options;
    return !options.requireComplete && !options.readOnly && (options.handedOff ?? []).length === 0;
  }

  /**
   * Peers that connected during the check were told we had nothing: each
   * gets a `have` for every piece the check found, and our interest in it
   * (and so its first requests) follows from what we now lack.
   */
  #tellPeersWhatWeHave(): void {
    const have = this.#picker.progress().havePieces;
    const peers = [...this.#pool.peers.values()];
    for (const peer of peers) {
      // A have is 9 bytes: past the limit a peer costs more queued haves than it is
      // worth (a resumed million-piece torrent: 9 MB a peer); it is let go and found again.
      if (have > (this.#options.lateHavesLimit ?? LATE_HAVES_LIMIT)) {
        peer.close('connected during the check; too many pieces to announce one by one');
        continue;
      }
      peer.sendPieces(have, () => this.#picker.bitfield(), true);
      this.#download.updateInterest(peer);
    }
  }

  #pieceWanted(index: number, selected: boolean[]): boolean {
    return this.storage.layout
      .fileSpans(index, 0)
      .some((span) => span.kind === 'data' && selected[span.fileIndex]);
  }

  /** Finds the wanted pieces already on disk, then starts writing a fresh resume journal. */
  async #checkExisting(): Promise<void> {
    this.#setPhase('checking');
    const wanted = this.#wantedPieces();
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
    if (this.#stopping) return;
    if (this.#picker.isComplete()) return;
    this.#journalStarted = this.#resume.startJournal();
    // Awaited by run() once the swarm is joined; a stop before then must not make it unhandled.
    this.#journalStarted.catch(() => {});
  }

  /** An output path that exists but is not a directory gets one clear error before anything is read. */
  async #checkOutDir(): Promise<void> {
    const outDir = this.#options.outDir;
    const info = await stat(outDir).catch(() => null);
    if (info && !info.isDirectory()) throw new DiskError(`${outDir} is not a directory`);
  }

  #wantedPieces(): number[] {
    const wanted: number[] = [];
    for (let i = 0; i < this.meta.pieceCount; i++) if (this.#picker.isWanted(i)) wanted.push(i);
    return wanted;
  }

  /** Joins the client we were given, or makes one of our own (listening when a port was given). */
  async #joinClient(): Promise<void> {
    if (!this.#client) {
      this.#client = new Client({
        port: this.#options.port ?? 0,
        hashPool: this.#options.hashPool,
      });
      this.#client.on('warning', (message) => this.emit('warning', message));
      this.#client.on('listening', (port) => this.emit('listening', port));
    }
    if (this.#ownsClient && this.#options.port !== null) await this.#client.start();
    // A client we were given was started by its owner: say where it listens all the same.
    else if (this.#client.port) this.emit('listening', this.#client.port);
    this.#client.add(this);
  }

  /** Dials through the client once there is one (the pool may be built before). */
  #dial(...args: Parameters<Client['transport']['dial']>): Promise<Duplex> {
    if (!this.#client) return Promise.reject(new Error('not connected to a client yet'));
    return this.#client.transport.dial(...args);
  }

  /**
   * BEP 52: a v2-only torrent whose piece layers are missing (a magnet link, a
   * .torrent without them) cannot verify a piece yet: its layers are fetched
   * from peers first, then `then` runs and blocks are requested. Hybrids check
   * pieces by SHA-1 and need no layers.
   */
  #fetchMissingLayers(then: () => void): void {
    const fetcher = new PieceLayerFetcher({
      meta: this.meta,
      peers: () => this.#pool.peers.values(),
      punish: (peer, reason) => {
        const identity = this.#pool.identity(peer.key);
        if (identity) this.#pool.ban(identity, reason);
        else peer.close(reason);
      },
    });
    if (this.meta.pieces || fetcher.missing === 0) return then();
    this.#layerFetcher = fetcher;
    fetcher.start();
    void fetcher.done.then(() => {
      if (this.#stopping || this.#layerFetcher !== fetcher) return;
      this.#layerFetcher = null;
      this.#lastProgressAt = Date.now();
      then();
      this.#download.fillAll();
    });
  }

  #startWebSeeds(): void {
    const urls = this.#options.webSeeds ?? [];
    if (urls.length === 0) return;
    const { pool, refused } = WebSeedPool.fromUrls(urls, this.meta);
    for (const { url, reason } of refused)
      this.emit('warning', `web seed ${url} ignored: ${reason}`);
    if (pool.seeds.length === 0) return;
    const download = this.#download;
    this.#webSeeds = new WebSeedSource({
      pool,
      picker: this.#picker,
      pieceLength: this.meta.pieceLength,
      active: () => this.#phase === 'downloading' && !this.#stopping,
      freeBuffers: () => download.freeBuffers(),
      deliver: (id, index, begin, block) => download.acceptBlock(id, index, begin, block),
      limiter: download.limiter,
      warn: (message) => this.emit('warning', message),
    });
    this.#webSeeds.pump();
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
        left: this.#wantedBytesLeft(),
      }),
      addPeers: (peers, source) => this.addPeers(peers, source),
      warn: (message) => this.emit('warning', message),
    });
    // The DHT and LSD start at the first verified piece or the first tick (see DiscoveryHub.start).
    this.#discovery.start(this.infoHash, this.peerId, this.port, true);
  }

  // ---------------------------------------------------------------- peers

  #onConnected(peer: Peer, adopted: boolean): void {
    this.emit('peer-connected', { key: peer.key, client: peer.client });
    if (supportsExtensionProtocol(peer.conn.remote!.reserved)) {
      peer.conn.send({
        type: 'extended',
        id: EXTENDED_HANDSHAKE_ID,
        payload: this.#extensions.handshake(peer.conn.address),
      });
    }
    peer.sendPieces(this.#picker.progress().havePieces, () => this.#picker.bitfield(), adopted);
    peer.conn.on('drain', () => void this.#upload.serve(peer));
    this.#layerFetcher?.pump();
  }

  #onDisconnected(peer: Peer, reason: string): void {
    this.#download.peerGone(peer);
    this.#extensions.forget(peer.key);
    this.#layerFetcher?.peerGone(peer);
    this.emit('peer-disconnected', { key: peer.key, reason });
    // Blocks it held go to others at once.
    this.#download.fillAll();
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
    if (this.#stopping) return;
    this.#discovery.startDeferred();
    this.#pool.housekeeping(now, this.#options.idlePeerMs ?? IDLE_PEER_MS);
    for (const peer of this.#pool.peers.values()) {
      this.#download.expireRequests(peer, now);
      this.#download.fillRequests(peer);
    }
    if (now - this.#lastChokeRound >= CHOKE_ROUND_MS) {
      this.#lastChokeRound = now;
      this.#upload.chokeRound(now);
      // Lose interest in peers that have nothing left we want (an O(pieces) scan, so not every tick).
      if (this.#phase === 'downloading') this.#download.refreshInterest();
    }
    this.#pool.dialMore();
    this.#webSeeds?.pump();
    if (now - this.#lastPexAt >= PEX_CHECK_MS) {
      this.#lastPexAt = now;
      this.#extensions.sharePeers([...this.#pool.peers.values()].map(extensionPeer), now);
    }
    if (this.#pool.peers.size === 0) this.#discovery.requestPeers();
    this.emit('progress', this.stats());

    const stall = this.#options.stallTimeoutMs;
    if (this.#phase === 'downloading' && stall && now - this.#lastProgressAt > stall) {
      const facts = { stallMs: stall, knownPeers: this.#pool.knownPeers };
      void this.#fail(stallError({ ...facts, webSeeds: this.webSeedStats() }));
    }
    if (this.#phase === 'seeding' && this.#seedGoalMet()) void this.#succeed('seeded');
  }

  // ---------------------------------------------------------------- ending

  /** `atCheck`: the check found every wanted piece, nothing was downloaded. */
  async #onComplete(atCheck = false): Promise<void> {
    if (this.#completedAt) return;
    this.#completedAt = Date.now();
    await this.storage.finish();
    if (!this.#options.readOnly) await this.#applyFileAttributes();
    this.emit('complete');
    // Trackers told `started` during the check are not told of a download that never was.
    if (!(atCheck && this.#peersDuringCheck)) this.#discovery.completed();
    if (!seedsAfterCompletion(this.#options)) {
      await this.#succeed('complete');
      return;
    }
    this.#setPhase('seeding');
    for (const peer of this.#pool.peers.values()) {
      peer.setInterested(false);
      // Two seeds have nothing to trade.
      if (peer.seed || peer.have.count() === this.meta.pieceCount) peer.close('both complete');
    }
    if (this.#seedGoalMet()) await this.#succeed('seeded');
  }

  /** BEP 47: executables get +x, links are made inside the download (or skipped with a warning). */
  async #applyFileAttributes(): Promise<void> {
    const selected = this.#options.selectedFiles ?? undefined;
    const report = await applyFileAttributes(this.meta, this.storage.outDir, { selected });
    for (const warning of report.warnings) this.emit('warning', warning);
  }

  #seedGoalMet(): boolean {
    const progress = {
      completedAt: this.#completedAt,
      uploaded: this.#upload.uploaded,
      downloaded: this.#download.downloaded,
      wantedTotal: this.#wantedBytesTotal(),
    };
    return seedGoalMet(this.#options, progress, Date.now());
  }

  /**
   * Ends seeding now, as a success: for a goal decided outside the session
   * (`--seed-until`). Does nothing before the download is complete.
   */
  endSeeding(): void {
    if (this.#phase === 'seeding') void this.#succeed('seeded');
  }

  async #succeed(status: SessionSummary['status']): Promise<void> {
    if (this.#stopping) return;
    await this.#shutdown();
    this.#setPhase('done');
    this.#finish?.resolve({
      status: this.#completedAt && status === 'complete' ? 'complete' : status,
      downloaded: this.#download.downloaded,
      uploaded: this.#upload.uploaded,
      seconds: (Date.now() - this.#startedAt) / 1000,
      peers: this.#pool.peersSeen,
    });
  }

  async #fail(error: unknown): Promise<void> {
    if (this.#stopping) return;
    await this.#shutdown();
    this.#setPhase('done');
    this.#finish?.reject(error);
  }

  async #shutdown(): Promise<void> {
    this.#stopping = true;
    this.#resume.cancelCheck(new InterruptedError());
    this.#setPhase('stopping');
    if (this.#tick) clearInterval(this.#tick);
    this.#tick = null;
    this.#client?.remove(this);
    this.#webSeeds?.stop();
    this.#layerFetcher?.stop();
    // Pieces being verified right now finish (and are written) before we close storage.
    await this.#download.settle();
    await this.#discovery.stop();
    // Connections handed over but never adopted (stopped before the download began).
    closeHandedOff(this.#options.handedOff ?? [], 'shutting down');
    this.#pool.stop('shutting down');
    if (this.#ownsClient) await this.#client?.close();
    try {
      // An interrupted download's pieces are synced before its resume state is saved;
      // a complete one leaves writing back to the kernel (see DiskStorage.finish).
      if (!this.#picker.isComplete()) await this.storage.flush();
      await this.#resume.save(this.#picker.isComplete(), (message) =>
        this.emit('warning', message),
      );
    } finally {
      await this.storage.close();
      // Whatever failed above, this session's lock on the folder ends with it.
      await this.#resume.release();
    }
  }

  #setPhase(phase: SessionPhase): void {
    if (this.#phase === phase) return;
    this.#phase = phase;
    this.emit('phase', phase);
  }

  #wantedBytesTotal(): number {
    return this.#picker.progress().wantedBytes;
  }

  #wantedBytesLeft(): number {
    const progress = this.#picker.progress();
    return progress.wantedBytes - progress.haveWantedBytes;
  }
}

/** A random 20-byte peer id (exported for tests that need a fixed one). */
export function randomPeerId(): Uint8Array {
  return randomBytes(20);
}
