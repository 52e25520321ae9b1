/**
 * Block bookkeeping of the pieces in progress, for the piece picker: which
 * blocks of which started piece are requested (by whom, since when, timed out
 * or not) and which are received (from whom).
 *
 * Pure: no I/O, no time of its own. It decides nothing; the picker's policy
 * (piece-picker.ts) asks it questions and records its choices here. Its
 * indexes exist so that no question the picker asks per pick or per block
 * walks every piece in progress (about one per downloading peer): the pieces
 * with a free block, the ones among them whose owner left, the pieces each peer
 * owns, each peer's requests and the ones of them that timed out.
 */

export interface RequestInfo {
  readonly at: number;
  /** A timed-out request no longer reserves the block for this peer alone. */
  timedOut: boolean;
}

/** Block state of a piece that has been started (requested or received) but not verified. */
export interface PartialPiece {
  readonly index: number;
  readonly blocks: number;
  /** Peer id that delivered each block; undefined = not received. */
  readonly from: (string | undefined)[];
  /**
   * Per block, its first request: the peer (undefined: none), when, and
   * whether it timed out (1). In arrays rather than an object and a map per
   * request: a download makes a request per 16 KiB block, and records that
   * live until their block arrives outlast the young generation, so they were
   * promoted and grew the old generation by ~15 MiB per GiB downloaded.
   */
  readonly requester: (string | undefined)[];
  readonly requestedAt: Float64Array;
  readonly requestTimedOut: Uint8Array;
  /** Requests of a block beyond its first (end game, or others after a time-out), by block. */
  more: Map<number, Map<string, RequestInfo>> | undefined;
  /** Per block: number of requests that have not timed out. */
  readonly active: Uint16Array;
  received: number;
  /** Blocks neither received nor actively requested. */
  free: number;
  /** All request entries, including timed-out ones; 0 with received 0 means the piece is open again. */
  requestEntries: number;
  /** The peer the piece was started for ('' once it left): it gets first claim on the free blocks. */
  owner: string;
}

import { BlockKeyTable } from './block-key-table.ts';

const NOBODY = '';

export class PartialPieces {
  readonly #blocksPerPiece: number;
  readonly #blockCount: (index: number) => number;
  /** Pieces started and not complete (the picker's PARTIAL state), in the order they started. */
  readonly #partials = new Map<number, PartialPiece>();
  /** Pieces whose blocks are all in, waiting for their hash check; kept for blame. */
  readonly #full = new Map<number, PartialPiece>();
  /** PartialPiece pieces with at least one free block. */
  readonly #withFree = new Set<PartialPiece>();
  /** The part of #withFree whose owner left: every peer may finish those first. */
  readonly #freeOrphans = new Set<PartialPiece>();
  /** PartialPiece pieces per owner (owners still connected only). */
  readonly #owned = new Map<string, Set<PartialPiece>>();
  /**
   * Outstanding request keys (index * blocksPerPiece + block) per peer: a
   * table each, not a Set, as they change once per block (see block-key-table.ts).
   */
  readonly #byPeer = new Map<string, BlockKeyTable>();
  /** A peer's table emptied, kept for the next peer that needs one (queues run dry and refill often). */
  #spareKeys: BlockKeyTable | null = null;
  /**
   * Per peer, keys of its requests that timed out, so a pick costs nothing
   * extra while no request of the peer timed out. A hint only: entries since
   * received, dropped or retaken are skipped by whoever reads them.
   */
  readonly #timedOutByPeer = new Map<string, Set<number>>();

  /** `blockCount(index)`: how many blocks piece `index` has (the last piece may have fewer). */
  constructor(blocksPerPiece: number, blockCount: (index: number) => number) {
    this.#blocksPerPiece = blocksPerPiece;
    this.#blockCount = blockCount;
  }

  // ---- questions ----

  /** Pieces started and not complete. */
  get size(): number {
    return this.#partials.size;
  }

  /** A started, incomplete piece. */
  partial(index: number): PartialPiece | undefined {
    return this.#partials.get(index);
  }

  /** A started piece, complete (awaiting its hash check) or not. */
  started(index: number): PartialPiece | undefined {
    return this.#partials.get(index) ?? this.#full.get(index);
  }

  /** Every incomplete piece, in the order they started (end game walks them all, once). */
  partials(): IterableIterator<PartialPiece> {
    return this.#partials.values();
  }

  /** Incomplete pieces with a free block. Safe to take blocks (free--) while iterating. */
  withFree(): ReadonlySet<PartialPiece> {
    return this.#withFree;
  }

  /** Incomplete pieces with a free block whose owner left. */
  freeOrphans(): ReadonlySet<PartialPiece> {
    return this.#freeOrphans;
  }

  /** Incomplete pieces started for this peer. */
  ownedBy(peerId: string): ReadonlySet<PartialPiece> | undefined {
    return this.#owned.get(peerId);
  }

  /** Keys (see `key`) of the peer's outstanding requests, timed-out ones included, in ascending order. */
  requestKeys(peerId: string): number[] | undefined {
    const keys = this.#byPeer.get(peerId);
    return keys && [...keys].sort((a, b) => a - b);
  }

  /** Keys of the peer's requests that timed out (a hint: check each with `requestOf`). */
  timedOutKeys(peerId: string): Set<number> | undefined {
    return this.#timedOutByPeer.get(peerId);
  }

  key(index: number, block: number): number {
    return index * this.#blocksPerPiece + block;
  }

  pieceOf(key: number): number {
    return Math.floor(key / this.#blocksPerPiece);
  }

  /** The peer's request for the block (a copy: change it through the methods below). */
  requestOf(p: PartialPiece, block: number, peerId: string): RequestInfo | undefined {
    if (p.requester[block] === peerId)
      return { at: p.requestedAt[block]!, timedOut: p.requestTimedOut[block] === 1 };
    return p.more?.get(block)?.get(peerId);
  }

  /** The peer has a request for the block, timed out or not. */
  hasRequest(p: PartialPiece, block: number, peerId: string): boolean {
    return p.requester[block] === peerId || p.more?.get(block)?.has(peerId) === true;
  }

  /** The peer's request for the block timed out. */
  isTimedOut(p: PartialPiece, block: number, peerId: string): boolean {
    if (p.requester[block] === peerId) return p.requestTimedOut[block] === 1;
    return p.more?.get(block)?.get(peerId)?.timedOut === true;
  }

  /** Every peer with a request for the block, in the order they asked. */
  requestersOf(p: PartialPiece, block: number): string[] {
    const first = p.requester[block];
    if (first === undefined) return [];
    const more = p.more?.get(block);
    return more === undefined ? [first] : [first, ...more.keys()];
  }

  // ---- changes ----

  start(index: number, owner: string): PartialPiece {
    const blocks = this.#blockCount(index);
    const p: PartialPiece = {
      index,
      blocks,
      from: new Array<string | undefined>(blocks).fill(undefined),
      requester: new Array<string | undefined>(blocks).fill(undefined),
      requestedAt: new Float64Array(blocks),
      requestTimedOut: new Uint8Array(blocks),
      more: undefined,
      active: new Uint16Array(blocks),
      received: 0,
      free: blocks,
      requestEntries: 0,
      owner,
    };
    this.#partials.set(index, p);
    this.#own(p);
    this.#refresh(p);
    return p;
  }

  addRequest(p: PartialPiece, b: number, peerId: string, now: number): void {
    this.#setRequest(p, b, peerId, now);
    p.requestEntries++;
    if (p.active[b]! === 0 && p.from[b] === undefined) p.free--;
    p.active[b]!++;
    let keys = this.#byPeer.get(peerId);
    if (keys === undefined) {
      keys = this.#spareKeys ?? new BlockKeyTable();
      this.#spareKeys = null;
      this.#byPeer.set(peerId, keys);
    }
    keys.set(this.key(p.index, b));
    this.#refresh(p);
  }

  /** Drops one request entry; returns true when it was there. */
  dropRequest(p: PartialPiece, b: number, peerId: string): boolean {
    const dropped = this.#dropRequest(p, b, peerId);
    if (dropped) this.#refresh(p);
    return dropped;
  }

  /** dropRequest without the index update, for callers that change `p` further and refresh once. */
  #dropRequest(p: PartialPiece, b: number, peerId: string): boolean {
    let timedOut: boolean;
    if (p.requester[b] === peerId) {
      timedOut = p.requestTimedOut[b] === 1;
      this.#promoteNext(p, b);
    } else {
      const more = p.more?.get(b);
      const info = more?.get(peerId);
      if (more === undefined || info === undefined) return false;
      timedOut = info.timedOut;
      more.delete(peerId);
      if (more.size === 0) this.#dropMore(p, b);
    }
    p.requestEntries--;
    if (!timedOut) {
      p.active[b]!--;
      if (p.active[b] === 0 && p.from[b] === undefined) p.free++;
    }
    const keys = this.#byPeer.get(peerId);
    keys?.delete(this.key(p.index, b));
    if (keys?.size === 0) {
      this.#byPeer.delete(peerId);
      this.#spareKeys = keys;
    }
    return true;
  }

  /** The request is overdue: the block is free for others, still recorded for `peerId`. */
  timeOut(p: PartialPiece, b: number, peerId: string): void {
    if (p.requester[b] === peerId) {
      if (p.requestTimedOut[b] === 1) return;
      p.requestTimedOut[b] = 1;
    } else {
      const info = p.more?.get(b)?.get(peerId);
      if (info === undefined || info.timedOut) return;
      info.timedOut = true;
    }
    let timedOut = this.#timedOutByPeer.get(peerId);
    if (timedOut === undefined) this.#timedOutByPeer.set(peerId, (timedOut = new Set()));
    timedOut.add(this.key(p.index, b));
    p.active[b]!--;
    if (p.active[b] === 0 && p.from[b] === undefined) p.free++;
    this.#refresh(p);
  }

  /** A timed-out request of `peerId` made live again (the same entry, counted once). */
  renew(p: PartialPiece, b: number, peerId: string, now: number): void {
    this.#setRequest(p, b, peerId, now);
    if (p.active[b]! === 0 && p.from[b] === undefined) p.free--;
    p.active[b]!++;
    this.#refresh(p);
  }

  /**
   * Records a block of a partial piece as received from `peerId`, dropping every
   * request for it. Returns the other peers that had it requested (end game).
   * A piece whose last block this was becomes complete (see `started`).
   */
  receive(p: PartialPiece, b: number, peerId: string): string[] | undefined {
    // One index update at the end: refreshing in between put a piece whose blocks were all
    // requested into the free-block sets and out again for every block (a Set's insert and
    // delete per block, the rehashes of which were promoted).
    this.#dropRequest(p, b, peerId);
    let others: string[] | undefined;
    if (p.requester[b] !== undefined) {
      others = this.requestersOf(p, b);
      for (const other of others) this.#dropRequest(p, b, other);
    }
    // After dropping every request the block counts as free; receiving it takes that back.
    p.free--;
    p.from[b] = peerId;
    p.received++;
    if (p.received === p.blocks) {
      this.#partials.delete(p.index);
      this.#disown(p);
      this.#full.set(p.index, p);
    }
    this.#refresh(p);
    return others;
  }

  /**
   * Forgets a started piece (verified, failed, or idle again) with every request
   * still recorded for it.
   */
  forget(p: PartialPiece): void {
    for (let b = 0; b < p.blocks; b++) {
      if (p.requester[b] === undefined) continue;
      for (const peerId of this.requestersOf(p, b)) this.dropRequest(p, b, peerId);
    }
    this.#partials.delete(p.index);
    this.#full.delete(p.index);
    this.#disown(p);
    this.#refresh(p);
  }

  /** A partial piece with nothing received and nothing requested; true when it was forgotten. */
  forgetIfIdle(p: PartialPiece): boolean {
    if (p.received > 0 || p.requestEntries > 0 || this.#partials.get(p.index) !== p) return false;
    this.forget(p);
    return true;
  }

  /**
   * The peer is gone: its requests are dropped (returned as [piece, block]
   * pairs) and its pieces belong to nobody.
   */
  peerGone(peerId: string): Array<[PartialPiece, number]> {
    const released: Array<[PartialPiece, number]> = [];
    const keys = this.requestKeys(peerId);
    if (keys !== undefined) {
      for (const key of keys) {
        const index = this.pieceOf(key);
        const b = key - index * this.#blocksPerPiece;
        const p = this.started(index);
        if (p !== undefined && this.dropRequest(p, b, peerId)) released.push([p, b]);
      }
    }
    this.#byPeer.delete(peerId);
    this.#timedOutByPeer.delete(peerId);
    const owned = this.#owned.get(peerId);
    if (owned !== undefined) {
      this.#owned.delete(peerId);
      for (const p of owned) {
        p.owner = NOBODY;
        this.#refresh(p);
      }
    }
    return released;
  }

  // ---- request records ----

  /** Records (or, like a map's set, replaces) the peer's live request for the block. */
  #setRequest(p: PartialPiece, b: number, peerId: string, now: number): void {
    const first = p.requester[b];
    if (first === undefined || first === peerId) {
      p.requester[b] = peerId;
      p.requestedAt[b] = now;
      p.requestTimedOut[b] = 0;
      return;
    }
    p.more ??= new Map();
    let more = p.more.get(b);
    if (more === undefined) p.more.set(b, (more = new Map()));
    more.set(peerId, { at: now, timedOut: false });
  }

  /** The first request of the block is gone: the next one, if any, takes its place. */
  #promoteNext(p: PartialPiece, b: number): void {
    const more = p.more?.get(b);
    const next = more?.entries().next();
    if (more === undefined || next === undefined || next.done) {
      p.requester[b] = undefined;
      return;
    }
    const [peerId, info] = next.value;
    p.requester[b] = peerId;
    p.requestedAt[b] = info.at;
    p.requestTimedOut[b] = info.timedOut ? 1 : 0;
    more.delete(peerId);
    if (more.size === 0) this.#dropMore(p, b);
  }

  #dropMore(p: PartialPiece, b: number): void {
    p.more!.delete(b);
    if (p.more!.size === 0) p.more = undefined;
  }

  // ---- indexes ----

  #own(p: PartialPiece): void {
    if (p.owner === NOBODY) return;
    let set = this.#owned.get(p.owner);
    if (set === undefined) this.#owned.set(p.owner, (set = new Set()));
    set.add(p);
  }

  #disown(p: PartialPiece): void {
    const set = this.#owned.get(p.owner);
    if (set === undefined) return;
    set.delete(p);
    if (set.size === 0) this.#owned.delete(p.owner);
  }

  /** Puts `p` in or out of the free-block indexes after any change to it. */
  #refresh(p: PartialPiece): void {
    if (p.free > 0 && this.#partials.get(p.index) === p) {
      this.#withFree.add(p);
      if (p.owner === NOBODY) this.#freeOrphans.add(p);
      else this.#freeOrphans.delete(p);
    } else {
      this.#withFree.delete(p);
      this.#freeOrphans.delete(p);
    }
  }
}
