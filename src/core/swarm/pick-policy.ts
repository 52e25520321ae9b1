/**
 * Which blocks to ask a peer for: the piece picker's pick policy (PICKER.md,
 * "Policy order in pickBlocks"): the peer's own and orphaned partial pieces
 * first, then new pieces (random first, rarest first after, allowed-fast only
 * while choked), then other peers' partial pieces, its own timed-out blocks,
 * and end-game duplicates. The piece states, the events that change them and
 * the bookkeeping are the picker's (piece-picker.ts, partial-pieces.ts); the
 * policy reads them and records what it hands out as requests.
 */
import type { PartialPiece, PartialPieces } from './partial-pieces.ts';
import type { PieceAvailability } from './piece-availability.ts';
import type { BlockRef, PickerPeer } from './piece-picker.ts';

/** What the policy reads of the picker, and the one change of state it asks of it (starting a piece). */
export interface PickHost {
  readonly pieceCount: number;
  readonly blocksPerPiece: number;
  readonly random: () => number;
  /** Pieces are picked at random until this many are verified. */
  readonly randomFirst: number;
  readonly pieces: PartialPieces;
  readonly availability: PieceAvailability;
  /** Per piece; 0 is unwanted. */
  readonly priority: Uint8Array;
  verifiedCount(): number;
  blockCount(index: number): number;
  blockRef(index: number, block: number): BlockRef;
  /** OPEN -> PARTIAL, owned by `owner`. */
  startPiece(index: number, owner: string): PartialPiece;
  isEndGame(): boolean;
}

export class PickPolicy {
  readonly #host: PickHost;
  readonly #pieceCount: number;
  readonly #blocksPerPiece: number;
  readonly #random: () => number;
  readonly #randomFirst: number;
  readonly #pieces: PartialPieces;
  readonly #availability: PieceAvailability;
  readonly #priority: Uint8Array;

  constructor(host: PickHost) {
    this.#host = host;
    this.#pieceCount = host.pieceCount;
    this.#blocksPerPiece = host.blocksPerPiece;
    this.#random = host.random;
    this.#randomFirst = host.randomFirst;
    this.#pieces = host.pieces;
    this.#availability = host.availability;
    this.#priority = host.priority;
  }

  /**
   * Up to `count` blocks to request from `peer`, recorded as requested by it.
   * Order of preference: blocks of partial pieces; then whole new pieces (random while
   * fewer than `randomFirstPieces` are verified, rarest first after); then, in end game
   * only, duplicates of blocks other peers are fetching (fewest requests first).
   * At most `maxNewPieces` pieces are started (each needs a piece buffer).
   *
   * Only pieces with a free block are visited (their own, then the orphaned, then
   * anyone's), so a pick does not grow with the number of pieces in progress while
   * the peer has what they need.
   */
  pickBlocks(peer: PickerPeer, count: number, now: number, maxNewPieces: number): BlockRef[] {
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
        const p = this.#host.startPiece(index, peer.id);
        this.#takeFree(p, peer.id, count, now, picked);
      }
    }
    takeFrom(this.#pieces.withFree(), true);
    if (picked.length < count) this.#retakeTimedOut(peer.id, allowed, count, now, picked);

    if (picked.length < count && this.#host.isEndGame())
      this.#pickEndGame(peer, allowed, count, now, picked);
    return picked;
  }

  #takeFree(p: PartialPiece, peerId: string, count: number, now: number, out: BlockRef[]): void {
    for (let b = 0; b < p.blocks && out.length < count && p.free > 0; b++) {
      if (p.from[b] !== undefined || p.active[b]! > 0) continue;
      if (this.#pieces.hasRequest(p, b, peerId)) continue; // its own timed-out request
      this.#pieces.addRequest(p, b, peerId, now);
      out.push(this.#host.blockRef(p.index, b));
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
      out.push(this.#host.blockRef(index, b));
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
      blocks += this.#host.blockCount(i);
      return blocks >= blocksNeeded || chosen.length >= maxPieces;
    };

    if (peer.choked) {
      // Only allowed-fast pieces are candidates: walk that small set instead of all pieces.
      const fast = [...(peer.allowedFast ?? [])].filter(
        (i) =>
          Number.isInteger(i) && i >= 0 && i < this.#pieceCount && this.#availability.isOpen(i),
      );
      const availability = this.#availability;
      fast.sort((x, y) => availability.withoutSeeds(x) - availability.withoutSeeds(y));
      for (const i of fast) if (consider(i)) break;
      return chosen;
    }

    if (this.#host.verifiedCount() < this.#randomFirst) {
      // Random first pieces: a rare piece is slow to complete, and we need whole
      // pieces soon to have something to trade.
      const start = Math.floor(this.#random() * this.#pieceCount);
      for (let k = 0; k < this.#pieceCount; k++) {
        const i = (start + k) % this.#pieceCount;
        if (this.#availability.isOpen(i) && consider(i)) break;
      }
      return chosen;
    }

    this.#availability.rarestFirst(this.#random, consider);
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
      out.push(this.#host.blockRef(c.p.index, c.b));
    }
  }
}
