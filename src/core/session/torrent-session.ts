/**
 * The engine for one torrent: checks data already on disk, finds and connects
 * peers, picks and requests blocks, verifies every piece on the hash pool
 * before writing it, serves pieces to others, and stops when the goal is met.
 *
 * It never prints; it emits typed events (see SessionEvents) that renderers
 * subscribe to, and `run()` resolves with a summary or rejects with a
 * ShoalError carrying the exit code.
 *
 * Invariants:
 * - Only pieces whose hash checked out are written to disk or announced.
 * - Every request we have outstanding is known to the picker; a peer that
 *   leaves, chokes us or times out gives its blocks back.
 * - Peers are keyed by address and port, never IP alone.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import {
  DiskError,
  diskErrorFrom,
  InterruptedError,
  NetworkError,
  VerifyError,
} from '../errors.ts';
import type { HashPool } from '../hashing/pool.ts';
import type { Metainfo } from '../metainfo/types.ts';
import { PeerConnection, type HandshakeInfo } from '../peer/peer-connection.ts';
import { addressKey, type PeerAddress } from '../net/peer-address.ts';
import { DiskStorage } from '../storage/disk-storage.ts';
import { Choker } from '../swarm/choker.ts';
import { BLOCK_SIZE, PiecePicker, type BlockRef } from '../swarm/piece-picker.ts';
import { RateLimiter } from '../swarm/rate-limiter.ts';
import { desiredQueueDepth, isSnubbed, RoundTripEstimator } from '../swarm/request-queue.ts';
import { BitField } from '../wire/bitfield.ts';
import {
  decodeExtendedHandshake,
  EXTENDED_HANDSHAKE_ID,
  type ExtendedHandshake,
} from '../wire/extension.ts';
import {
  makeReserved,
  supportsExtensionProtocol,
  supportsFastExtension,
} from '../wire/handshake.ts';
import type { WireMessage } from '../wire/messages.ts';
import { describePeerId, generatePeerId, peerIdPrefix } from '../wire/peer-id.ts';
import type { DiscoveryContext, PeerDiscovery, TransferStats } from '../discovery/discovery.ts';
import { PieceVerifier } from '../verify/piece-verifier.ts';
import { checkPieces } from '../verify/check-pieces.ts';
import { fingerprint } from '../hashing/fingerprint.ts';
import { ResumeStore, type ClaimedPieces } from '../resume/resume-store.ts';
import { PeerExtensions, type ExtensionPeer } from './peer-extensions.ts';
import { PieceBuffers } from './piece-buffers.ts';
import { UploadReader, type UploadReadStats } from './upload-reader.ts';
import { BanList, type PeerIdentity } from './ban-list.ts';
import { SmartBan } from './smart-ban.ts';
import { idlePeersToDrop, incomingLimit } from './peer-slots.ts';

export interface SessionOptions {
  meta: Metainfo;
  outDir: string;
  hashPool: HashPool;
  /** File indexes to download (null: all). */
  selectedFiles?: ReadonlySet<number> | null;
  /** Listening port; 0 picks any free port; null does not listen. */
  port?: number | null;
  discoveries?: PeerDiscovery[];
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

interface OutstandingRequest extends BlockRef {
  at: number;
}

/** Protocol and transfer state of one connected peer. */
interface Peer {
  conn: PeerConnection;
  id: string;
  /** What a ban of this peer is keyed on (see BanList). */
  identity: Identity;
  client: string;
  have: BitField;
  /** The peer sent have-all: it has everything, now and forever (counted as a seed by the picker). */
  seed: boolean;
  fast: boolean;
  extended: ExtendedHandshake | null;
  amChoking: boolean;
  amInterested: boolean;
  peerChoking: boolean;
  peerInterested: boolean;
  allowedFast: Set<number>;
  /** Our requests to the peer not yet answered, by requestKey(). */
  outstanding: Map<number, OutstandingRequest>;
  rtt: RoundTripEstimator;
  unchokedUsAt: number | undefined;
  lastBlockAt: number | undefined;
  connectedAt: number;
  /** Last time a block moved or the peer was interesting or interested (see peer-slots.ts). */
  lastActiveAt: number;
  /** Requests from the peer waiting to be served. */
  uploadQueue: BlockRef[];
  /** Bytes handed to its socket and not yet written (each holds a read buffer). */
  queuedBytes: number;
  /** Last time its socket took a block we sent (or the peer connected). */
  lastWrittenAt: number;
  serving: boolean;
  /** --download-limit: reading from this peer is paused until then (ms since epoch). */
  throttledUntil: number;
  throttleTimer: NodeJS.Timeout | null;
}

/** A peer's identity for bans, with the connection key it had (for messages). */
type Identity = PeerIdentity & { key: string };

interface Candidate {
  address: PeerAddress;
  source: string;
  failures: number;
  nextAttemptAt: number;
  connected: boolean;
  /** Never dial again: it is us, or it sent bad data. */
  forbidden: boolean;
}

const TICK_MS = 1000;
const CHOKE_ROUND_MS = 10_000;
const KEEPALIVE_MS = 60_000;
const IDLE_MS = 150_000;
/** Default for SessionOptions.idlePeerMs. */
const IDLE_PEER_MS = 60_000;
const IDLE_DROP_REASON = 'idle while other peers wait for a slot';
const MAX_UPLOAD_QUEUE = 500;
/** Bytes read from disk kept for uploading (see UploadReader). */
const UPLOAD_CACHE_BYTES = 8 * 1024 * 1024;
/**
 * Most bytes handed to one peer's socket and not yet written: past it we stop
 * serving that peer until its socket drains, so a peer that never reads pins
 * no more than this.
 */
export const MAX_QUEUED_UPLOAD_BYTES = 256 * 1024;
/** A peer whose socket has taken nothing we sent for this long is dropped (it does not read). */
const UPLOAD_STALL_MS = 60_000;
const MAX_DIALS_IN_FLIGHT = 30;
/** Most peer addresses kept to dial: no source (a PEX flood, a huge tracker reply) grows it further. */
export const MAX_CANDIDATES = 1000;
/**
 * Piece buffers held for pieces in progress; beyond it the picker only
 * finishes partial pieces. 16 MiB kept three loopback seeders at full speed
 * (so did 4 MiB); more only costs memory.
 */
const PIECE_MEMORY_BUDGET = 16 * 1024 * 1024;
/** Identities of peers seen remembered for smart ban, which may convict a peer after it left. */
const MAX_IDENTITIES = 10_000;
/** How often PEX diffs are considered (each peer still gets at most one a minute). */
const PEX_CHECK_MS = 5_000;

function extensionPeer(peer: Peer): ExtensionPeer {
  return {
    key: peer.id,
    address: peer.conn.address,
    outgoing: peer.conn.outgoing,
    seed: peer.seed,
    extended: peer.extended,
    send: (message) => peer.conn.send(message),
  };
}

export class TorrentSession extends EventEmitter<SessionEvents> {
  readonly meta: Metainfo;
  readonly storage: DiskStorage;
  readonly peerId: Uint8Array;
  readonly infoHash: Uint8Array;
  readonly #options: SessionOptions;
  readonly #picker: PiecePicker;
  readonly #verifier: PieceVerifier;
  /** Tit-for-tat while downloading: a few slots for the peers that give us the most. */
  readonly #leechChoker = new Choker({ random: Math.random });
  /** Round robin while seeding (see the constructor for the slot count). */
  readonly #seedChoker: Choker;
  readonly #downloadLimiter: RateLimiter;
  readonly #uploadLimiter: RateLimiter;
  readonly #peers = new Map<string, Peer>();
  readonly #peerIds = new Set<string>();
  readonly #candidates = new Map<string, Candidate>();
  readonly #pieceBuffers = new Map<number, Uint8Array<SharedArrayBuffer>>();
  readonly #buffers: PieceBuffers;
  readonly #blocksPerPiece: number;
  readonly #verifying = new Set<number>();
  readonly #bans = new BanList();
  /** Blocks of failed pieces and who sent them, to convict the sender of a bad block. */
  readonly #smartBan = new SmartBan<Identity>({ blockSize: BLOCK_SIZE });
  /** Connection key -> identity, for peers that sent blocks (they may have left by a verdict). */
  readonly #identities = new Map<string, Identity>();
  readonly #reader: UploadReader;
  /** Upload bytes on sockets not yet written (closed peers' too, until their sockets let go). */
  readonly #stats = { queuedBytes: 0, maxQueuedBytes: 0 };
  readonly #discoveries: PeerDiscovery[];
  readonly #startedAt = Date.now();
  #server: net.Server | null = null;
  #port = 0;
  #phase: SessionPhase = 'checking';
  /** Verified pieces with the fingerprint of their data (for the resume state). */
  readonly #verified: ClaimedPieces = new Map();
  /** The existing-data check has finished: from then on the resume state is ours to update. */
  #checked = false;
  /** Cancels the existing-data check when the session stops while it runs. */
  readonly #checkAbort = new AbortController();
  readonly #resume: ResumeStore | null;
  readonly #extensions: PeerExtensions;
  #lastPexAt = 0;
  #dialsInFlight = 0;
  #incomingPending = 0;
  /** Incoming connections refused for want of a slot since the last tick (they wait too). */
  #incomingRefused = 0;
  #tick: NodeJS.Timeout | null = null;
  #lastChokeRound = 0;
  #lastProgressAt = Date.now();
  #completedAt = 0;
  #downloadedPayload = 0;
  #uploadedPayload = 0;
  #peersSeen = new Set<string>();
  #finish: { resolve: (s: SessionSummary) => void; reject: (e: unknown) => void } | null = null;
  #stopping = false;

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
    this.#verifier = new PieceVerifier(meta, options.hashPool);
    this.#downloadLimiter = new RateLimiter({ rate: options.downloadLimit });
    this.#uploadLimiter = new RateLimiter({ rate: options.uploadLimit });
    this.#reader = new UploadReader({
      pieceLength: meta.pieceLength,
      pieceSize: (index) => this.#picker.pieceSize(index),
      read: (index, begin, target) => this.storage.readInto(index, begin, target),
      cacheBytes: UPLOAD_CACHE_BYTES,
    });
    this.#discoveries = options.discoveries ?? [];
    this.#buffers = new PieceBuffers(meta.pieceLength, PIECE_MEMORY_BUDGET);
    this.#blocksPerPiece = Math.ceil(meta.pieceLength / BLOCK_SIZE);
    // A seed has nothing to trade, so slots only share upload bandwidth: with no upload limit,
    // TCP shares it fairly among many peers (as libtorrent's rate-based choker ends up doing);
    // under --upload-limit a few slots keep each peer's share useful.
    this.#seedChoker = new Choker({ random: Math.random, slots: options.uploadLimit ? 8 : 100 });
    // Read-only data (seeding from where it lies) gets no resume state: we may not write there.
    this.#resume = options.readOnly
      ? null
      : new ResumeStore(options.outDir, {
          infoHash: this.infoHash,
          pieceCount: meta.pieceCount,
          pieceLength: meta.pieceLength,
        });
    this.#extensions = new PeerExtensions({
      infoBytes: meta.infoBytes,
      isPrivate: meta.private,
      clientName: `shoal ${options.version ?? ''}`.trim(),
      maxRequests: MAX_UPLOAD_QUEUE,
      port: () => this.#port,
      addPeers: (peers, source) => this.addPeers(peers, source),
    });
  }

  get port(): number {
    return this.#port;
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
      if (this.#options.port !== null) await this.#listen(this.#options.port ?? 0);
      if (this.#stopping) return await done;
      this.#setPhase(complete ? 'seeding' : 'downloading');
      if (complete) await this.#onComplete();
      if (this.#stopping) return await done;
      this.#startDiscovery();
      this.#tick = setInterval(() => this.#onTick(), this.#options.tickMs ?? TICK_MS);
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
    for (const peer of this.#peers.values()) {
      downloadRate += peer.conn.downloaded.rate(now);
      uploadRate += peer.conn.uploaded.rate(now);
    }
    return {
      phase: this.#phase,
      uploaded: this.#uploadedPayload,
      downloaded: this.#downloadedPayload,
      left: this.#wantedBytesLeft(),
      totalWanted: this.#wantedBytesTotal(),
      haveWanted: this.#wantedBytesTotal() - this.#wantedBytesLeft(),
      downloadRate,
      uploadRate,
      peers: this.#peers.size,
      knownPeers: this.#candidates.size,
      piecesVerified: progress.haveWantedPieces,
      piecesWanted: progress.wantedPieces,
      elapsedMs: now - this.#startedAt,
    };
  }

  peerInfo(): PeerInfo[] {
    const now = Date.now();
    return [...this.#peers.values()].map((peer) => ({
      key: peer.id,
      client: peer.client,
      downloadRate: peer.conn.downloaded.rate(now),
      uploadRate: peer.conn.uploaded.rate(now),
      choked: peer.peerChoking,
      interested: peer.amInterested,
      snubbed: this.#isSnubbed(peer, now),
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
    return { ...this.#reader.stats, ...this.#stats };
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

  // ---------------------------------------------------------------- startup

  #pieceWanted(index: number, selected: boolean[]): boolean {
    return this.storage.layout
      .fileSpans(index, 0)
      .some((span) => span.kind === 'data' && selected[span.fileIndex]);
  }

  /**
   * Finds the wanted pieces already on disk: by fingerprint where the resume
   * state claims them, by SHA-1 otherwise (see verify/check-pieces.ts). Then
   * starts a fresh resume snapshot and journal.
   */
  async #checkExisting(): Promise<void> {
    this.#setPhase('checking');
    const wanted = this.#wantedPieces();
    await this.#resume?.lock();
    const claimed = (await this.#resume?.load()) ?? null;
    const found = await checkPieces({
      meta: this.meta,
      storage: this.storage,
      pool: this.#options.hashPool,
      wanted,
      claimed,
      onProgress: (done, total) => this.emit('check-progress', done, total),
      signal: this.#checkAbort.signal,
    });
    for (const [index, print] of found) {
      this.#picker.pieceVerified(index);
      this.#verified.set(index, print);
    }
    this.#checked = true;
    this.emit('check-done', found.size, wanted.length, [...found.keys()]);
    // Stopped meanwhile: storage is closed and the old resume state must stay as it was.
    if (this.#stopping) return;
    if (this.#resume && !this.#picker.isComplete()) {
      try {
        await this.#resume.reset(this.#verified);
      } catch (error) {
        throw diskErrorFrom(error, 'write resume state in', this.#options.outDir);
      }
    }
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

  async #listen(port: number): Promise<void> {
    const server = net.createServer((socket) => this.#onIncoming(socket));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => {
        reject(
          new NetworkError(
            error.code === 'EADDRINUSE'
              ? `port ${port} is already in use (try --port 0)`
              : `cannot listen on port ${port}: ${error.message}`,
          ),
        );
      });
      server.listen(port, () => resolve());
    });
    server.on('error', (error) => this.emit('warning', `listener: ${error.message}`));
    this.#port = (server.address() as net.AddressInfo).port;
    this.emit('listening', this.#port);
  }

  #startDiscovery(): void {
    const context: DiscoveryContext = {
      infoHash: this.infoHash,
      peerId: this.peerId,
      port: this.#port,
      stats: () => ({
        uploaded: this.#uploadedPayload,
        downloaded: this.#downloadedPayload,
        left: this.#wantedBytesLeft(),
      }),
      addPeers: (peers, source) => this.addPeers(peers, source),
      warn: (message) => this.emit('warning', message),
    };
    for (const discovery of this.#discoveries) {
      try {
        discovery.start(context);
      } catch (error) {
        this.emit('warning', `${discovery.name}: ${(error as Error).message}`);
      }
    }
  }

  /** Adds peer addresses to dial (from any source). */
  addPeers(peers: PeerAddress[], source: string): void {
    for (const address of peers) {
      if (!Number.isInteger(address.port) || address.port < 1 || address.port > 65535) continue;
      if (this.#isSelf(address)) continue;
      const key = addressKey(address);
      if (!this.#candidates.has(key)) {
        if (this.#candidates.size >= MAX_CANDIDATES && !this.#dropFailedCandidate()) continue;
        this.#candidates.set(key, {
          address,
          source,
          failures: 0,
          nextAttemptAt: 0,
          connected: false,
          forbidden: false,
        });
      }
    }
    if (peers.length > 0) this.emit('peers-found', source, peers.length);
    if (this.#phase === 'downloading' || this.#phase === 'seeding') this.#dialMore();
  }

  /** Makes room in a full candidate list: forgets the oldest address we could not reach (never a ban). */
  #dropFailedCandidate(): boolean {
    for (const [key, candidate] of this.#candidates) {
      if (candidate.connected || candidate.forbidden || candidate.failures === 0) continue;
      this.#candidates.delete(key);
      return true;
    }
    return false;
  }

  #isSelf(address: PeerAddress): boolean {
    if (address.port !== this.#port || this.#port === 0) return false;
    return (
      address.host === '127.0.0.1' ||
      address.host === '::1' ||
      address.host === 'localhost' ||
      address.host === '0.0.0.0'
    );
  }

  // ---------------------------------------------------------------- connections

  #handshakeOptions() {
    return {
      local: {
        infoHash: this.infoHash,
        peerId: this.peerId,
        reserved: makeReserved({ extensionProtocol: true, fastExtension: true }),
      },
      acceptRemote: (remote: HandshakeInfo) => this.#acceptRemote(remote),
      decoderLimits: {
        maxBitfieldLength: Math.ceil(this.meta.pieceCount / 8),
      },
    };
  }

  #acceptRemote(remote: HandshakeInfo): string | null {
    if (Buffer.compare(remote.infoHash, this.infoHash) !== 0)
      return 'handshake for another torrent';
    if (Buffer.compare(remote.peerId, this.peerId) === 0) return 'connected to ourselves';
    const peerIdHex = Buffer.from(remote.peerId).toString('hex');
    if (this.#peerIds.has(peerIdHex)) return 'already connected to this peer';
    if (this.#bans.refusesPeerId(peerIdHex)) return 'banned';
    return null;
  }

  #dialMore(): void {
    if (this.#stopping) return;
    const limit = this.#options.maxPeers ?? 50;
    const now = Date.now();
    for (const candidate of this.#candidates.values()) {
      if (
        this.#peers.size + this.#dialsInFlight >= limit ||
        this.#dialsInFlight >= MAX_DIALS_IN_FLIGHT
      )
        return;
      if (candidate.connected || candidate.forbidden || candidate.nextAttemptAt > now) continue;
      if (this.#bans.refusesDial(candidate.address)) {
        candidate.forbidden = true;
        continue;
      }
      if (this.#phase === 'seeding' && !this.#options.seedForever && this.#seedGoalMet()) return;
      this.#dial(candidate);
    }
  }

  #dial(candidate: Candidate): void {
    candidate.connected = true;
    this.#dialsInFlight++;
    const conn = PeerConnection.connect(candidate.address, this.#handshakeOptions());
    let settled = false;
    const settle = () => {
      if (!settled) {
        settled = true;
        this.#dialsInFlight--;
      }
    };
    conn.once('ready', () => {
      settle();
      candidate.failures = 0;
      this.#onReady(conn);
    });
    conn.once('close', (reason) => {
      settle();
      candidate.connected = false;
      if (reason === 'connected to ourselves') candidate.forbidden = true;
      if (!this.#peers.has(conn.key)) {
        candidate.failures++;
        // Back off: 5 s, 10 s, 20 s ... capped at 5 minutes.
        candidate.nextAttemptAt =
          Date.now() + Math.min(5000 * 2 ** (candidate.failures - 1), 300_000);
        // The dial's slot is free: try the next candidate now, not at the next tick. Trackers
        // hand out many peers that are gone, and each would otherwise cost a second.
        this.#dialMore();
      } else {
        // A peer dropped for idling would only take a slot back to idle in it again.
        candidate.nextAttemptAt = Date.now() + (reason === IDLE_DROP_REASON ? 300_000 : 5000);
      }
    });
  }

  #onIncoming(socket: net.Socket): void {
    // Connections still in their handshake count too: a flood of sockets that never
    // speak must not hold more than --max-peers slots (each also has a handshake timeout).
    const busy = this.#peers.size + this.#incomingPending + this.#dialsInFlight;
    // A banned address is refused before any handshake is read: reconnecting costs us nothing.
    const banned = this.#bans.refusesIncoming(socket.remoteAddress ?? '');
    const maxPeers = this.#options.maxPeers ?? 50;
    // Incoming connections cannot take the slots kept for peers we dial (see peer-slots.ts).
    let incoming = this.#incomingPending;
    for (const peer of this.#peers.values()) if (!peer.conn.outgoing) incoming++;
    const full = busy >= maxPeers || incoming >= incomingLimit(maxPeers);
    if (this.#stopping || banned || full) {
      if (full && !banned) this.#incomingRefused++;
      socket.destroy();
      return;
    }
    socket.on('error', () => {});
    this.#incomingPending++;
    const conn = PeerConnection.accept(socket, this.#handshakeOptions());
    let pending = true;
    const settle = () => {
      if (pending) this.#incomingPending--;
      pending = false;
    };
    conn.once('ready', () => {
      settle();
      this.#onReady(conn);
    });
    conn.once('close', settle);
  }

  #onReady(conn: PeerConnection): void {
    const remote = conn.remote!;
    const peerIdHex = Buffer.from(remote.peerId).toString('hex');
    if (this.#stopping || this.#peers.has(conn.key) || this.#peerIds.has(peerIdHex)) {
      conn.close('duplicate connection');
      return;
    }
    const identity: Identity = {
      key: conn.key,
      address: conn.address,
      outgoing: conn.outgoing,
      peerIdHex,
    };
    if (this.#bans.refuses(identity)) {
      conn.close('banned');
      return;
    }
    this.#rememberIdentity(identity);
    const peer: Peer = {
      conn,
      id: conn.key,
      identity,
      client: describePeerId(remote.peerId),
      have: new BitField(this.meta.pieceCount),
      seed: false,
      fast: supportsFastExtension(remote.reserved),
      extended: null,
      amChoking: true,
      amInterested: false,
      peerChoking: true,
      peerInterested: false,
      allowedFast: new Set(),
      outstanding: new Map(),
      rtt: new RoundTripEstimator(),
      unchokedUsAt: undefined,
      lastBlockAt: undefined,
      connectedAt: Date.now(),
      lastActiveAt: Date.now(),
      uploadQueue: [],
      queuedBytes: 0,
      lastWrittenAt: Date.now(),
      serving: false,
      throttledUntil: 0,
      throttleTimer: null,
    };
    this.#peers.set(peer.id, peer);
    this.#peerIds.add(peerIdHex);
    this.#peersSeen.add(peerIdHex);
    if (!this.#candidates.has(conn.key) && conn.outgoing) {
      // Already tracked by #dial.
    }
    conn.on('message', (message) => this.#onMessage(peer, message));
    conn.on('drain', () => this.#serveUploads(peer));
    conn.once('close', (reason) => this.#onClose(peer, peerIdHex, reason));
    this.emit('peer-connected', { key: peer.id, client: peer.client });

    if (supportsExtensionProtocol(remote.reserved)) {
      conn.send({
        type: 'extended',
        id: EXTENDED_HANDSHAKE_ID,
        payload: this.#extensions.handshake(),
      });
    }
    this.#sendHaves(peer);
  }

  #sendHaves(peer: Peer): void {
    const progress = this.#picker.progress();
    if (peer.fast && progress.havePieces === this.meta.pieceCount)
      peer.conn.send({ type: 'have-all' });
    else if (peer.fast && progress.havePieces === 0) peer.conn.send({ type: 'have-none' });
    else if (progress.havePieces > 0)
      peer.conn.send({ type: 'bitfield', bytes: this.#picker.bitfield() });
  }

  #onClose(peer: Peer, peerIdHex: string, reason: string): void {
    if (this.#peers.get(peer.id) !== peer) return;
    this.#peers.delete(peer.id);
    this.#peerIds.delete(peerIdHex);
    this.#picker.peerGone(peer.id);
    this.#extensions.forget(peer.id);
    if (peer.throttleTimer) clearTimeout(peer.throttleTimer);
    peer.outstanding.clear();
    if (peer.seed) this.#picker.removeSeed();
    else this.#picker.removePeerAvailability({ has: (i) => peer.have.get(i) });
    this.emit('peer-disconnected', { key: peer.id, reason });
    // Blocks it held go to others at once.
    for (const other of this.#peers.values()) this.#fillRequests(other);
    this.#dialMore();
  }

  // ---------------------------------------------------------------- messages

  #onMessage(peer: Peer, message: WireMessage): void {
    switch (message.type) {
      case 'keep-alive':
        return;
      case 'choke':
        peer.peerChoking = true;
        peer.unchokedUsAt = undefined;
        if (!peer.fast) {
          // Without the fast extension a choke discards every pending request.
          for (const request of peer.outstanding.values())
            this.#picker.requestCancelled(peer.id, request);
          peer.outstanding.clear();
        }
        return;
      case 'unchoke':
        peer.peerChoking = false;
        peer.unchokedUsAt = Date.now();
        this.#fillRequests(peer);
        return;
      case 'interested':
        peer.peerInterested = true;
        this.#maybeUnchokeNow(peer);
        return;
      case 'not-interested':
        peer.peerInterested = false;
        return;
      case 'have':
        this.#onHave(peer, message.index);
        return;
      case 'bitfield':
        this.#onBitfield(peer, message.bytes);
        return;
      case 'have-all':
        if (!peer.fast) return peer.conn.close('have-all without the fast extension');
        if (!peer.seed) {
          // aria2c sends have-all once it completes, after bitfields: swap its counts for a seed's.
          const previous = peer.have;
          if (previous.count() > 0)
            this.#picker.removePeerAvailability({ has: (i) => previous.get(i) });
          peer.seed = true;
          peer.have = new BitField(this.meta.pieceCount);
          peer.have.setAll();
          this.#picker.addSeed();
          this.#updateInterest(peer);
        }
        return;
      case 'have-none':
        if (!peer.fast) return peer.conn.close('have-none without the fast extension');
        return;
      case 'request':
        this.#onRequest(peer, message);
        return;
      case 'cancel':
        peer.uploadQueue = peer.uploadQueue.filter(
          (r) => r.index !== message.index || r.begin !== message.begin,
        );
        return;
      case 'piece':
        this.#onPiece(peer, message.index, message.begin, message.block);
        return;
      case 'reject': {
        if (!peer.fast) return peer.conn.close('reject without the fast extension');
        if (peer.outstanding.delete(this.#requestKey(message.index, message.begin)))
          this.#picker.requestCancelled(peer.id, message);
        return;
      }
      case 'allowed-fast':
        if (message.index < this.meta.pieceCount) peer.allowedFast.add(message.index);
        return;
      case 'extended':
        if (message.id === EXTENDED_HANDSHAKE_ID) {
          try {
            peer.extended = decodeExtendedHandshake(message.payload);
            peer.identity.listenPort = peer.extended.p;
          } catch {
            // A malformed extension handshake only costs the peer its extensions.
          }
          return;
        }
        try {
          this.#extensions.onMessage(extensionPeer(peer), message.id, message.payload);
        } catch (error) {
          peer.conn.close(`bad extension message: ${(error as Error).message}`);
        }
        return;
      case 'port':
      case 'suggest':
        return;
    }
  }

  #onHave(peer: Peer, index: number): void {
    if (index >= this.meta.pieceCount)
      return peer.conn.close(`have for piece ${index} out of range`);
    if (peer.seed || peer.have.get(index)) return;
    peer.have.set(index);
    this.#picker.addHave(index);
    if (!peer.amInterested && this.#picker.isWanted(index) && !this.#picker.hasPiece(index))
      this.#setInterested(peer, true);
    if (peer.amInterested) this.#fillRequests(peer);
  }

  #onBitfield(peer: Peer, bytes: Uint8Array): void {
    // A seed (have-all) can gain nothing from a later bitfield.
    if (peer.seed) return;
    let field: BitField;
    try {
      field = BitField.fromBytes(bytes, this.meta.pieceCount);
    } catch (error) {
      return peer.conn.close(`bad bitfield: ${(error as Error).message}`);
    }
    // BEP 3 sends a bitfield only first, but aria2c sends fresh ones instead of `have`
    // messages as it completes pieces (after have-none, too): take each as the peer's
    // whole state, replacing what it told us before.
    const previous = peer.have;
    if (previous.count() > 0) this.#picker.removePeerAvailability({ has: (i) => previous.get(i) });
    peer.have = field;
    this.#picker.addPeerAvailability({ has: (i) => field.get(i) });
    this.#updateInterest(peer);
  }

  #updateInterest(peer: Peer): void {
    let interested = false;
    if (!this.#picker.isComplete()) {
      for (let i = 0; i < this.meta.pieceCount; i++) {
        if (peer.have.get(i) && this.#picker.isWanted(i) && !this.#picker.hasPiece(i)) {
          interested = true;
          break;
        }
      }
    }
    this.#setInterested(peer, interested);
    if (interested) this.#fillRequests(peer);
  }

  #setInterested(peer: Peer, interested: boolean): void {
    if (peer.amInterested === interested) return;
    peer.amInterested = interested;
    peer.conn.send({ type: interested ? 'interested' : 'not-interested' });
  }

  // ---------------------------------------------------------------- downloading

  /**
   * Tops up the requests outstanding to `peer`. After each block (`afterBlock`)
   * it waits until an eighth of the queue has drained, so requests go out in
   * batches rather than one per block (each batch costs a system call).
   */
  #fillRequests(peer: Peer, afterBlock = false): void {
    if (this.#phase !== 'downloading' || !peer.amInterested || peer.conn.closed) return;
    if (peer.peerChoking && peer.allowedFast.size === 0) return;
    const now = Date.now();
    if (peer.throttleTimer) return;
    const depth = desiredQueueDepth({
      rate: peer.conn.downloaded.rate(now),
      peerReqq: peer.extended?.reqq,
      snubbed: this.#isSnubbed(peer, now),
    });
    const want = depth - peer.outstanding.size;
    if (want <= 0 || (afterBlock && want < Math.ceil(depth / 8))) return;
    // Every started piece needs a buffer: start new ones only while buffers remain.
    const freeBuffers = this.#buffers.capacity - this.#picker.partialPieces - this.#verifying.size;
    const blocks = this.#picker.pickBlocks(
      {
        id: peer.id,
        has: (i) => peer.have.get(i) && (freeBuffers > 0 || this.#pieceBuffers.has(i)),
        choked: peer.peerChoking,
        allowedFast: peer.allowedFast,
      },
      want,
      now,
      Math.max(0, freeBuffers),
    );
    for (const { index, begin, length } of blocks) {
      peer.outstanding.set(this.#requestKey(index, begin), { index, begin, length, at: now });
    }
    peer.conn.sendRequests(blocks);
  }

  /**
   * A request's key in `peer.outstanding`: its block's number in the torrent
   * (a number, not a string, because a download looks one up for every block).
   * -1 for a position no request of ours can have: we only ask for whole blocks.
   */
  #requestKey(index: number, begin: number): number {
    if (begin % BLOCK_SIZE !== 0 || begin < 0 || begin >= this.meta.pieceLength) return -1;
    return index * this.#blocksPerPiece + begin / BLOCK_SIZE;
  }

  #onPiece(peer: Peer, index: number, begin: number, block: Uint8Array): void {
    const key = this.#requestKey(index, begin);
    const request = peer.outstanding.get(key);
    if (!request || request.length !== block.length) {
      // Unrequested data: ignore it (a cancelled request may still arrive), but never store it.
      return;
    }
    peer.outstanding.delete(key);
    const now = Date.now();
    peer.rtt.add(now - request.at);
    peer.lastBlockAt = now;
    peer.lastActiveAt = now;
    this.#downloadedPayload += block.length;
    const result = this.#picker.blockReceived(peer.id, index, begin, block.length);
    if (result.kind === 'accepted') {
      let buffer = this.#pieceBuffers.get(index);
      if (!buffer) {
        buffer = this.#buffers.acquire(this.#picker.pieceSize(index));
        this.#pieceBuffers.set(index, buffer);
      }
      copyBytes(block, buffer, begin);
      for (const cancel of result.cancels) {
        const other = this.#peers.get(cancel.peerId);
        if (other?.outstanding.delete(this.#requestKey(cancel.index, cancel.begin))) {
          other.conn.send({
            type: 'cancel',
            index: cancel.index,
            begin: cancel.begin,
            length: cancel.length,
          });
        }
      }
      if (result.pieceComplete) void this.#verifyPiece(index);
    }
    const delay = this.#downloadLimiter.take(block.length, now);
    if (delay > 0) this.#throttle(peer, now + delay);
    else this.#fillRequests(peer, true);
  }

  /**
   * --download-limit: stops reading from the peer until `until`. Every block
   * taken from the bucket pushes the time further, and one timer per peer
   * resumes it only when the whole debt is paid, so the average rate holds.
   */
  #throttle(peer: Peer, until: number): void {
    peer.throttledUntil = Math.max(peer.throttledUntil, until);
    if (peer.throttleTimer) return;
    peer.conn.pause();
    const check = () => {
      const wait = peer.throttledUntil - Date.now();
      if (wait > 0 && !peer.conn.closed) {
        peer.throttleTimer = setTimeout(check, wait);
        return;
      }
      peer.throttleTimer = null;
      peer.conn.resume();
      this.#fillRequests(peer);
    };
    peer.throttleTimer = setTimeout(check, Math.max(0, until - Date.now()));
  }

  async #verifyPiece(index: number): Promise<void> {
    const buffer = this.#pieceBuffers.get(index);
    if (!buffer || this.#verifying.has(index)) return;
    this.#verifying.add(index);
    let good: boolean;
    let guilty: Identity[] = [];
    try {
      good = await this.#verifier.verify(index, buffer);
      if (good) {
        guilty = this.#smartBan.piecePassed(index, buffer);
        await this.storage.write(index, 0, buffer);
      } else {
        const senders = this.#picker.blockSenders(index);
        this.#smartBan.pieceFailed(
          index,
          buffer,
          senders.map((id) => (id === undefined ? undefined : this.#identities.get(id))),
        );
      }
    } catch (error) {
      this.#verifying.delete(index);
      await this.#fail(error);
      return;
    } finally {
      this.#pieceBuffers.delete(index);
      this.#buffers.release(buffer);
    }
    this.#verifying.delete(index);
    if (this.#stopping) return;
    // While every buffer was taken no peer could be given a new piece, and their
    // queues may have run dry: a freed buffer is new work for them now, not at
    // the next tick (with large pieces the buffers run out all the time).
    const wasMemoryFull =
      this.#picker.partialPieces + this.#verifying.size + 1 >= this.#buffers.capacity;
    for (const identity of guilty)
      this.#ban(identity, 'sent a block that differs from the verified piece');
    if (good) {
      this.#picker.pieceVerified(index);
      const print = fingerprint(buffer);
      this.#verified.set(index, print);
      this.#resume?.record(index, print);
      this.#lastProgressAt = Date.now();
      this.emit('piece-verified', index);
      for (const peer of this.#peers.values()) {
        if (!peer.have.get(index)) peer.conn.send({ type: 'have', index });
      }
      if (this.#picker.isComplete()) await this.#onComplete();
      else if (wasMemoryFull) for (const peer of this.#peers.values()) this.#fillRequests(peer);
    } else {
      const contributors = this.#picker.pieceFailed(index);
      this.emit('piece-failed', index, contributors);
      // A connection that sent a whole bad piece alone is certainly lying. With several
      // contributors nobody is blamed yet: smart ban convicts the one whose blocks differ
      // from a copy that verifies later, never the honest ones that helped.
      const sole = contributors.length === 1 ? this.#identities.get(contributors[0]!) : undefined;
      if (sole) this.#ban(sole, 'sent data that failed the hash check');
      for (const peer of this.#peers.values()) this.#fillRequests(peer);
    }
  }

  /** Bans the peer behind a connection (see BanList for the rule) and drops what it covers. */
  #ban(identity: Identity, reason: string): void {
    if (this.#bans.refuses(identity)) return; // already banned (smart ban may convict it twice)
    this.#bans.ban(identity);
    const candidate = this.#candidates.get(identity.key);
    if (candidate && identity.outgoing) candidate.forbidden = true;
    this.emit('warning', `banned peer ${identity.key}: ${reason}`);
    // Only the offender's own connections close: honest peers that share its address and
    // are connected already stay (the ban applies to new connections; see BanList).
    for (const peer of this.#peers.values()) {
      if (peer.id === identity.key || peer.identity.peerIdHex === identity.peerIdHex)
        peer.conn.close(`banned: ${reason}`);
    }
  }

  #rememberIdentity(identity: Identity): void {
    this.#identities.delete(identity.key);
    this.#identities.set(identity.key, identity);
    if (this.#identities.size > MAX_IDENTITIES)
      this.#identities.delete(this.#identities.keys().next().value!);
  }

  #isSnubbed(peer: Peer, now: number): boolean {
    return isSnubbed({
      unchokedAt: peer.unchokedUsAt,
      lastBlockAt: peer.lastBlockAt,
      outstanding: peer.outstanding.size,
      now,
      snubMs: 30_000,
    });
  }

  // ---------------------------------------------------------------- uploading

  #onRequest(peer: Peer, request: BlockRef): void {
    const valid =
      request.index < this.meta.pieceCount &&
      request.length > 0 &&
      request.begin + request.length <= this.#picker.pieceSize(request.index) &&
      this.#picker.hasPiece(request.index);
    if (!valid || peer.amChoking || peer.uploadQueue.length >= MAX_UPLOAD_QUEUE) {
      if (peer.fast)
        peer.conn.send({
          type: 'reject',
          index: request.index,
          begin: request.begin,
          length: request.length,
        });
      return;
    }
    peer.uploadQueue.push({ index: request.index, begin: request.begin, length: request.length });
    this.#serveUploads(peer);
  }

  async #serveUploads(peer: Peer): Promise<void> {
    if (peer.serving) return;
    peer.serving = true;
    try {
      while (
        peer.uploadQueue.length > 0 &&
        !peer.conn.closed &&
        !peer.amChoking &&
        !peer.conn.congested &&
        peer.queuedBytes < MAX_QUEUED_UPLOAD_BYTES
      ) {
        const request = peer.uploadQueue.shift()!;
        const block = await this.#reader.read(request);
        if (!block) {
          // Data we verified has gone (deleted or truncated underneath us): serving on would
          // mean advertising pieces we cannot deliver. Stop; a rerun rechecks what is left.
          const file = this.storage
            .sources(request.index)
            .find((source) => source.path !== null)?.path;
          void this.#fail(
            new DiskError(
              `${file ?? 'data'} was deleted or truncated while in use; run the command again to recheck it`,
            ),
          );
          return;
        }
        const delay = this.#uploadLimiter.take(request.length, Date.now());
        if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
        if (peer.conn.closed || peer.amChoking) {
          block.release();
          break;
        }
        // The lease ends when the socket has written the block or closed (see PieceCache).
        peer.queuedBytes += request.length;
        this.#stats.queuedBytes += request.length;
        this.#stats.maxQueuedBytes = Math.max(this.#stats.maxQueuedBytes, peer.queuedBytes);
        peer.conn.sendBlock(request.index, request.begin, block.data, () => {
          peer.queuedBytes -= request.length;
          this.#stats.queuedBytes -= request.length;
          peer.lastWrittenAt = Date.now();
          block.release();
          if (peer.uploadQueue.length > 0 && !peer.conn.closed) void this.#serveUploads(peer);
        });
        this.#uploadedPayload += request.length;
        peer.lastActiveAt = Date.now();
      }
    } catch (error) {
      this.emit('warning', `serving ${peer.id}: ${(error as Error).message}`);
    } finally {
      peer.serving = false;
    }
  }

  #maybeUnchokeNow(peer: Peer): void {
    // Start trading at once instead of waiting up to a whole choke round.
    const unchoked = [...this.#peers.values()].filter((p) => !p.amChoking).length;
    if (peer.amChoking && unchoked < this.#choker().slots + 1) this.#setChoking(peer, false);
  }

  #choker(): Choker {
    return this.#phase === 'seeding' ? this.#seedChoker : this.#leechChoker;
  }

  #setChoking(peer: Peer, choking: boolean): void {
    if (peer.amChoking === choking) return;
    peer.amChoking = choking;
    peer.conn.send({ type: choking ? 'choke' : 'unchoke' });
    if (choking) {
      if (peer.fast) {
        for (const r of peer.uploadQueue)
          peer.conn.send({ type: 'reject', index: r.index, begin: r.begin, length: r.length });
      }
      peer.uploadQueue = [];
    }
  }

  #chokeRound(now: number): void {
    const peers = [...this.#peers.values()];
    const unchoke = this.#choker().decide(
      peers.map((peer) => ({
        id: peer.id,
        interested: peer.peerInterested,
        downloadRate: peer.conn.downloaded.rate(now),
        uploadRate: peer.conn.uploaded.rate(now),
        snubbed: this.#isSnubbed(peer, now),
        connectedAt: peer.connectedAt,
      })),
      now,
      this.#phase === 'seeding',
    );
    for (const peer of peers) this.#setChoking(peer, !unchoke.has(peer.id));
  }

  // ---------------------------------------------------------------- timing

  #onTick(): void {
    const now = Date.now();
    if (this.#stopping) return;
    for (const peer of this.#peers.values()) {
      const timeout = peer.rtt.timeoutMs({ maxMs: 30_000, minMs: 3_000 });
      for (const [key, request] of peer.outstanding) {
        if (now - request.at > timeout) {
          peer.outstanding.delete(key);
          this.#picker.requestTimedOut(peer.id, request);
          peer.conn.send({
            type: 'cancel',
            index: request.index,
            begin: request.begin,
            length: request.length,
          });
        }
      }
      if (now - peer.conn.lastSentAt > KEEPALIVE_MS) peer.conn.send({ type: 'keep-alive' });
      if (now - peer.conn.lastReceivedAt > IDLE_MS) peer.conn.close('idle for too long');
      if (peer.queuedBytes > 0 && now - peer.lastWrittenAt > UPLOAD_STALL_MS)
        peer.conn.close('does not read what we send');
      if (peer.peerInterested || (peer.amInterested && !peer.peerChoking)) peer.lastActiveAt = now;
      this.#fillRequests(peer);
    }
    this.#dropIdlePeers(now);
    if (now - this.#lastChokeRound >= CHOKE_ROUND_MS) {
      this.#lastChokeRound = now;
      this.#chokeRound(now);
      // Lose interest in peers that have nothing left we want (an O(pieces) scan, so not every tick).
      if (this.#phase === 'downloading') {
        for (const peer of this.#peers.values()) if (peer.amInterested) this.#updateInterest(peer);
      }
    }
    this.#dialMore();
    if (now - this.#lastPexAt >= PEX_CHECK_MS) {
      this.#lastPexAt = now;
      this.#extensions.sharePeers([...this.#peers.values()].map(extensionPeer), now);
    }
    if (this.#peers.size === 0)
      for (const discovery of this.#discoveries) discovery.requestPeers?.();
    this.emit('progress', this.stats());

    const stall = this.#options.stallTimeoutMs;
    if (this.#phase === 'downloading' && stall && now - this.#lastProgressAt > stall) {
      const what =
        this.#candidates.size === 0
          ? 'no peers found'
          : `no data received from ${this.#candidates.size} known peer(s)`;
      void this.#fail(
        new NetworkError(
          `${what} for ${Math.round(stall / 1000)}s; giving up (data verified so far is kept)`,
        ),
      );
    }
    if (this.#phase === 'seeding' && !this.#options.seedForever && this.#seedGoalMet())
      void this.#succeed('seeded');
  }

  /** Idle peers give their slots to peers that wait for one (see peer-slots.ts). */
  #dropIdlePeers(now: number): void {
    const maxPeers = this.#options.maxPeers ?? 50;
    let waiting = this.#incomingRefused;
    this.#incomingRefused = 0;
    if (this.#peers.size + this.#dialsInFlight >= maxPeers) {
      for (const candidate of this.#candidates.values()) {
        if (waiting >= maxPeers) break;
        if (!candidate.connected && !candidate.forbidden && candidate.nextAttemptAt <= now)
          waiting++;
      }
    }
    const idle = idlePeersToDrop(
      [...this.#peers.values()].map((peer) => ({
        id: peer.id,
        lastActiveAt: peer.lastActiveAt,
      })),
      { now, idleMs: this.#options.idlePeerMs ?? IDLE_PEER_MS, waiting },
    );
    for (const id of idle) this.#peers.get(id)?.conn.close(IDLE_DROP_REASON);
  }

  // ---------------------------------------------------------------- ending

  async #onComplete(): Promise<void> {
    if (this.#completedAt) return;
    this.#completedAt = Date.now();
    await this.storage.finish();
    this.emit('complete');
    for (const discovery of this.#discoveries) discovery.completed?.();
    const seeding =
      this.#options.seedForever ||
      this.#options.seedTimeMs !== undefined ||
      this.#options.seedRatio !== undefined;
    if (!seeding) {
      await this.#succeed('complete');
      return;
    }
    this.#setPhase('seeding');
    for (const peer of this.#peers.values()) {
      this.#setInterested(peer, false);
      // Two seeds have nothing to trade.
      if (peer.seed || peer.have.count() === this.meta.pieceCount) peer.conn.close('both complete');
    }
    if (this.#seedGoalMet()) await this.#succeed('seeded');
  }

  #seedGoalMet(): boolean {
    if (this.#options.seedForever) return false;
    const { seedTimeMs, seedRatio } = this.#options;
    if (seedTimeMs === undefined && seedRatio === undefined) return true;
    if (seedTimeMs !== undefined && Date.now() - this.#completedAt >= seedTimeMs) return true;
    if (seedRatio !== undefined) {
      const base = this.#downloadedPayload || this.#wantedBytesTotal();
      if (base > 0 && this.#uploadedPayload / base >= seedRatio) return true;
    }
    return false;
  }

  async #succeed(status: SessionSummary['status']): Promise<void> {
    if (this.#stopping) return;
    await this.#shutdown();
    this.#setPhase('done');
    this.#finish?.resolve({
      status: this.#completedAt && status === 'complete' ? 'complete' : status,
      downloaded: this.#downloadedPayload,
      uploaded: this.#uploadedPayload,
      seconds: (Date.now() - this.#startedAt) / 1000,
      peers: this.#peersSeen.size,
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
    this.#checkAbort.abort(new InterruptedError());
    this.#setPhase('stopping');
    if (this.#tick) clearInterval(this.#tick);
    this.#tick = null;
    // Pieces being verified right now finish (and are written) before we close storage.
    while (this.#verifying.size > 0) await new Promise((resolve) => setTimeout(resolve, 10));
    await Promise.allSettled(this.#discoveries.map((discovery) => discovery.stop()));
    for (const peer of this.#peers.values()) peer.conn.close('shutting down');
    await new Promise<void>((resolve) =>
      this.#server ? this.#server.close(() => resolve()) : resolve(),
    );
    try {
      await this.storage.flush();
      await this.#saveResumeState();
    } finally {
      await this.storage.close();
      // Whatever failed above, this session's lock on the folder ends with it (a no-op when
      // the state was saved or removed, which released it already).
      await this.#resume?.unlock();
    }
  }

  /**
   * At a stop: an incomplete download keeps a fresh snapshot (the journal is
   * folded in); a complete one needs no resume state at all.
   */
  async #saveResumeState(): Promise<void> {
    if (!this.#resume) return;
    // Stopped before the check ended: nothing new is known, the state on disk stays as it was.
    if (!this.#checked) return await this.#resume.unlock();
    try {
      if (this.#picker.isComplete()) await this.#resume.remove();
      else await this.#resume.close(this.#verified);
    } catch (error) {
      this.emit('warning', `could not save resume state: ${(error as Error).message}`);
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

/** Word-aligned staging for copies into shared memory (see copyBytes). */
let bounce = new Uint8Array(32 * 1024);

/**
 * Copies a received block into a piece buffer (shared memory). V8 copies into
 * shared memory word by word only when the source is word-aligned, and byte by
 * byte otherwise (~6x slower); a block inside a socket chunk usually sits at
 * an odd offset (after its 13-byte header). An unaligned block is therefore
 * first copied into an aligned scratch buffer (ordinary memory: a plain memcpy).
 */
function copyBytes(source: Uint8Array, target: Uint8Array, offset: number): void {
  if (source.byteOffset % 8 === 0) {
    target.set(source, offset);
    return;
  }
  if (bounce.length < source.length) bounce = new Uint8Array(source.length);
  bounce.set(source);
  target.set(bounce.subarray(0, source.length), offset);
}
