/**
 * One connected peer's protocol state, both ways: who chokes whom, who is
 * interested, which pieces it has, the requests we have in flight to it, the
 * requests it made of us, its extension handshake and its rates. It reads
 * the wire messages that only change this state and checks them against
 * the protocol; everything that needs the torrent (the picker, the disk,
 * other peers) it hands to its owner through `PeerHandler`.
 *
 * It needs a connection and nothing else: tests drive it over an in-memory
 * stream pair (transport/memory.ts) with no sockets and no torrent session.
 */
import { BitField } from '../wire/bitfield.ts';
import {
  decodeExtendedHandshake,
  EXTENDED_HANDSHAKE_ID,
  type ExtendedHandshake,
} from '../wire/extension.ts';
import { supportsFastExtension } from '../wire/handshake.ts';
import type { HashMessage, HashRange } from '../wire/hash-messages.ts';
import type { BlockRef, WireMessage } from '../wire/messages.ts';
import { describePeerId } from '../wire/peer-id.ts';
import { BLOCK_SIZE } from '../swarm/piece-picker.ts';
import { BlockKeyTable } from '../swarm/block-key-table.ts';
import { RoundTripEstimator } from '../swarm/request-queue.ts';
import type { PeerConnection } from './peer-connection.ts';

export interface OutstandingRequest extends BlockRef {
  /** When it was sent (ms since epoch), for timeouts and round-trip times. */
  at: number;
}

/** What a peer tells its owner; each runs synchronously inside the message that caused it. */
export interface PeerHandler {
  /** The peer unchoked us, or allowed fast pieces while choked: time to request. */
  canRequest(peer: Peer): void;
  /** Requests of ours the peer will never answer (choked without the fast extension, or rejected). */
  requestsDropped(peer: Peer, requests: readonly BlockRef[]): void;
  /** The peer became interested in us. */
  interested(peer: Peer): void;
  /** The peer announced a piece it did not have before. */
  have(peer: Peer, index: number): void;
  /** The peer's whole piece set changed (a fresh bitfield, or have-all): `previous` is what it had. */
  piecesReplaced(peer: Peer, previous: BitField): void;
  /** The peer asked for a block while unchoked (its owner checks it, then queues or rejects it). */
  uploadRequested(peer: Peer, request: BlockRef): void;
  /** The peer's extension handshake arrived (`peer.extended`). */
  extended(peer: Peer): void;
  /** A block we asked for arrived; its request is no longer outstanding. */
  block(peer: Peer, request: OutstandingRequest, data: Uint8Array): void;
  /** An extended message (not the handshake). */
  extension(peer: Peer, id: number, payload: Uint8Array): void;
  /** BEP 52: the peer asks for merkle hashes (without this handler it gets a hash reject). */
  hashRequest?(peer: Peer, request: HashRange): void;
  /** BEP 52: hashes arrived (an answer to a hash request of ours, or not: the handler checks). */
  hashes?(peer: Peer, message: HashesMessage): void;
  /** BEP 52: the peer will not answer a hash request of ours. */
  hashRejected?(peer: Peer, range: HashRange): void;
}

export type HashesMessage = Extract<HashMessage, { type: 'hashes' }>;

export interface PeerGeometry {
  pieceCount: number;
  pieceLength: number;
}

/** Columns of `Peer.outstanding`. */
const LENGTH = 0;
const SENT_AT = 1;

export class Peer {
  readonly conn: PeerConnection;
  readonly key: string;
  readonly client: string;
  readonly fast: boolean;
  /** Which pieces it has; a seed's is all set. */
  have: BitField;
  /** It sent have-all: it has everything, now and forever (counted as a seed by the picker). */
  seed = false;
  extended: ExtendedHandshake | null = null;
  amChoking = true;
  amInterested = false;
  peerChoking = true;
  peerInterested = false;
  readonly allowedFast = new Set<number>();
  /**
   * Our requests not yet answered, by requestKey(), with their length
   * (LENGTH) and when they were sent (SENT_AT): columns of a table rather
   * than a record each, because one per block in flight outlived the young
   * generation (see swarm/block-key-table.ts).
   */
  readonly outstanding = new BlockKeyTable(2);
  readonly rtt = new RoundTripEstimator();
  unchokedUsAt: number | undefined;
  lastBlockAt: number | undefined;
  readonly connectedAt = Date.now();
  /** Last time a block moved or the peer was interesting or interested (see session/peer-slots.ts). */
  lastActiveAt = Date.now();
  /** Requests from the peer waiting to be served. */
  uploadQueue: BlockRef[] = [];
  /** Bytes handed to its connection and not yet written (each holds a read buffer). */
  queuedBytes = 0;
  /** Last time its connection took a block we sent (or the peer connected). */
  lastWrittenAt = Date.now();
  /** An upload loop is running for it (see session/uploader.ts). */
  serving = false;
  /**
   * The download scheduler's supply count when a pick of blocks for this peer
   * last found none (-1 when it found some): see DownloadScheduler.fillRequests.
   */
  pickFoundNothingAt = -1;
  /** --download-limit: reading from this peer is paused until then (ms since epoch). */
  throttledUntil = 0;
  throttleTimer: NodeJS.Timeout | null = null;
  readonly #geometry: PeerGeometry;
  readonly #blocksPerPiece: number;
  readonly #handler: PeerHandler;
  readonly #maxUploadQueue: number;

  constructor(
    conn: PeerConnection,
    geometry: PeerGeometry,
    handler: PeerHandler,
    options: { maxUploadQueue: number },
  ) {
    const remote = conn.remote;
    if (!remote) throw new Error('Peer needs a connection whose handshake is done');
    this.conn = conn;
    this.key = conn.key;
    this.client = describePeerId(remote.peerId);
    this.fast = supportsFastExtension(remote.reserved);
    this.have = new BitField(geometry.pieceCount);
    this.#geometry = geometry;
    this.#blocksPerPiece = Math.ceil(geometry.pieceLength / BLOCK_SIZE);
    this.#handler = handler;
    this.#maxUploadQueue = options.maxUploadQueue;
  }

  get closed(): boolean {
    return this.conn.closed;
  }

  /**
   * A request's key in `outstanding`: its block's number in the torrent (a
   * number, not a string, because a download looks one up for every block).
   * -1 for a position no request of ours can have: we only ask for whole blocks.
   */
  requestKey(index: number, begin: number): number {
    if (begin % BLOCK_SIZE !== 0 || begin < 0 || begin >= this.#geometry.pieceLength) return -1;
    return index * this.#blocksPerPiece + begin / BLOCK_SIZE;
  }

  /** Records and sends requests for `blocks`. */
  request(blocks: readonly BlockRef[], now: number): void {
    for (const { index, begin, length } of blocks) {
      this.outstanding.set(this.requestKey(index, begin), length, now);
    }
    this.conn.sendRequests(blocks);
  }

  /** The outstanding request with this key, as a record (made on demand, short-lived). */
  #requestAt(key: number): OutstandingRequest {
    const slot = this.outstanding.slotOf(key);
    const index = Math.floor(key / this.#blocksPerPiece);
    return {
      index,
      begin: (key - index * this.#blocksPerPiece) * BLOCK_SIZE,
      length: this.outstanding.column(slot, LENGTH),
      at: this.outstanding.column(slot, SENT_AT),
    };
  }

  /** Every outstanding request, as records in the order they were sent, removed from `outstanding`. */
  #takeAll(): OutstandingRequest[] {
    const all = [...this.outstanding].map((key) => this.#requestAt(key)).sort(bySending);
    this.outstanding.clear();
    return all;
  }

  /** Withdraws a request (another peer delivered the block first); true if it was outstanding. */
  cancel(block: BlockRef): boolean {
    if (!this.outstanding.delete(this.requestKey(block.index, block.begin))) return false;
    this.conn.send({
      type: 'cancel',
      index: block.index,
      begin: block.begin,
      length: block.length,
    });
    return true;
  }

  /**
   * Requests the peer is late with, removed from `outstanding` and cancelled
   * on the wire. A peer answers in order, so a request waits on those before
   * it: it is late once `timeoutMs` passed since it was sent and since the
   * last block the peer delivered (libtorrent counts the same way). Counting
   * from the request alone expired whole queues that were arriving steadily
   * but slowly (under --download-limit, or a loaded machine), and their
   * blocks, when they came, were thrown away. `maxAgeMs` still catches a
   * request the peer skipped while it kept sending others.
   */
  expireRequests(now: number, timeoutMs: number, maxAgeMs = Infinity): OutstandingRequest[] {
    const expired: OutstandingRequest[] = [];
    const lastBlockAt = this.lastBlockAt ?? -Infinity;
    // Collected first: the table must not change while it is iterated.
    for (const key of this.outstanding) {
      const at = this.outstanding.column(this.outstanding.slotOf(key), SENT_AT);
      const late = now - Math.max(at, lastBlockAt) > timeoutMs;
      if (late || now - at > maxAgeMs) expired.push(this.#requestAt(key));
    }
    expired.sort(bySending);
    for (const request of expired) {
      this.outstanding.delete(this.requestKey(request.index, request.begin));
      this.conn.send({
        type: 'cancel',
        index: request.index,
        begin: request.begin,
        length: request.length,
      });
    }
    return expired;
  }

  setInterested(interested: boolean): void {
    if (this.amInterested === interested) return;
    this.amInterested = interested;
    this.conn.send({ type: interested ? 'interested' : 'not-interested' });
  }

  /** Chokes or unchokes the peer; choking drops its queued requests (rejected under the fast extension). */
  setChoking(choking: boolean): void {
    if (this.amChoking === choking) return;
    this.amChoking = choking;
    this.conn.send({ type: choking ? 'choke' : 'unchoke' });
    if (!choking) return;
    for (const r of this.uploadQueue) this.reject(r);
    this.uploadQueue = [];
  }

  /** Tells a fast-extension peer we will not serve `request` (others learn nothing, per BEP 3). */
  reject(request: BlockRef): void {
    if (this.fast)
      this.conn.send({
        type: 'reject',
        index: request.index,
        begin: request.begin,
        length: request.length,
      });
  }

  /**
   * Our piece set, in the shortest form the peer understands. `late`: other
   * messages went first (a connection carried over from a magnet's metadata
   * phase), where a bitfield is no longer allowed: one `have` per piece.
   */
  sendPieces(have: number, bitfield: () => Uint8Array, late = false): void {
    if (late) {
      if (have === 0) return;
      const bits = bitfield();
      for (let index = 0; index < this.#geometry.pieceCount; index++)
        if (bits[index >> 3]! & (0x80 >> (index & 7))) this.conn.send({ type: 'have', index });
      return;
    }
    if (this.fast && have === this.#geometry.pieceCount) this.conn.send({ type: 'have-all' });
    else if (this.fast && have === 0) this.conn.send({ type: 'have-none' });
    else if (have > 0) this.conn.send({ type: 'bitfield', bytes: bitfield() });
  }

  close(reason: string): void {
    this.conn.close(reason);
  }

  /** Reads one message from the peer. */
  onMessage(message: WireMessage): void {
    const handler = this.#handler;
    switch (message.type) {
      case 'keep-alive':
      case 'port':
      case 'suggest':
        return;
      case 'choke':
        this.peerChoking = true;
        this.unchokedUsAt = undefined;
        if (!this.fast && this.outstanding.size > 0) {
          // Without the fast extension a choke discards every pending request.
          handler.requestsDropped(this, this.#takeAll());
        }
        return;
      case 'unchoke':
        this.peerChoking = false;
        this.unchokedUsAt = Date.now();
        handler.canRequest(this);
        return;
      case 'interested':
        this.peerInterested = true;
        handler.interested(this);
        return;
      case 'not-interested':
        this.peerInterested = false;
        return;
      case 'have':
        if (message.index >= this.#geometry.pieceCount)
          return this.close(`have for piece ${message.index} out of range`);
        if (this.seed || this.have.get(message.index)) return;
        this.have.set(message.index);
        handler.have(this, message.index);
        return;
      case 'bitfield':
        return this.#onBitfield(message.bytes);
      case 'have-all':
        if (!this.fast) return this.close('have-all without the fast extension');
        if (!this.seed) {
          // aria2c sends have-all once it completes, after bitfields: it becomes a seed.
          const previous = this.have;
          this.seed = true;
          this.have = new BitField(this.#geometry.pieceCount);
          this.have.setAll();
          handler.piecesReplaced(this, previous);
        }
        return;
      case 'have-none':
        if (!this.fast) return this.close('have-none without the fast extension');
        return;
      case 'request':
        return this.#onRequest(message);
      case 'cancel':
        this.uploadQueue = this.uploadQueue.filter(
          (r) => r.index !== message.index || r.begin !== message.begin,
        );
        return;
      case 'piece': {
        const key = this.requestKey(message.index, message.begin);
        const slot = this.outstanding.slotOf(key);
        // Unrequested data: ignored (a cancelled request may still arrive), never stored.
        if (slot === -1 || this.outstanding.column(slot, LENGTH) !== message.block.length) return;
        const request = this.#requestAt(key);
        this.outstanding.delete(key);
        const now = Date.now();
        this.rtt.add(now - request.at);
        this.lastBlockAt = now;
        this.lastActiveAt = now;
        handler.block(this, request, message.block);
        return;
      }
      case 'reject': {
        if (!this.fast) return this.close('reject without the fast extension');
        const key = this.requestKey(message.index, message.begin);
        if (this.outstanding.delete(key)) handler.requestsDropped(this, [message]);
        return;
      }
      case 'allowed-fast':
        if (message.index < this.#geometry.pieceCount) this.allowedFast.add(message.index);
        return;
      case 'hash-request':
        if (handler.hashRequest) handler.hashRequest(this, message);
        else this.conn.send({ ...message, type: 'hash-reject' });
        return;
      case 'hashes':
        handler.hashes?.(this, message);
        return;
      case 'hash-reject':
        handler.hashRejected?.(this, message);
        return;
      case 'extended':
        if (message.id === EXTENDED_HANDSHAKE_ID) {
          try {
            this.extended = decodeExtendedHandshake(message.payload);
          } catch {
            // A malformed extension handshake only costs the peer its extensions.
            return;
          }
          handler.extended(this);
          return;
        }
        handler.extension(this, message.id, message.payload);
        return;
    }
  }

  #onBitfield(bytes: Uint8Array): void {
    // A seed (have-all) can gain nothing from a later bitfield.
    if (this.seed) return;
    let field: BitField;
    try {
      field = BitField.fromBytes(bytes, this.#geometry.pieceCount);
    } catch (error) {
      return this.close(`bad bitfield: ${(error as Error).message}`);
    }
    // BEP 3 sends a bitfield only first, but aria2c sends fresh ones instead of `have`
    // messages as it completes pieces (after have-none, too): take each as the peer's
    // whole state, replacing what it told us before.
    const previous = this.have;
    this.have = field;
    this.#handler.piecesReplaced(this, previous);
  }

  #onRequest(request: BlockRef): void {
    if (this.amChoking || this.uploadQueue.length >= this.#maxUploadQueue) {
      this.reject(request);
      return;
    }
    this.#handler.uploadRequested(this, {
      index: request.index,
      begin: request.begin,
      length: request.length,
    });
  }
}

/** Sending order, as the table does not keep it: by time, then by position (a batch goes out in that order). */
function bySending(a: OutstandingRequest, b: OutstandingRequest): number {
  return a.at - b.at || a.index - b.index || a.begin - b.begin;
}
