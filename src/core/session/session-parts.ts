/**
 * The parts one torrent's session is made of, built and wired to each other:
 * its data (storage and picker), the client it runs on, its peer sources, the
 * resume state, peer extensions, BEP 52 piece layers, the download scheduler,
 * the uploader, the peer pool and the timer's rounds.
 *
 * The session (torrent-session.ts) keeps the lifecycle. What the parts ask of
 * it (its phase, its events, whether it is ending) comes in as SessionHooks;
 * no hook is called while building, only once the session runs, so the hooks
 * may read session state that is set after this returns.
 */
import type { EventEmitter } from 'node:events';
import { swarmHashes } from '../client/swarm-hashes.ts';
import { DiscoveryHub } from '../discovery/hub.ts';
import type { PeerAddress } from '../net/peer-address.ts';
import type { DiskStorage } from '../storage/disk-storage.ts';
import type { PiecePicker } from '../swarm/piece-picker.ts';
import { DownloadScheduler } from './download-scheduler.ts';
import { PeerExtensions } from './peer-extensions.ts';
import { PeerPool } from './peer-pool.ts';
import { PieceLayerPhase } from './piece-layer-phase.ts';
import { PieceLayerServer } from './piece-layer-server.ts';
import { SessionClient } from './session-client.ts';
import { openSessionData } from './session-data.ts';
import type { SessionEnding } from './session-ending.ts';
import { peerConnected, peerDisconnected, type PeerEventParts } from './session-peer-events.ts';
import { sessionPeerHandler } from './session-peer-handler.ts';
import { SessionResume } from './session-resume.ts';
import { SessionRounds } from './session-rounds.ts';
import type { SessionEvents, SessionOptions, SessionPhase } from './session-types.ts';
import { Uploader } from './uploader.ts';
import type { WebSeedSource } from './web-seed-source.ts';

/** Requests of us one peer may have queued; the same number is offered in the extension handshake. */
const MAX_UPLOAD_QUEUE = 500;

/** What the parts ask of the session that owns them. */
export interface SessionHooks {
  /** The session's events: parts report warnings, peers and failed pieces through them. */
  events: EventEmitter<SessionEvents>;
  phase(): SessionPhase;
  /** New addresses to dial, from a peer's PEX or any other source. */
  addPeers(peers: PeerAddress[], source: string): void;
  /** A piece passed its hash check and was written. */
  pieceVerified(index: number, print: bigint): Promise<void>;
  /** Whether the pool may dial more peers (not while stopping, nor once seeding has met its goal). */
  mayDial(): boolean;
  /** Made when downloading starts, if the torrent or the user named web seeds. */
  webSeeds(): WebSeedSource | null;
  /** A failure ends the run; while it is stopping, no part starts new work. */
  ending: Pick<SessionEnding, 'fail' | 'stopping'>;
}

/** The parts the session's lifecycle uses (the rest are wired into these and live on in them). */
export interface SessionParts {
  storage: DiskStorage;
  picker: PiecePicker;
  client: SessionClient;
  discovery: DiscoveryHub;
  resume: SessionResume;
  /** BEP 52: fetching missing piece layers; no block is requested while it runs. */
  layers: PieceLayerPhase;
  download: DownloadScheduler;
  upload: Uploader;
  pool: PeerPool;
  rounds: SessionRounds;
}

/** The torrent's identity, fixed by the session before its parts are built. */
export interface SessionIdentity {
  infoHash: Uint8Array;
  peerId: Uint8Array;
}

export function buildSessionParts(
  options: SessionOptions,
  identity: SessionIdentity,
  hooks: SessionHooks,
): SessionParts {
  const { meta } = options;
  const { infoHash, peerId } = identity;
  const { events, ending } = hooks;
  const warn = (message: string) => events.emit('warning', message);
  const { storage, picker } = openSessionData(meta, infoHash, options);
  const client = new SessionClient({
    client: options.client,
    port: options.port,
    hashPool: options.hashPool,
    warn,
    listening: (port) => events.emit('listening', port),
  });
  const discovery =
    options.discoveries instanceof DiscoveryHub
      ? options.discoveries
      : new DiscoveryHub(options.discoveries ?? []);
  const resume = new SessionResume({
    outDir: options.outDir,
    infoHash,
    pieceCount: meta.pieceCount,
    pieceLength: meta.pieceLength,
    readOnly: options.readOnly,
  });
  const extensions = new PeerExtensions({
    infoBytes: meta.infoBytes,
    isPrivate: meta.private,
    clientName: `shoal ${options.version ?? ''}`.trim(),
    maxRequests: MAX_UPLOAD_QUEUE,
    port: () => client.port,
    addPeers: hooks.addPeers,
  });
  // BEP 52: answers peers' hash requests from the piece layers we hold, or
  // builds a complete file's layer from its verified data (a hybrid from a magnet).
  const layerServer = PieceLayerServer.building(meta, options.hashPool, storage, picker);
  // The pool is built last, as it needs the handlers of the parts before it;
  // those parts reach it only through closures called once the session runs.
  const layers = new PieceLayerPhase({ meta, pool: () => pool });
  const download = new DownloadScheduler({
    meta,
    picker,
    storage,
    hashPool: options.hashPool,
    webSeeds: (options.webSeeds ?? []).length > 0,
    downloadLimit: options.downloadLimit,
    active: () => hooks.phase() === 'downloading' && !layers.running,
    peers: () => pool.peers.values(),
    peer: (key) => pool.peers.get(key),
    identity: (key) => pool.identity(key),
    verified: hooks.pieceVerified,
    failed: (index, contributors) => {
      hooks.webSeeds()?.pieceFailed(contributors);
      events.emit('piece-failed', index, contributors);
    },
    ban: (identity, reason) => pool.ban(identity, reason),
    fatal: (error) => void ending.fail(error),
    stopping: () => ending.stopping,
  });
  const upload = new Uploader({
    picker,
    storage,
    pieceCount: meta.pieceCount,
    pieceLength: meta.pieceLength,
    uploadLimit: options.uploadLimit,
    seeding: () => hooks.phase() === 'seeding',
    peers: () => pool.peers.values(),
    isSnubbed: (peer, now) => download.isSnubbed(peer, now),
    fatal: (error) => void ending.fail(error),
    warn,
  });
  const peerEvents: PeerEventParts = {
    picker,
    download,
    upload,
    extensions,
    layers,
    connected: (peer) => events.emit('peer-connected', peer),
    disconnected: (peer) => events.emit('peer-disconnected', peer),
  };
  const pool: PeerPool = new PeerPool({
    infoHash,
    infoHashes: swarmHashes(meta),
    peerId,
    pieceCount: meta.pieceCount,
    pieceLength: meta.pieceLength,
    maxPeers: options.maxPeers ?? 50,
    transport: client.transport,
    port: () => client.port,
    maxUploadQueue: MAX_UPLOAD_QUEUE,
    handler: sessionPeerHandler({
      download,
      upload,
      extensions,
      layerServer,
      pool: () => pool,
      layerFetcher: () => layers.fetcher,
    }),
    mayDial: hooks.mayDial,
    connected: (peer, adopted) => peerConnected(peerEvents, peer, adopted),
    disconnected: (peer, reason) => peerDisconnected(peerEvents, peer, reason),
    found: (source, count) => events.emit('peers-found', source, count),
    warn,
    failed: (error) => void ending.fail(error),
  });
  const rounds = new SessionRounds({
    pool,
    download,
    upload,
    extensions,
    discovery,
    idlePeerMs: options.idlePeerMs,
    downloading: () => hooks.phase() === 'downloading',
    webSeeds: hooks.webSeeds,
  });
  return { storage, picker, client, discovery, resume, layers, download, upload, pool, rounds };
}
