/**
 * Block-level piece picker: decides which blocks to request from which peer.
 *
 * Pure and deterministic: no I/O, no timers, randomness comes from the injected
 * `random` function and time from the `now` arguments. The engine owns the peers
 * and their bitfields; the picker owns piece/block state and availability counts.
 * Invariants and policy are described in PICKER.md next to this file.
 */

import { PartialPieces, type PartialPiece } from './partial-pieces.ts';

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

/** Either a wire-format bitfield (MSB first, spare bits ignored) or anything with `has`. */
export type PieceSet = Uint8Array | { has(index: number): boolean };

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
  readonly #random: () => number;
  readonly #randomFirst: number;
  readonly #blocksPerPiece: number;

  readonly #state: Uint8Array;
  readonly #priority: Uint8Array;
  /** Peers with a bitfield/have for the piece; has-all peers are counted in #seeds instead. */
  readonly #avail: Uint32Array;
  #seeds = 0;
  /**
   * Rarest-first buckets: #buckets[a] lists the wanted OPEN pieces whose availability
   * (excluding seeds, which add the same amount to every piece) is a. #bucketPos[i] is
   * the slot of piece i in its bucket, or -1. Moving a piece between buckets is O(1).
   */
  readonly #buckets: number[][] = [];
  readonly #bucketPos: Int32Array;
  /** How many pieces the buckets hold (wanted OPEN pieces). */
  #bucketed = 0;
  /**
   * Every bucket below this one is empty. Peers that send a full bitfield (not
   * HAVE ALL) push every piece one bucket up: without this, each rarest-first
   * pick would first walk one empty bucket per such peer.
   */
  #lowestBucket = 0;
  /** Block bookkeeping of the pieces in progress (PARTIAL and FULL). */
  readonly #pieces: PartialPieces;

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
    this.#random = options.random;
    this.#randomFirst = options.randomFirstPieces ?? 4;
    this.#blocksPerPiece = Math.ceil(pieceLength / blockSize);
    this.#pieces = new PartialPieces(this.#blocksPerPiece, (i) => this.blockCount(i));
    this.#state = new Uint8Array(pieceCount);
    this.#priority = new Uint8Array(pieceCount).fill(1);
    this.#avail = new Uint32Array(pieceCount);
    this.#bucketPos = new Int32Array(pieceCount).fill(-1);
    this.#buckets[0] = [];
    for (let i = 0; i < pieceCount; i++) this.#bucketAdd(i);
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
    return this.#avail[index]! + this.#seeds;
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
    if (this.#bucketed > 0) return false;
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
      if (now) this.#bucketAdd(index);
      else this.#bucketRemove(index);
    }
  }

  // ---- availability ----

  addPeerAvailability(pieces: PieceSet): void {
    this.#eachPiece(pieces, (i) => this.#changeAvail(i, 1));
  }

  /** Pass the peer's bitfield as it is when it leaves (haves since its bitfield included). */
  removePeerAvailability(pieces: PieceSet): void {
    this.#eachPiece(pieces, (i) => this.#changeAvail(i, -1));
  }

  /** A HAVE message. */
  addHave(index: number): void {
    this.#checkIndex(index);
    this.#changeAvail(index, 1);
  }

  /** HAVE ALL (BEP 6): O(1), counted separately from per-piece availability. */
  addSeed(): void {
    this.#seeds++;
  }

  removeSeed(): void {
    if (this.#seeds > 0) this.#seeds--;
  }

  #eachPiece(pieces: PieceSet, fn: (index: number) => void): void {
    if (pieces instanceof Uint8Array) {
      const bytes = Math.min(pieces.length, Math.ceil(this.pieceCount / 8));
      for (let b = 0; b < bytes; b++) {
        const byte = pieces[b]!;
        if (byte === 0) continue;
        for (let bit = 0; bit < 8; bit++) {
          const i = b * 8 + bit;
          if (i < this.pieceCount && byte & (0x80 >> bit)) fn(i);
        }
      }
    } else {
      for (let i = 0; i < this.pieceCount; i++) if (pieces.has(i)) fn(i);
    }
  }

  #changeAvail(index: number, delta: 1 | -1): void {
    const before = this.#avail[index]!;
    if (delta < 0 && before === 0) return; // tolerate an engine that removes twice
    const inBucket = this.#bucketPos[index]! >= 0;
    if (inBucket) this.#bucketRemove(index);
    this.#avail[index] = before + delta;
    if (inBucket) this.#bucketAdd(index);
  }

  #bucketAdd(index: number): void {
    const a = this.#avail[index]!;
    while (this.#buckets.length <= a) this.#buckets.push([]);
    const bucket = this.#buckets[a]!;
    this.#bucketPos[index] = bucket.length;
    bucket.push(index);
    this.#bucketed++;
    if (a < this.#lowestBucket) this.#lowestBucket = a;
  }

  #bucketRemove(index: number): void {
    const pos = this.#bucketPos[index]!;
    if (pos < 0) return;
    const bucket = this.#buckets[this.#avail[index]!]!;
    const last = bucket.pop()!;
    if (last !== index) {
      bucket[pos] = last;
      this.#bucketPos[last] = pos;
    }
    this.#bucketPos[index] = -1;
    this.#bucketed--;
  }

  // ---- picking ----

  /**
   * Up to `count` blocks to request from `peer`, already recorded as requested by it.
   * Order of preference: blocks of partial pieces; then whole new pieces (random while
   * fewer than `randomFirstPieces` are verified, rarest first after); then, in end game
   * only, duplicates of blocks other peers are fetching (fewest requests first).
   * At most `maxNewPieces` pieces are started (each needs a piece buffer).
   *
   * Only pieces with a free block are visited (their own, then the orphaned, then
   * anyone's), so a pick does not grow with the number of pieces in progress while
   * the peer has what they need.
   */
  pickBlocks(
    peer: PickerPeer,
    count: number,
    now: number,
    maxNewPieces = Number.POSITIVE_INFINITY,
  ): BlockRef[] {
    const picked: BlockRef[] = [];
    if (count <= 0) return picked;
    const allowed = (i: number): boolean =>
      peer.has(i) && (!peer.choked || (peer.allowedFast?.has(i) ?? false));
    const takeFrom = (pieces: Iterable<PartialPiece>, skipMine: boolean): void => {
      for (const p of pieces) {
        if (picked.length >= count) return;
        if (p.free === 0 || this.#priority[p.index] === 0) continue;
        if (skipMine && (p.owner === peer.id || p.owner === '')) continue;
        if (allowed(p.index)) this.#takeFree(p, peer.id, count, now, picked);
      }
    };

    const own = this.#pieces.ownedBy(peer.id);
    if (own !== undefined) takeFrom(own, false);
    takeFrom(this.#pieces.freeOrphans(), false);
    if (picked.length < count && maxNewPieces > 0) {
      const pieces = this.#pickOpenPieces(peer, allowed, count - picked.length, maxNewPieces);
      for (const index of pieces) {
        const p = this.#startPiece(index, peer.id);
        this.#takeFree(p, peer.id, count, now, picked);
      }
    }
    takeFrom(this.#pieces.withFree(), true);
    if (picked.length < count) this.#retakeTimedOut(peer.id, allowed, count, now, picked);

    if (picked.length < count && this.isEndGame())
      this.#pickEndGame(peer, allowed, count, now, picked);
    return picked;
  }

  #takeFree(p: PartialPiece, peerId: string, count: number, now: number, out: BlockRef[]): void {
    for (let b = 0; b < p.blocks && out.length < count && p.free > 0; b++) {
      if (p.from[b] !== undefined || p.active[b]! > 0) continue;
      if (this.#pieces.hasRequest(p, b, peerId)) continue; // its own timed-out request
      this.#pieces.addRequest(p, b, peerId, now);
      out.push(this.#blockRef(p.index, b));
    }
  }

  /**
   * Blocks this peer's own requests timed out on (we sent it a cancel) and
   * nobody else is fetching: asked of it again, last, so another peer gets
   * them first when there is one. Without this a lone slow peer (or one we
   * throttle with --download-limit) would never be asked for them again, and
   * the download would stall with the peer connected.
   */
  #retakeTimedOut(
    peerId: string,
    allowed: (i: number) => boolean,
    count: number,
    now: number,
    out: BlockRef[],
  ): void {
    const keys = this.#pieces.timedOutKeys(peerId);
    if (keys === undefined) return;
    for (const key of keys) {
      if (out.length >= count) return;
      const index = this.#pieces.pieceOf(key);
      const b = key - index * this.#blocksPerPiece;
      const p = this.#pieces.partial(index);
      if (p === undefined || !this.#pieces.isTimedOut(p, b, peerId)) {
        keys.delete(key); // received, dropped or the piece is gone: a stale hint
        continue;
      }
      // Kept as a hint while someone else fetches it or the peer may not be asked now.
      if (this.#priority[index] === 0 || !allowed(index)) continue;
      if (p.from[b] !== undefined || p.active[b]! > 0) continue;
      keys.delete(key);
      this.#pieces.renew(p, b, peerId, now);
      out.push(this.#blockRef(index, b));
    }
  }

  /** Open pieces to start for this peer, enough to cover `blocksNeeded` blocks, at most `maxPieces`. */
  #pickOpenPieces(
    peer: PickerPeer,
    allowed: (i: number) => boolean,
    blocksNeeded: number,
    maxPieces: number,
  ): number[] {
    const chosen: number[] = [];
    let blocks = 0;
    const consider = (i: number): boolean => {
      if (!allowed(i)) return false;
      chosen.push(i);
      blocks += this.blockCount(i);
      return blocks >= blocksNeeded || chosen.length >= maxPieces;
    };

    if (peer.choked) {
      // Only allowed-fast pieces are candidates: walk that small set instead of all pieces.
      const fast = [...(peer.allowedFast ?? [])].filter(
        (i) => Number.isInteger(i) && i >= 0 && i < this.pieceCount && this.#bucketPos[i]! >= 0,
      );
      fast.sort((x, y) => this.#avail[x]! - this.#avail[y]!);
      for (const i of fast) if (consider(i)) break;
      return chosen;
    }

    if (this.#have < this.#randomFirst) {
      // Random first pieces: a rare piece is slow to complete, and we need whole
      // pieces soon to have something to trade.
      const start = Math.floor(this.#random() * this.pieceCount);
      for (let k = 0; k < this.pieceCount; k++) {
        const i = (start + k) % this.pieceCount;
        if (this.#bucketPos[i]! >= 0 && consider(i)) break;
      }
      return chosen;
    }

    // Rarest first. A random rotation inside each bucket breaks ties without sorting.
    while (
      this.#lowestBucket < this.#buckets.length &&
      this.#buckets[this.#lowestBucket]!.length === 0
    ) {
      this.#lowestBucket++;
    }
    for (let a = this.#lowestBucket; a < this.#buckets.length; a++) {
      const bucket = this.#buckets[a]!;
      const n = bucket.length;
      if (n === 0) continue;
      const start = Math.floor(this.#random() * n);
      for (let k = 0; k < n; k++) {
        if (consider(bucket[(start + k) % n]!)) return chosen;
      }
    }
    return chosen;
  }

  #pickEndGame(
    peer: PickerPeer,
    allowed: (i: number) => boolean,
    count: number,
    now: number,
    out: BlockRef[],
  ): void {
    const candidates: Array<{ p: PartialPiece; b: number; load: number }> = [];
    for (const p of this.#pieces.partials()) {
      if (this.#priority[p.index] === 0) continue;
      if (!allowed(p.index)) continue;
      for (let b = 0; b < p.blocks; b++) {
        if (p.from[b] !== undefined || this.#pieces.hasRequest(p, b, peer.id)) continue;
        candidates.push({ p, b, load: p.active[b]! });
      }
    }
    // Fewest outstanding requests first; stable sort keeps piece order among equals.
    candidates.sort((x, y) => x.load - y.load);
    for (const c of candidates) {
      if (out.length >= count) break;
      this.#pieces.addRequest(c.p, c.b, peer.id, now);
      out.push(this.#blockRef(c.p.index, c.b));
    }
  }

  #startPiece(index: number, owner: string): PartialPiece {
    this.#bucketRemove(index);
    this.#state[index] = PARTIAL;
    return this.#pieces.start(index, owner);
  }

  /** A partial piece with nothing received and nothing requested goes back to the open pool. */
  #maybeReopen(p: PartialPiece): void {
    if (!this.#pieces.forgetIfIdle(p)) return;
    this.#state[p.index] = OPEN;
    if (this.#priority[p.index]! > 0) this.#bucketAdd(p.index);
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
    this.#bucketRemove(index);
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
    if (this.#priority[index]! > 0) this.#bucketAdd(index);
    return [...contributors];
  }

  #checkIndex(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.pieceCount) {
      throw new RangeError(`piece index ${index} out of range`);
    }
  }
}
