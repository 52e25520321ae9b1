/**
 * Block-level piece picker: decides which blocks to request from which peer.
 *
 * Pure and deterministic: no I/O, no timers, randomness comes from the injected
 * `random` function and time from the `now` arguments. The engine owns the peers
 * and their bitfields; the picker owns the piece states and takes the engine's
 * events. Its parts: the block bookkeeping of pieces in progress
 * (partial-pieces.ts), who has which piece and the rarest-first order
 * (piece-availability.ts), and the order blocks are picked in (pick-policy.ts).
 * Invariants and policy are described in PICKER.md next to this file.
 */

import { PartialPieces, type PartialPiece } from './partial-pieces.ts';
import { PickPolicy } from './pick-policy.ts';
import { PieceAvailability, type PieceSet } from './piece-availability.ts';

export type { PieceSet } from './piece-availability.ts';

export const BLOCK_SIZE = 16 * 1024;

/** A block request: `length` is exact (the last block of the last piece is short). */
export interface BlockRef {
  readonly index: number;
  readonly begin: number;
  readonly length: number;
}

/** What the picker needs to know about a peer when picking for it. */
export interface PickerPeer {
  readonly id: string;
  has(index: number): boolean;
  /** The peer chokes us: only allowed-fast pieces (BEP 6) may be requested. */
  readonly choked: boolean;
  readonly allowedFast?: ReadonlySet<number>;
}

export interface PiecePickerOptions {
  readonly pieceCount: number;
  readonly pieceLength: number;
  /** Total torrent length in bytes; fixes the size of the last piece. */
  readonly totalLength: number;
  readonly random: () => number;
  /** Pieces are picked at random until this many are verified (libtorrent: 4). */
  readonly randomFirstPieces?: number;
  /** Defaults to BLOCK_SIZE; tests may use smaller blocks. */
  readonly blockSize?: number;
}

export interface CancelRef extends BlockRef {
  readonly peerId: string;
}

export type BlockResult =
  /** New data: store it. `pieceComplete` means every block is in: hash the piece now. */
  | {
      readonly kind: 'accepted';
      readonly pieceComplete: boolean;
      readonly cancels: readonly CancelRef[];
    }
  /** The block was already received from someone else (end game race): drop it. */
  | { readonly kind: 'duplicate' }
  /** The piece is verified, unwanted or being hashed: drop it. */
  | { readonly kind: 'not-needed' }
  /** Index, offset or length do not describe a block of this torrent. */
  | { readonly kind: 'invalid' };

export interface PickerProgress {
  readonly pieceCount: number;
  readonly havePieces: number;
  readonly wantedPieces: number;
  readonly haveWantedPieces: number;
  readonly wantedBytes: number;
  readonly haveWantedBytes: number;
  /** Pieces with at least one block requested or received, not yet verified. */
  readonly partialPieces: number;
  readonly endGame: boolean;
}

/** Shared by every result that cancels nothing (nearly all of them): one allocation less per block. */
const NO_CANCELS: readonly CancelRef[] = Object.freeze([]);

const OPEN = 0;
const PARTIAL = 1;
const FULL = 2;
const HAVE = 3;

export class PiecePicker {
  readonly pieceCount: number;
  readonly pieceLength: number;
  readonly totalLength: number;
  readonly blockSize: number;
  readonly #blocksPerPiece: number;

  readonly #state: Uint8Array;
  readonly #priority: Uint8Array;
  /** Who has each piece, and the wanted OPEN pieces by it (rarest first). */
  readonly #availability: PieceAvailability;
  /** Block bookkeeping of the pieces in progress (PARTIAL and FULL). */
  readonly #pieces: PartialPieces;
  readonly #policy: PickPolicy;

  #have = 0;
  #wanted = 0;
  #haveWanted = 0;
  #wantedBytes = 0;
  #haveWantedBytes = 0;
  /** See `supply`. */
  #supply = 0;

  constructor(options: PiecePickerOptions) {
    const { pieceCount, pieceLength, totalLength } = options;
    const blockSize = options.blockSize ?? BLOCK_SIZE;
    if (!Number.isSafeInteger(pieceCount) || pieceCount < 1) throw new RangeError('pieceCount');
    if (!Number.isSafeInteger(pieceLength) || pieceLength < 1) throw new RangeError('pieceLength');
    if (!Number.isSafeInteger(blockSize) || blockSize < 1) throw new RangeError('blockSize');
    if (
      !Number.isSafeInteger(totalLength) ||
      totalLength <= (pieceCount - 1) * pieceLength ||
      totalLength > pieceCount * pieceLength
    ) {
      throw new RangeError('totalLength does not match pieceCount and pieceLength');
    }
    this.pieceCount = pieceCount;
    this.pieceLength = pieceLength;
    this.totalLength = totalLength;
    this.blockSize = blockSize;
    this.#blocksPerPiece = Math.ceil(pieceLength / blockSize);
    this.#pieces = new PartialPieces(this.#blocksPerPiece, (i) => this.blockCount(i));
    this.#state = new Uint8Array(pieceCount);
    this.#priority = new Uint8Array(pieceCount).fill(1);
    this.#availability = new PieceAvailability(pieceCount);
    for (let i = 0; i < pieceCount; i++) this.#availability.open(i);
    this.#policy = new PickPolicy({
      pieceCount,
      blocksPerPiece: this.#blocksPerPiece,
      random: options.random,
      randomFirst: options.randomFirstPieces ?? 4,
      pieces: this.#pieces,
      availability: this.#availability,
      priority: this.#priority,
      verifiedCount: () => this.#have,
      blockCount: (index) => this.blockCount(index),
      blockRef: (index, block) => this.#blockRef(index, block),
      startPiece: (index, owner) => this.#startPiece(index, owner),
      isEndGame: () => this.isEndGame(),
    });
    this.#wanted = pieceCount;
    this.#wantedBytes = totalLength;
  }

  // ---- geometry ----

  pieceSize(index: number): number {
    return index === this.pieceCount - 1
      ? this.totalLength - (this.pieceCount - 1) * this.pieceLength
      : this.pieceLength;
  }

  blockCount(index: number): number {
    return Math.ceil(this.pieceSize(index) / this.blockSize);
  }

  #blockRef(index: number, block: number): BlockRef {
    const begin = block * this.blockSize;
    return { index, begin, length: this.#blockLength(index, begin) };
  }

  #blockLength(index: number, begin: number): number {
    return Math.min(this.blockSize, this.pieceSize(index) - begin);
  }

  // ---- piece state queries ----

  hasPiece(index: number): boolean {
    return this.#state[index] === HAVE;
  }

  isWanted(index: number): boolean {
    return this.#priority[index]! > 0;
  }

  /** Availability of a piece, seeds included. */
  availability(index: number): number {
    return this.#availability.of(index);
  }

  /** Our verified pieces as a wire-format bitfield. */
  bitfield(): Uint8Array {
    const out = new Uint8Array(Math.ceil(this.pieceCount / 8));
    for (let i = 0; i < this.pieceCount; i++) {
      if (this.#state[i] === HAVE) out[i >> 3]! |= 0x80 >> (i & 7);
    }
    return out;
  }

  isComplete(): boolean {
    return this.#haveWanted === this.#wanted;
  }

  /**
   * Counts the changes that may give a peer blocks to pick where a pick found
   * none: requests given back, timed out or dropped with a peer, pieces failed,
   * verified or selected. Between two changes a pick that found nothing would
   * find nothing again, so the engine need not ask after every block.
   */
  get supply(): number {
    return this.#supply;
  }

  /** Pieces started (a block requested or received) and not yet complete; O(1). */
  get partialPieces(): number {
    return this.#pieces.size;
  }

  progress(): PickerProgress {
    return {
      pieceCount: this.pieceCount,
      havePieces: this.#have,
      wantedPieces: this.#wanted,
      haveWantedPieces: this.#haveWanted,
      wantedBytes: this.#wantedBytes,
      haveWantedBytes: this.#haveWantedBytes,
      partialPieces: this.#pieces.size,
      endGame: this.isEndGame(),
    };
  }

  /**
   * Strict end game: no wanted block is left that is neither received nor actively
   * requested. Open pieces nobody has also keep us out of end game, as in libtorrent.
   */
  isEndGame(): boolean {
    if (this.#haveWanted === this.#wanted) return false;
    if (this.#availability.openCount > 0) return false;
    // Only pieces with a free block are visited, and the first wanted one ends the walk.
    for (const p of this.#pieces.withFree()) if (this.#priority[p.index]! > 0) return false;
    return true;
  }

  /** Outstanding requests of a peer (timed-out ones included), e.g. to resend after a reconnect. */
  requestsOf(peerId: string): Array<BlockRef & { requestedAt: number; timedOut: boolean }> {
    const keys = this.#pieces.requestKeys(peerId);
    if (keys === undefined) return [];
    const out: Array<BlockRef & { requestedAt: number; timedOut: boolean }> = [];
    for (const key of keys) {
      const index = this.#pieces.pieceOf(key);
      const block = key - index * this.#blocksPerPiece;
      const p = this.#pieces.partial(index);
      const info = p && this.#pieces.requestOf(p, block, peerId);
      if (info !== undefined) {
        out.push({
          ...this.#blockRef(index, block),
          requestedAt: info.at,
          timedOut: info.timedOut,
        });
      }
    }
    return out;
  }

  // ---- priorities and resume ----

  /** 0 = do not download (unselected file); anything above 0 = wanted. */
  setPriority(index: number, priority: number): void {
    this.#checkIndex(index);
    const was = this.#priority[index]! > 0;
    const now = priority > 0;
    this.#priority[index] = Math.max(0, Math.min(255, Math.floor(priority)));
    if (was === now) return;
    this.#supply++;
    const size = this.pieceSize(index);
    const have = this.#state[index] === HAVE;
    this.#wanted += now ? 1 : -1;
    this.#wantedBytes += now ? size : -size;
    if (have) {
      this.#haveWanted += now ? 1 : -1;
      this.#haveWantedBytes += now ? size : -size;
    }
    if (this.#state[index] === OPEN) {
      if (now) this.#availability.open(index);
      else this.#availability.close(index);
    }
  }

  // ---- availability ----

  addPeerAvailability(pieces: PieceSet): void {
    this.#availability.addPeer(pieces);
  }

  /** Pass the peer's bitfield as it is when it leaves (haves since its bitfield included). */
  removePeerAvailability(pieces: PieceSet): void {
    this.#availability.removePeer(pieces);
  }

  /** A HAVE message. */
  addHave(index: number): void {
    this.#checkIndex(index);
    this.#availability.addHave(index);
  }

  /** HAVE ALL (BEP 6): O(1), counted separately from per-piece availability. */
  addSeed(): void {
    this.#availability.addSeed();
  }

  removeSeed(): void {
    this.#availability.removeSeed();
  }

  // ---- picking ----

  /**
   * Up to `count` blocks to request from `peer`, already recorded as requested by it
   * (the order of preference is pick-policy.ts). At most `maxNewPieces` pieces are
   * started (each needs a piece buffer).
   */
  pickBlocks(
    peer: PickerPeer,
    count: number,
    now: number,
    maxNewPieces = Number.POSITIVE_INFINITY,
  ): BlockRef[] {
    return this.#policy.pickBlocks(peer, count, now, maxNewPieces);
  }

  #startPiece(index: number, owner: string): PartialPiece {
    this.#availability.close(index);
    this.#state[index] = PARTIAL;
    return this.#pieces.start(index, owner);
  }

  /** A partial piece with nothing received and nothing requested goes back to the open pool. */
  #maybeReopen(p: PartialPiece): void {
    if (!this.#pieces.forgetIfIdle(p)) return;
    this.#state[p.index] = OPEN;
    if (this.#priority[p.index]! > 0) this.#availability.open(p.index);
  }

  #locate(index: number, begin: number): { p: PartialPiece; b: number } | undefined {
    if (!Number.isInteger(index) || index < 0 || index >= this.pieceCount) return undefined;
    if (!Number.isInteger(begin) || begin < 0 || begin % this.blockSize !== 0) return undefined;
    const p = this.#pieces.partial(index);
    const b = begin / this.blockSize;
    if (p === undefined || b >= p.blocks) return undefined;
    return { p, b };
  }

  // ---- events from the engine ----

  /**
   * A block arrived from `peerId`. Blocks whose request timed out or was never made are
   * still accepted while the piece needs them (the data is as good); the engine rejects
   * blocks it never requested before asking. `cancels` lists the other peers' requests for
   * the same block (end game), already forgotten here: send them CANCEL.
   */
  blockReceived(peerId: string, index: number, begin: number, length?: number): BlockResult {
    if (!Number.isInteger(index) || index < 0 || index >= this.pieceCount) {
      return { kind: 'invalid' };
    }
    if (!Number.isInteger(begin) || begin < 0 || begin % this.blockSize !== 0) {
      return { kind: 'invalid' };
    }
    const b = begin / this.blockSize;
    if (b >= this.blockCount(index)) return { kind: 'invalid' };
    if (length !== undefined && length !== this.#blockLength(index, begin)) {
      return { kind: 'invalid' };
    }
    const state = this.#state[index];
    if (state === HAVE || state === FULL || this.#priority[index] === 0) {
      const p = this.#pieces.started(index);
      if (p !== undefined) this.#pieces.dropRequest(p, b, peerId);
      return { kind: 'not-needed' };
    }
    const p = this.#pieces.partial(index) ?? this.#startPiece(index, peerId);
    if (p.from[b] !== undefined) {
      this.#pieces.dropRequest(p, b, peerId);
      return { kind: 'duplicate' };
    }
    const others = this.#pieces.receive(p, b, peerId);
    const cancels =
      others === undefined
        ? NO_CANCELS
        : others.map((other) => ({ peerId: other, ...this.#blockRef(index, b) }));
    const pieceComplete = p.received === p.blocks;
    if (pieceComplete) this.#state[index] = FULL;
    return { kind: 'accepted', pieceComplete, cancels };
  }

  /** The engine cancelled (or the peer rejected) one request: the block returns to the pool. */
  requestCancelled(peerId: string, block: Pick<BlockRef, 'index' | 'begin'>): void {
    const loc = this.#locate(block.index, block.begin);
    if (loc === undefined) return;
    this.#supply++;
    if (this.#pieces.dropRequest(loc.p, loc.b, peerId)) this.#maybeReopen(loc.p);
  }

  /**
   * The request is overdue: other peers may now be given the block, but it stays recorded
   * for `peerId` (so it is never handed to that peer twice, and a late block is welcome).
   */
  requestTimedOut(peerId: string, block: Pick<BlockRef, 'index' | 'begin'>): void {
    const loc = this.#locate(block.index, block.begin);
    if (loc === undefined) return;
    this.#supply++;
    this.#pieces.timeOut(loc.p, loc.b, peerId);
  }

  /**
   * The peer disconnected or choked us (without the fast extension): all its requests
   * return to the pool. Returns the blocks it had outstanding. Availability is separate:
   * call removePeerAvailability / removeSeed as well when it disconnects.
   */
  peerGone(peerId: string): BlockRef[] {
    const released: BlockRef[] = [];
    this.#supply++;
    // Its pieces belong to nobody now: every peer may finish them first.
    for (const [p, b] of this.#pieces.peerGone(peerId)) {
      released.push(this.#blockRef(p.index, b));
      this.#maybeReopen(p);
    }
    return released;
  }

  /** The piece hashed correctly (or was found on disk at resume). */
  pieceVerified(index: number): void {
    this.#checkIndex(index);
    if (this.#state[index] === HAVE) return;
    this.#supply++;
    const p = this.#pieces.started(index);
    if (p !== undefined) this.#pieces.forget(p);
    this.#availability.close(index);
    this.#state[index] = HAVE;
    this.#have++;
    if (this.#priority[index]! > 0) {
      this.#haveWanted++;
      this.#haveWantedBytes += this.pieceSize(index);
    }
  }

  /** Who delivered each block of a piece in progress (undefined: not received), e.g. for smart ban. */
  blockSenders(index: number): (string | undefined)[] {
    const p = this.#pieces.started(index);
    return p ? [...p.from] : [];
  }

  /**
   * The piece failed its hash check: every block returns to the pool. Returns the ids of
   * the peers that delivered its blocks, so the engine can blame (and eventually ban) them.
   */
  pieceFailed(index: number): string[] {
    this.#checkIndex(index);
    const p = this.#pieces.started(index);
    if (p === undefined || this.#state[index] === HAVE) return [];
    this.#supply++;
    const contributors = new Set<string>();
    for (const id of p.from) if (id !== undefined) contributors.add(id);
    this.#pieces.forget(p);
    this.#state[index] = OPEN;
    if (this.#priority[index]! > 0) this.#availability.open(index);
    return [...contributors];
  }

  #checkIndex(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.pieceCount) {
      throw new RangeError(`piece index ${index} out of range`);
    }
  }
}
