/**
 * The peers of one torrent: addresses to dial (from every discovery source),
 * dialing with one backoff rule, taking on incoming connections, the slot
 * limits both ways, bans, and dropping idle peers when others wait. It makes
 * a `Peer` for each finished handshake and hands it to the session; what is
 * said over the connection afterwards is the peer's and the session's job.
 */
import type { Duplex } from 'node:stream';
import { findHash } from '../client/swarm-hashes.ts';
import type { HandedOffPeer } from '../metadata/hand-off.ts';
import { addressKey, type PeerAddress } from '../net/peer-address.ts';
import {
  DialCandidates,
  MAX_DIAL_CANDIDATES,
  type DialCandidate,
} from '../peer/dial-candidates.ts';
import { Peer, type PeerHandler } from '../peer/peer.ts';
import { PeerConnection, type HandshakeInfo } from '../peer/peer-connection.ts';
import type { Transport } from '../transport/transport.ts';
import { EXTENDED_HANDSHAKE_ID } from '../wire/extension.ts';
import { makeReserved } from '../wire/handshake.ts';
import { BanList, type PeerIdentity } from './ban-list.ts';
import { DUPLICATE_REASON, keepsNewConnection } from './duplicate-connections.ts';
import { idlePeersToDrop, incomingLimit } from './peer-slots.ts';

/** A peer's identity for bans, with the connection key it had (for messages). */
export type Identity = PeerIdentity & { key: string };

const MAX_DIALS_IN_FLIGHT = 30;
export { MAX_DIAL_CANDIDATES as MAX_CANDIDATES } from '../peer/dial-candidates.ts';
/** Identities of peers seen remembered for smart ban, which may convict a peer after it left. */
const MAX_IDENTITIES = 10_000;
const KEEPALIVE_MS = 60_000;
/** A connection that sent nothing at all (not even a keep-alive) for this long is dead. */
const SILENT_MS = 150_000;
/** A peer whose socket has taken nothing we sent for this long is dropped (it does not read). */
const UPLOAD_STALL_MS = 60_000;
export const IDLE_DROP_REASON = 'idle while other peers wait for a slot';
export interface PeerPoolOptions {
  infoHash: Uint8Array;
  /** Every hash peers may name the torrent by (a hybrid's two; default `infoHash` alone). */
  infoHashes?: readonly Uint8Array[];
  peerId: Uint8Array;
  pieceCount: number;
  pieceLength: number;
  maxPeers: number;
  transport: Transport;
  /** Our listening port (0: not listening), to recognise our own address. */
  port: () => number;
  /** Requests a peer may queue with us before we reject more. */
  maxUploadQueue: number;
  /** Given to every Peer: the session's side of the protocol. */
  handler: PeerHandler;
  /** False while dialing makes no sense (stopping, or seeding with the goal met). */
  mayDial: () => boolean;
  /** A handshake finished; `adopted`: the connection was made earlier (see adopt()). */
  connected: (peer: Peer, adopted: boolean) => void;
  disconnected: (peer: Peer, reason: string) => void;
  /** Addresses reported by a source (for the `peers-found` event). */
  found: (source: string, count: number) => void;
  warn: (message: string) => void;
  /** An exception escaped the engine while it handled a peer's message: a bug, not the peer's doing. */
  failed: (error: unknown) => void;
}

export class PeerPool {
  /** Connected peers (handshake done), by connection key. */
  readonly peers = new Map<string, Peer>();
  readonly #options: PeerPoolOptions;
  /** Connected peers by peer-id (hex): one connection per peer. */
  readonly #byPeerId = new Map<string, Peer>();
  /**
   * Addresses connected peers listen on, when that is not their connection's key (they dialled
   * us, or both sides dialled): dialling one would only open a duplicate connection.
   */
  readonly #listenKeys = new Map<string, Peer>();
  readonly #candidates: DialCandidates;
  readonly #bans = new BanList();
  /** Connection key -> identity, for peers that sent blocks (they may have left by a verdict). */
  readonly #identities = new Map<string, Identity>();
  readonly #identityOf = new Map<Peer, Identity>();
  readonly #peersSeen = new Set<string>();
  #dialsInFlight = 0;
  #incomingPending = 0;
  /** Incoming connections refused for want of a slot since the last tick (they wait too). */
  #incomingRefused = 0;
  #stopped = false;

  constructor(options: PeerPoolOptions) {
    this.#options = options;
    this.#candidates = new DialCandidates({
      max: MAX_DIAL_CANDIDATES,
      isSelf: (address) => this.#isSelf(address),
    });
  }

  /** Addresses known to dial. */
  get knownPeers(): number {
    return this.#candidates.size;
  }

  /** Distinct peers we finished a handshake with. */
  get peersSeen(): number {
    return this.#peersSeen.size;
  }

  identity(key: string): Identity | undefined {
    return this.#identities.get(key);
  }

  /**
   * Adds peer addresses to dial (from any source); `infoHash`: the swarm they
   * were found in, when not the torrent's first (see DialCandidate).
   */
  add(peers: PeerAddress[], source: string, infoHash?: Uint8Array): void {
    this.#candidates.add(peers, source, infoHash);
    if (peers.length > 0) this.#options.found(source, peers.length);
  }

  /** Dials candidates while slots are free and their backoff has passed. */
  dialMore(): void {
    if (this.#stopped) return;
    const limit = this.#options.maxPeers;
    for (const candidate of this.#candidates.dialable(Date.now())) {
      if (
        this.peers.size + this.#dialsInFlight >= limit ||
        this.#dialsInFlight >= MAX_DIALS_IN_FLIGHT
      )
        return;
      // Connected there already (a connection adopted from the metadata fetch has no dial of
      // ours behind it): a second connection is a duplicate the peer may drop, not a new peer.
      if (this.peers.has(candidate.key) || this.#listenKeys.has(candidate.key)) continue;
      if (this.#bans.refusesDial(candidate.address)) {
        this.#candidates.forbid(candidate.key);
        continue;
      }
      if (!this.#options.mayDial()) return;
      void this.#dial(candidate);
    }
  }

  /**
   * Takes on a connection someone opened to us, whose first bytes (`opening`,
   * up to the info-hash) the client read to find this torrent.
   */
  accept(stream: Duplex, address: PeerAddress, opening: Uint8Array): void {
    const maxPeers = this.#options.maxPeers;
    // Connections still in their handshake count too: a flood of sockets that never
    // speak must not hold more than --max-peers slots (each also has a handshake timeout).
    const busy = this.peers.size + this.#incomingPending + this.#dialsInFlight;
    // A banned address is refused before any handshake is read: reconnecting costs us nothing.
    const banned = this.#bans.refusesIncoming(address.host);
    // Incoming connections cannot take the slots kept for peers we dial (see peer-slots.ts).
    let incoming = this.#incomingPending;
    for (const peer of this.peers.values()) if (!peer.conn.outgoing) incoming++;
    const full = busy >= maxPeers || incoming >= incomingLimit(maxPeers);
    if (this.#stopped || banned || full) {
      if (full && !banned) this.#incomingRefused++;
      stream.destroy();
      return;
    }
    stream.on('error', () => {});
    this.#incomingPending++;
    // A hybrid's peer may know it by either hash: we answer with the one it named.
    const named = findHash(this.#options.infoHashes ?? [], opening.subarray(28, 48));
    const options = this.#handshakeOptions(false, undefined, named);
    const conn = PeerConnection.accept(stream, address, options, opening);
    let pending = true;
    const settle = () => {
      if (pending) this.#incomingPending--;
      pending = false;
    };
    conn.once('ready', () => {
      settle();
      this.#ready(conn);
    });
    conn.once('close', settle);
  }

  /**
   * Takes on a peer a magnet's metadata phase connected to before this pool
   * existed. A ready connection's extension handshake and the messages it
   * received meanwhile are replayed to its Peer as if they had just arrived; a
   * dial or handshake still under way becomes one of this pool's dials (so
   * the address is not dialled a second time).
   */
  adopt(handedOff: HandedOffPeer): void {
    if (this.#stopped) {
      handedOff.close('shutting down');
      return;
    }
    const claimed = handedOff.claim();
    if (!claimed) return;
    if (!claimed.ready) {
      this.#candidates.add([handedOff.address], 'metadata fetch');
      const candidate = this.#candidates.get(addressKey(handedOff.address));
      if (!candidate || candidate.busy || candidate.forbidden)
        void claimed.connection.then((conn) => conn?.close(DUPLICATE_REASON));
      else void this.#follow(candidate, () => claimed.connection);
      return;
    }
    const { connection: conn, extendedHandshake, messages } = claimed;
    if (conn.closed) return;
    conn.setDecoderLimits(this.#decoderLimits());
    const peer = this.#ready(conn, true);
    if (!peer) return;
    try {
      if (extendedHandshake)
        peer.onMessage({ type: 'extended', id: EXTENDED_HANDSHAKE_ID, payload: extendedHandshake });
      for (const message of messages) if (!peer.closed) peer.onMessage(message);
    } catch (error) {
      this.#options.failed(error);
    }
  }

  /** Bans the peer behind a connection (see BanList for the rule) and drops what it covers. */
  ban(identity: Identity, reason: string): void {
    if (this.#bans.refuses(identity)) return; // already banned (smart ban may convict it twice)
    this.#bans.ban(identity);
    if (identity.outgoing) this.#candidates.forbid(identity.key);
    this.#options.warn(`banned peer ${identity.key}: ${reason}`);
    // Only the offender's own connections close: honest peers that share its address and
    // are connected already stay (the ban applies to new connections; see BanList).
    for (const peer of this.peers.values()) {
      const other = this.#identityOf.get(peer)!;
      if (peer.key === identity.key || other.peerIdHex === identity.peerIdHex)
        peer.close(`banned: ${reason}`);
    }
  }

  /**
   * The extension handshake told us where the peer listens (its key for bans).
   * A peer that dialled us becomes an address to dial once it leaves, as in
   * libtorrent: without it, a peer that only ever dialled in (a seed that
   * thinks we are complete, say) was lost for good when its connection closed.
   */
  setListenPort(peer: Peer, port: number | undefined): void {
    const identity = this.#identityOf.get(peer);
    if (identity) identity.listenPort = port;
    if (!port) return;
    const address = { host: peer.conn.address.host, port };
    this.#listensAt(peer, addressKey(address));
    if (!peer.conn.outgoing) this.#candidates.add([address], 'incoming');
  }

  /**
   * Addresses worth dialling in a later run of this torrent: the ones that
   * connected or were never tried, newest last, at most `limit`.
   */
  knownAddresses(limit: number): PeerAddress[] {
    const known: PeerAddress[] = [];
    for (const candidate of this.#candidates.values())
      if (!candidate.forbidden && candidate.failures === 0) known.push(candidate.address);
    return known.slice(-limit);
  }

  /**
   * A connected peer also listens at `addresses` (its extension handshake's
   * `ipv6`): they become candidates for after it leaves, never dialled while
   * it is connected.
   */
  alsoListensAt(peer: Peer, addresses: PeerAddress[], source: string): void {
    if (addresses.length === 0) return;
    for (const address of addresses) this.#listensAt(peer, addressKey(address));
    this.add(addresses, source);
  }

  /**
   * Once a tick: keep-alives, and dropping connections that are dead (nothing
   * received for long), do not read what we send, or idle while others wait.
   */
  housekeeping(now: number, idlePeerMs: number): void {
    for (const peer of this.peers.values()) {
      if (now - peer.conn.lastSentAt > KEEPALIVE_MS) peer.conn.send({ type: 'keep-alive' });
      if (now - peer.conn.lastReceivedAt > SILENT_MS) peer.close('idle for too long');
      if (peer.queuedBytes > 0 && now - peer.lastWrittenAt > UPLOAD_STALL_MS)
        peer.close('does not read what we send');
      if (peer.peerInterested || (peer.amInterested && !peer.peerChoking)) peer.lastActiveAt = now;
    }
    this.#dropIdle(now, idlePeerMs);
  }

  /** Idle peers give their slots to peers that wait for one (see peer-slots.ts). */
  #dropIdle(now: number, idleMs: number): void {
    const maxPeers = this.#options.maxPeers;
    let waiting = this.#incomingRefused;
    this.#incomingRefused = 0;
    if (this.peers.size + this.#dialsInFlight >= maxPeers)
      waiting += this.#candidates.waiting(now, Math.max(0, maxPeers - waiting));
    const idle = idlePeersToDrop(
      [...this.peers.values()].map((peer) => ({ id: peer.key, lastActiveAt: peer.lastActiveAt })),
      { now, idleMs, waiting },
    );
    for (const id of idle) this.peers.get(id)?.close(IDLE_DROP_REASON);
  }

  /** Stops dialing and accepting, and closes every connection. */
  stop(reason: string): void {
    this.#stopped = true;
    for (const peer of this.peers.values()) peer.close(reason);
  }

  // ---------------------------------------------------------------- internals

  #handshakeOptions(outgoing: boolean, dialled?: DialCandidate, infoHash = this.#options.infoHash) {
    return {
      local: {
        infoHash,
        peerId: this.#options.peerId,
        reserved: makeReserved({ extensionProtocol: true, fastExtension: true }),
      },
      acceptRemote: (remote: HandshakeInfo) =>
        this.#acceptRemote(remote, infoHash, outgoing, dialled),
      decoderLimits: this.#decoderLimits(),
    };
  }

  #decoderLimits() {
    return { maxBitfieldLength: Math.ceil(this.#options.pieceCount / 8) };
  }

  #acceptRemote(
    remote: HandshakeInfo,
    infoHash: Uint8Array,
    outgoing: boolean,
    dialled: DialCandidate | undefined,
  ): string | null {
    if (Buffer.compare(remote.infoHash, infoHash) !== 0) return 'handshake for another torrent';
    if (Buffer.compare(remote.peerId, this.#options.peerId) === 0) return 'connected to ourselves';
    const peerIdHex = Buffer.from(remote.peerId).toString('hex');
    if (this.#bans.refusesPeerId(peerIdHex)) return 'banned';
    const existing = this.#byPeerId.get(peerIdHex);
    if (existing) {
      // We dialled where it listens: no dialling that address while this peer is connected.
      if (dialled) this.#listensAt(existing, dialled.key);
      if (!keepsNewConnection(this.#options.peerId, remote.peerId, outgoing))
        return DUPLICATE_REASON;
      existing.close(DUPLICATE_REASON);
    }
    return null;
  }

  /** The hash to dial `candidate` with: the swarm it was found in, if that is one of ours. */
  #swarmOf(candidate: DialCandidate): Uint8Array {
    const found = candidate.infoHash;
    return (found && findHash(this.#options.infoHashes ?? [], found)) || this.#options.infoHash;
  }

  /** Records that `peer` listens at `key` (forgotten when it disconnects). */
  #listensAt(peer: Peer, key: string): void {
    if (key !== peer.key && this.peers.get(peer.key) === peer) this.#listenKeys.set(key, peer);
  }

  #dial(candidate: DialCandidate): Promise<void> {
    return this.#follow(candidate, () =>
      PeerConnection.dial(
        this.#options.transport,
        candidate.address,
        this.#handshakeOptions(true, candidate, this.#swarmOf(candidate)),
      ).catch(() => null),
    );
  }

  /** Sees a dial of `candidate` through (ours, or one handed over): null is a failed dial. */
  async #follow(
    candidate: DialCandidate,
    dial: () => Promise<PeerConnection | null>,
  ): Promise<void> {
    this.#candidates.dialing(candidate);
    this.#dialsInFlight++;
    const conn = await dial();
    // (A handed-over connection may have closed before it was handed: no 'close' follows.)
    if (!conn || conn.closed) {
      this.#dialsInFlight--;
      this.#dialFailed(candidate);
      return;
    }
    // A handed-over dial was made without knowing the piece count.
    conn.setDecoderLimits(this.#decoderLimits());
    let settled = false;
    const settle = () => {
      if (!settled) {
        settled = true;
        this.#dialsInFlight--;
      }
    };
    conn.once('ready', () => {
      settle();
      this.#candidates.connected(candidate);
      this.#ready(conn);
    });
    conn.once('close', (reason) => {
      settle();
      if (reason === 'connected to ourselves') this.#candidates.forbid(candidate.key);
      // The peer stays connected through its other connection: losing this one is no failure.
      if (reason === DUPLICATE_REASON) this.#candidates.closed(candidate, 5000);
      else if (!this.peers.has(conn.key)) this.#dialFailed(candidate);
      // A peer dropped for idling would only take a slot back to idle in it again.
      else this.#candidates.closed(candidate, reason === IDLE_DROP_REASON ? 300_000 : 5000);
    });
    if (this.#stopped) conn.close('shutting down');
  }

  /** Backs off (see DialCandidates), then tries the next candidate now. */
  #dialFailed(candidate: DialCandidate): void {
    this.#candidates.failed(candidate);
    // The dial's slot is free: try the next candidate now, not at the next tick. Trackers
    // hand out many peers that are gone, and each would otherwise cost a second.
    this.dialMore();
  }

  /** #onReady, where an exception is the engine's bug (it would otherwise escape through the socket). */
  #ready(conn: PeerConnection, adopted = false): Peer | null {
    try {
      return this.#onReady(conn, adopted);
    } catch (error) {
      this.#options.failed(error);
      return null;
    }
  }

  #onReady(conn: PeerConnection, adopted: boolean): Peer | null {
    const remote = conn.remote!;
    const peerIdHex = Buffer.from(remote.peerId).toString('hex');
    if (this.#stopped || this.peers.has(conn.key) || this.#byPeerId.has(peerIdHex)) {
      conn.close(DUPLICATE_REASON);
      return null;
    }
    const identity: Identity = {
      key: conn.key,
      address: conn.address,
      outgoing: conn.outgoing,
      peerIdHex,
    };
    if (this.#bans.refuses(identity)) {
      conn.close('banned');
      return null;
    }
    this.#rememberIdentity(identity);
    const options = this.#options;
    const peer = new Peer(
      conn,
      { pieceCount: options.pieceCount, pieceLength: options.pieceLength },
      options.handler,
      { maxUploadQueue: options.maxUploadQueue },
    );
    this.peers.set(peer.key, peer);
    this.#identityOf.set(peer, identity);
    this.#byPeerId.set(peerIdHex, peer);
    this.#peersSeen.add(peerIdHex);
    conn.on('message', (message) => {
      try {
        peer.onMessage(message);
      } catch (error) {
        options.failed(error);
      }
    });
    conn.once('close', (reason) => {
      if (this.peers.get(peer.key) !== peer) return;
      this.peers.delete(peer.key);
      this.#identityOf.delete(peer);
      this.#byPeerId.delete(peerIdHex);
      for (const [key, owner] of this.#listenKeys) if (owner === peer) this.#listenKeys.delete(key);
      if (peer.throttleTimer) clearTimeout(peer.throttleTimer);
      options.disconnected(peer, reason);
      this.dialMore();
    });
    options.connected(peer, adopted);
    return peer;
  }

  #rememberIdentity(identity: Identity): void {
    this.#identities.delete(identity.key);
    this.#identities.set(identity.key, identity);
    if (this.#identities.size > MAX_IDENTITIES)
      this.#identities.delete(this.#identities.keys().next().value!);
  }

  #isSelf(address: PeerAddress): boolean {
    const port = this.#options.port();
    if (address.port !== port || port === 0) return false;
    return ['127.0.0.1', '::1', 'localhost', '0.0.0.0'].includes(address.host);
  }
}
