/**
 * Fetches the info dictionary of a magnet link or bare info-hash from peers
 * (BEP 9 over BEP 10). Peers come from the given discoveries (trackers, DHT,
 * `x.pe` peers, ...) and from ut_pex messages of the peers we reach. Pieces
 * are requested from every peer that announces a metadata size, a few at a
 * time each; the assembled bytes are checked against the info-hash(es), and
 * peers proven to have sent bad metadata are dropped (see MetadataAssembler).
 *
 * Everything a peer sends is hostile: sizes are capped by the codec, pieces
 * are only accepted when requested from that very connection, slow peers time
 * out, and no peer can stall the fetch for others.
 *
 * Dialing and keeping the connections is metadata-connections.ts's job;
 * with `handOff` they go on to the download (hand-off.ts).
 */
import { swarmHashes } from '../client/swarm-hashes.ts';
import { sameBytes } from '../bytes.ts';
import { NetworkError, InterruptedError } from '../errors.ts';
import type { Transport } from '../transport/transport.ts';
import type { PeerAddress } from '../net/peer-address.ts';
import type { PeerDiscovery } from '../discovery/discovery.ts';
import { DiscoveryHub } from '../discovery/hub.ts';
import { decodeExtendedHandshake } from '../wire/extension.ts';
import type { WireMessage } from '../wire/messages.ts';
import { PexIntake } from '../pex/pex-intake.ts';
import { UT_PEX } from '../pex/ut-pex-codec.ts';
import { MAX_HANDOFF_MESSAGES, type HandedOffPeer } from './hand-off.ts';
import { MetadataAssembler } from './metadata-assembler.ts';
import { MetadataConnections, type PeerState } from './metadata-connections.ts';
import {
  checkMetadataSize,
  decodeUtMetadata,
  encodeUtMetadata,
  MAX_METADATA_SIZE,
  metadataPieceCount,
  UT_METADATA,
} from './ut-metadata-codec.ts';

/** The extension ids we ask peers to use when they message us. */
export const LOCAL_EXTENSION_IDS = { [UT_METADATA]: 1, [UT_PEX]: 2 } as const;

export type MetadataEvent =
  /** A discovery (or a peer's PEX) reported addresses; `total` counts distinct ones so far. */
  | { type: 'peers-found'; source: string; count: number; total: number }
  | { type: 'peer-connected'; peer: string }
  /** The peer announced the metadata size and will be asked for pieces. */
  | { type: 'peer-has-metadata'; peer: string; size: number }
  | { type: 'peer-dropped'; peer: string; reason: string }
  | { type: 'piece'; peer: string; piece: number; received: number; pieceCount: number }
  /** Assembled metadata did not match the info-hash; fetching starts over. */
  | { type: 'mismatch'; contributors: string[]; culprits: string[] }
  | { type: 'warning'; message: string };

export interface FetchMetadataOptions {
  /** The 20-byte info-hash used on the wire (v1, or the truncated v2 hash for v2-only). */
  infoHash: Uint8Array;
  /** The 32-byte v2 info-hash (magnet `btmh`), checked with SHA-256 when given. */
  infoHashV2?: Uint8Array | null;
  peerId: Uint8Array;
  /**
   * Where peers come from. A hub is started here if it is not yet, and left
   * running at the end (its owner hands it to the download); a list of
   * sources is started and stopped here.
   */
  discoveries: PeerDiscovery[] | DiscoveryHub;
  /**
   * Keep the connections (and the dials under way) when the metadata arrives,
   * and return them (`FetchMetadataResult.connections`) for the download to
   * carry on with, instead of closing them.
   */
  handOff?: boolean;
  /** Most simultaneous connections (default 30). */
  maxPeers?: number;
  /** Give up after this long (default 5 minutes). */
  timeoutMs?: number;
  signal?: AbortSignal;
  onEvent?: (event: MetadataEvent) => void;
  /** Our listening port, reported to discoveries (0 = not listening). */
  port?: number;
  /** Client name in our extended handshake. */
  clientName?: string;
  /** A data reply slower than this drops the peer (default 20 s). */
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** How connections are made (default TCP). */
  transport?: Transport;
  /** Requests in flight per peer (default 4): spreads the pieces over peers. */
  maxRequestsPerPeer?: number;
  /** Cap on the announced metadata size (default 16 MiB). */
  maxMetadataSize?: number;
  /** Bound on waiting for each discovery's stop() (default 3 s). */
  stopTimeoutMs?: number;
}

export interface FetchMetadataResult {
  /** The verified info dictionary, exactly as peers sent it. */
  infoBytes: Uint8Array;
  /** Peers that delivered or offered valid metadata: dial these first for the download. */
  peers: PeerAddress[];
  /** Every other address learned and not proven bad (for the download session too). */
  otherPeers: PeerAddress[];
  /** With `handOff`: live connections and dials under way, with what the peers said (see hand-off.ts). */
  connections: HandedOffPeer[];
}

export type { HandedOffPeer } from './hand-off.ts';

/** Rejects tolerated from one peer before giving up on it. */
const MAX_REJECTS = 3;
/** How long a peer without metadata is kept to hear its first PEX message (BEP 11: about a minute apart). */
const PEX_ONLY_MS = 65_000;

export async function fetchMetadata(options: FetchMetadataOptions): Promise<FetchMetadataResult> {
  if (options.infoHash.length !== 20) throw new RangeError('wire info-hash must be 20 bytes');
  const v2 = options.infoHashV2 ?? null;
  // For a v2-only magnet the wire hash is the truncated SHA-256, which SHA-1 cannot match.
  const v1 = v2 && sameBytes(v2.subarray(0, 20), options.infoHash) ? null : options.infoHash;
  const fetcher = new MetadataFetch(
    options,
    new MetadataAssembler({
      infoHash: v1,
      infoHashV2: v2,
      maxSize: options.maxMetadataSize ?? MAX_METADATA_SIZE,
    }),
  );
  return fetcher.run();
}

class MetadataFetch {
  readonly #o: FetchMetadataOptions;
  readonly #assembler: MetadataAssembler;
  readonly #maxRequests: number;
  readonly #requestTimeoutMs: number;
  readonly #connections: MetadataConnections;
  /** Rate limit, caps and address-scope rule for peers' PEX messages (issue #15). */
  readonly #pexIntake = new PexIntake();
  /** Peers that announced a valid metadata size at some point. */
  readonly #useful = new Set<string>();
  readonly #hub: DiscoveryHub;
  /** The hub was made here from a list of sources: it is stopped here too. */
  readonly #ownsHub: boolean;
  #connectedEver = 0;
  #done = false;
  #resolve!: (result: FetchMetadataResult) => void;
  #reject!: (error: unknown) => void;
  #timers: NodeJS.Timeout[] = [];

  constructor(options: FetchMetadataOptions, assembler: MetadataAssembler) {
    this.#o = options;
    this.#assembler = assembler;
    this.#connections = new MetadataConnections({
      infoHash: options.infoHash,
      peerId: options.peerId,
      handOff: options.handOff ?? false,
      maxPeers: Math.max(1, options.maxPeers ?? 30),
      transport: options.transport,
      connectTimeoutMs: options.connectTimeoutMs,
      extensions: LOCAL_EXTENSION_IDS,
      clientName: options.clientName ?? 'shoal',
      port: options.port ?? 0,
      ready: (state) => {
        this.#connectedEver++;
        this.#emit({ type: 'peer-connected', peer: state.connection.key });
      },
      message: (state, message) => this.#onMessage(state, message),
      closed: (state, reason) => this.#onClose(state, reason),
      dialFailed: (key, reason) => {
        this.#emit({ type: 'peer-dropped', peer: key, reason });
        this.#connections.connectMore();
      },
    });
    this.#maxRequests = Math.max(1, options.maxRequestsPerPeer ?? 4);
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 20_000;
    this.#ownsHub = !(options.discoveries instanceof DiscoveryHub);
    this.#hub =
      options.discoveries instanceof DiscoveryHub
        ? options.discoveries
        : new DiscoveryHub(options.discoveries);
  }

  run(): Promise<FetchMetadataResult> {
    const promise = new Promise<FetchMetadataResult>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    const signal = this.#o.signal;
    if (signal?.aborted) {
      this.#fail(abortReason(signal));
      return promise;
    }
    const onAbort = () => this.#fail(abortReason(signal!));
    signal?.addEventListener('abort', onAbort, { once: true });
    void promise.then(
      () => signal?.removeEventListener('abort', onAbort),
      () => signal?.removeEventListener('abort', onAbort),
    );

    const timeoutMs = this.#o.timeoutMs ?? 300_000;
    this.#timers.push(setTimeout(() => this.#fail(this.#timeoutError(timeoutMs)), timeoutMs));
    this.#timers.push(setInterval(() => this.#tick(), 1000));

    this.#hub.attach({
      // Size unknown: a positive `left` keeps trackers from treating us as a seed.
      stats: () => ({ uploaded: 0, downloaded: 0, left: 16 * 1024 }),
      addPeers: (peers, source, swarm) => this.#addPeers(peers, source, swarm),
      warn: (message) => this.#emit({ type: 'warning', message }),
    });
    this.#hub.start(this.#o.infoHash, this.#o.peerId, this.#o.port ?? 0);
    // A magnet with both xt (a hybrid) is looked for in both swarms from the start.
    // (For a btmh-only one both name the v2 swarm: joinSwarms skips the hash it started with.)
    this.#hub.joinSwarms(
      swarmHashes({ infoHash: this.#o.infoHash, infoHashV2: this.#o.infoHashV2 ?? null }),
    );
    return promise;
  }

  #emit(event: MetadataEvent): void {
    if (this.#done && event.type !== 'warning') return;
    try {
      this.#o.onEvent?.(event);
    } catch {
      // A renderer's bug must not break the fetch.
    }
  }

  /** `swarm`: the other swarm of a hybrid they were found in, dialled with that hash. */
  #addPeers(peers: PeerAddress[], source: string, swarm?: Uint8Array): void {
    if (this.#done) return;
    const count = this.#connections.candidates.add(peers, source, swarm);
    if (count > 0) {
      this.#emit({
        type: 'peers-found',
        source,
        count,
        total: this.#connections.candidates.size,
      });
      this.#connections.connectMore();
    }
  }

  #onClose(state: PeerState, reason: string): void {
    const key = state.connection.key;
    this.#assembler.removePeer(key);
    this.#pexIntake.forget(key);
    this.#emit({ type: 'peer-dropped', peer: key, reason });
    this.#connections.connectMore();
    this.#pump();
  }

  #onMessage(state: PeerState, message: WireMessage): void {
    if (this.#done) return;
    if (message.type !== 'extended') {
      if (!this.#o.handOff) return;
      // Kept for the download, which knows the piece count this phase cannot check against.
      if (state.messages.length >= MAX_HANDOFF_MESSAGES)
        state.connection.close('too many messages before the metadata arrived');
      else state.messages.push(message);
      return;
    }
    if (message.id === 0 && this.#o.handOff) state.extendedHandshake = message.payload;
    const key = state.connection.key;
    try {
      if (message.id === 0) this.#onHandshake(state, message.payload);
      else if (message.id === LOCAL_EXTENSION_IDS[UT_METADATA])
        this.#onMetadata(state, message.payload);
      else if (message.id === LOCAL_EXTENSION_IDS[UT_PEX]) {
        const sender = { key, host: state.connection.address.host };
        const added = this.#pexIntake.receive(sender, message.payload, Date.now());
        this.#addPeers(added, `pex from ${key}`);
      }
    } catch (error) {
      state.connection.close(`protocol error: ${(error as Error).message}`);
    }
  }

  #onHandshake(state: PeerState, payload: Uint8Array): void {
    const handshake = decodeExtendedHandshake(payload);
    const id = handshake.m.get(UT_METADATA) ?? 0;
    if (id === 0 || handshake.metadataSize === undefined) {
      if (state.metadataSize !== null) {
        // A repeated handshake withdrew ut_metadata.
        this.#assembler.removePeer(state.connection.key);
        state.metadataSize = null;
        state.requests.clear();
      }
      // No metadata (yet): a peer that speaks PEX may still tell us who has it.
      if ((handshake.m.get(UT_PEX) ?? 0) !== 0) state.pexOnlyUntil ??= Date.now() + PEX_ONLY_MS;
      else state.connection.close('peer does not offer metadata');
      return;
    }
    state.pexOnlyUntil = null;
    const size = checkMetadataSize(
      handshake.metadataSize,
      this.#o.maxMetadataSize ?? MAX_METADATA_SIZE,
    );
    if (state.metadataSize !== null && state.metadataSize !== size) {
      state.connection.close('peer changed its metadata size');
      return;
    }
    state.metadataSize = size;
    state.remoteId = id;
    this.#useful.add(state.connection.key);
    this.#emit({ type: 'peer-has-metadata', peer: state.connection.key, size });
    this.#pump();
  }

  #onMetadata(state: PeerState, payload: Uint8Array): void {
    const key = state.connection.key;
    if (state.metadataSize === null) {
      state.connection.close('ut_metadata message before the extended handshake');
      return;
    }
    const message = decodeUtMetadata(payload, { metadataSize: state.metadataSize });
    if (message.type === 'request') {
      // We have no metadata to give yet.
      state.connection.send({
        type: 'extended',
        id: state.remoteId,
        payload: encodeUtMetadata({ type: 'reject', piece: message.piece }),
      });
      return;
    }
    if (message.type === 'reject') {
      if (!state.requests.delete(message.piece)) return;
      this.#assembler.rejected(key, message.piece);
      if (++state.rejects > MAX_REJECTS) {
        state.connection.close('peer keeps rejecting metadata requests');
        return;
      }
      // libtorrent rejects when requests come too fast: back off, then try again.
      state.backoffUntil = Date.now() + 2000 * state.rejects;
      this.#pump();
      return;
    }
    if (message.type !== 'data') return;
    if (!state.requests.delete(message.piece)) {
      state.connection.close('sent a metadata piece we did not request');
      return;
    }
    const result = this.#assembler.add(key, message.piece, message.totalSize, message.data);
    switch (result.status) {
      case 'ignored':
        // Requested from this peer but no longer wanted (the round was reset): harmless.
        break;
      case 'stored':
        this.#emit({
          type: 'piece',
          peer: key,
          piece: message.piece,
          received: result.received,
          pieceCount: result.pieceCount,
        });
        break;
      case 'mismatch':
        this.#emit({
          type: 'mismatch',
          contributors: result.contributors,
          culprits: result.culprits,
        });
        for (const culprit of result.culprits)
          this.#drop(culprit, 'sent metadata that does not match the info-hash');
        // Replies to requests of the failed round still arrive; the assembler ignores them.
        break;
      case 'complete': {
        const pieceCount = metadataPieceCount(result.infoBytes.length);
        this.#emit({
          type: 'piece',
          peer: key,
          piece: message.piece,
          received: pieceCount,
          pieceCount,
        });
        for (const liar of result.liars)
          this.#drop(liar, 'sent metadata that does not match the info-hash');
        this.#finish(result.infoBytes);
        return;
      }
    }
    this.#pump();
  }

  #drop(key: string, reason: string): void {
    this.#connections.candidates.forbid(key);
    this.#useful.delete(key);
    const peer = this.#connections.peers.get(key);
    if (peer) peer.connection.close(reason);
    else this.#emit({ type: 'peer-dropped', peer: key, reason });
  }

  /** Hands out requests to every peer with room for more. */
  #pump(): void {
    if (this.#done) return;
    const now = Date.now();
    for (const state of this.#connections.peers.values()) {
      if (state.metadataSize === null || state.connection.closed || state.backoffUntil > now)
        continue;
      while (state.requests.size < this.#maxRequests) {
        const piece = this.#assembler.nextRequest(state.connection.key, state.metadataSize);
        if (piece === null) break;
        // Still outstanding from a failed round: its reply will serve this round too.
        if (state.requests.has(piece)) continue;
        state.requests.set(piece, now);
        state.connection.send({
          type: 'extended',
          id: state.remoteId,
          payload: encodeUtMetadata({ type: 'request', piece }),
        });
      }
    }
  }

  #tick(): void {
    const now = Date.now();
    for (const state of this.#connections.peers.values()) {
      if (state.pexOnlyUntil !== null && state.pexOnlyUntil <= now) {
        state.connection.close('peer does not offer metadata');
        continue;
      }
      for (const sentAt of state.requests.values()) {
        if (now - sentAt > this.#requestTimeoutMs) {
          state.connection.close('metadata request timed out');
          break;
        }
      }
    }
    this.#connections.connectMore();
    this.#pump();
  }

  #timeoutError(timeoutMs: number): NetworkError {
    const seconds = Math.round(timeoutMs / 1000);
    const known = this.#connections.candidates.size;
    if (known === 0) {
      return new NetworkError(
        `no peers found for this torrent within ${seconds}s; add trackers (--tracker) or peers (--peer), or allow more time (--timeout)`,
      );
    }
    return new NetworkError(
      `metadata not received from ${known} peer${known === 1 ? '' : 's'} ` +
        `(${this.#connectedEver} connected, ${this.#useful.size} offering metadata) within ${seconds}s; ` +
        'try again later or allow more time (--timeout)',
    );
  }

  #finish(infoBytes: Uint8Array): void {
    const peers: PeerAddress[] = [];
    const otherPeers: PeerAddress[] = [];
    for (const candidate of this.#connections.candidates.values()) {
      if (candidate.forbidden) continue;
      (this.#useful.has(candidate.key) ? peers : otherPeers).push(candidate.address);
    }
    const connections: HandedOffPeer[] = this.#o.handOff ? this.#connections.handOff() : [];
    void this.#shutdown().then(() => this.#resolve({ infoBytes, peers, otherPeers, connections }));
  }

  #fail(error: unknown): void {
    if (this.#done) return;
    void this.#shutdown().then(() => this.#reject(error));
  }

  async #shutdown(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#connections.close('metadata fetch finished');
    if (this.#ownsHub) await this.#hub.stop(this.#o.stopTimeoutMs ?? 3000);
  }
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason instanceof Error && signal.reason.name !== 'AbortError'
    ? signal.reason
    : new InterruptedError('interrupted while fetching metadata');
}
