/**
 * Assembles an info dictionary from 16 KiB ut_metadata pieces fetched from
 * several peers, and decides which pieces to ask whom for. Pure: no I/O, no
 * timers; peers are opaque keys (`host:port`, never an IP alone).
 *
 * One round per announced size: peers that announce the same metadata size
 * fill the same round, and a peer announcing another size gets a round of
 * its own. A peer's size is only a claim: until the SHA-1 (or SHA-256) of a
 * round's bytes matches the info-hash, no size is preferred over another, so
 * a liar announcing a wrong size cannot lock the honest peers out. A round
 * nobody is asked for any more (its peers left) is thrown away.
 *
 * Verification: metadata has no per-piece hashes, only the info-hash over the
 * whole. So when a round's bytes do not match and several peers contributed,
 * nobody can be blamed yet. That round then starts over with a single peer
 * supplying it: a failure is that one peer's fault, and once any round
 * verifies, every earlier contributor whose piece differs from the verified
 * bytes (or who sent pieces of another size) is a proven liar. Honest peers
 * are never blamed.
 */
import { createHash } from 'node:crypto';
import {
  MAX_METADATA_SIZE,
  METADATA_PIECE_SIZE,
  metadataPieceCount,
  metadataPieceLength,
} from './ut-metadata-codec.ts';

export interface MetadataAssemblerOptions {
  /** 20-byte v1 info-hash: SHA-1 of the info dictionary must equal it. */
  infoHash?: Uint8Array | null;
  /** 32-byte v2 info-hash (btmh): SHA-256 of the info dictionary must equal it. */
  infoHashV2?: Uint8Array | null;
  /** Cap on the size a peer may announce (default MAX_METADATA_SIZE). */
  maxSize?: number;
}

export type AddResult =
  /** Stored; more pieces of this round are missing. */
  | { status: 'stored'; received: number; pieceCount: number }
  /** Not requested from this peer (or wrong size, or a duplicate): ignored. */
  | { status: 'ignored' }
  /**
   * All pieces of a round in and verified. `liars` sent pieces in an earlier,
   * failed round that differ from the verified bytes: drop them.
   */
  | { status: 'complete'; infoBytes: Uint8Array; liars: string[] }
  /**
   * All pieces of a round in but the hash does not match; that round has
   * reset. `culprits` are proven bad (drop them); when several peers
   * contributed nobody is proven and the round starts over from one peer.
   */
  | { status: 'mismatch'; culprits: string[]; contributors: string[] };

/** The pieces of one announced size. */
interface Round {
  readonly size: number;
  readonly pieces: (Uint8Array | null)[];
  /** Who sent each stored piece. */
  readonly senders: (string | null)[];
  /** piece -> peer it is requested from. */
  readonly inFlight: Map<number, string>;
  received: number;
  /** After a mismatch with several contributors: one peer supplies the whole round. */
  singleSource: boolean;
  source: string | null;
}

export class MetadataAssembler {
  readonly #infoHash: Uint8Array | null;
  readonly #infoHashV2: Uint8Array | null;
  readonly #maxSize: number;
  /** Rounds by announced size. */
  readonly #rounds = new Map<number, Round>();
  /** The size each peer asked for pieces of: a round lives while one of its peers does. */
  readonly #askers = new Map<string, number>();
  /** Sizes whose rounds failed with several contributors: they restart single-source. */
  readonly #suspectSizes = new Set<number>();
  /** Pieces sent in failed rounds: peer -> `size:piece` -> SHA-1 hex. */
  readonly #history = new Map<string, Map<string, string>>();
  #failedRounds = 0;

  constructor(options: MetadataAssemblerOptions) {
    this.#infoHash = options.infoHash ?? null;
    this.#infoHashV2 = options.infoHashV2 ?? null;
    if (!this.#infoHash && !this.#infoHashV2)
      throw new RangeError('no info-hash to verify against');
    if (this.#infoHash && this.#infoHash.length !== 20)
      throw new RangeError('v1 info-hash must be 20 bytes');
    if (this.#infoHashV2 && this.#infoHashV2.length !== 32) {
      throw new RangeError('v2 info-hash must be 32 bytes');
    }
    this.#maxSize = options.maxSize ?? MAX_METADATA_SIZE;
  }

  /** The sizes being assembled right now (one round each). */
  get sizes(): number[] {
    return [...this.#rounds.keys()];
  }

  /** Rounds that failed verification so far. */
  get failedRounds(): number {
    return this.#failedRounds;
  }

  /**
   * The next piece to request from `peer`, which announced `announcedSize`,
   * or null if there is nothing for it to do now (everything missing of its
   * size is already requested, or another peer is the single source of that
   * round). Marks the piece as requested.
   */
  nextRequest(peer: string, announcedSize: number): number | null {
    if (
      !Number.isSafeInteger(announcedSize) ||
      announcedSize <= 0 ||
      announcedSize > this.#maxSize
    ) {
      return null;
    }
    this.#askers.set(peer, announcedSize);
    let round = this.#rounds.get(announcedSize);
    if (!round) {
      round = newRound(announcedSize, this.#suspectSizes.has(announcedSize));
      this.#rounds.set(announcedSize, round);
    }
    if (round.singleSource) {
      round.source ??= peer;
      if (round.source !== peer) return null;
    }
    for (let piece = 0; piece < round.pieces.length; piece++) {
      if (round.pieces[piece] === null && !round.inFlight.has(piece)) {
        round.inFlight.set(piece, peer);
        return piece;
      }
    }
    return null;
  }

  /** Pieces currently requested from `peer` (in any round). */
  requestedFrom(peer: string): number[] {
    const pieces: number[] = [];
    for (const round of this.#rounds.values())
      for (const [piece, p] of round.inFlight) if (p === peer) pieces.push(piece);
    return pieces;
  }

  /** The peer rejected a request: someone else may ask for that piece. */
  rejected(peer: string, piece: number): void {
    for (const round of this.#rounds.values()) {
      if (round.inFlight.get(piece) === peer) round.inFlight.delete(piece);
      if (round.source === peer) this.#releaseSource(round, peer);
    }
  }

  /**
   * The peer disconnected, timed out or was dropped: free its requests. A
   * round none of whose peers is left goes, pieces and all: a liar's size
   * dies with its connections, and departed peers pin no memory.
   */
  removePeer(peer: string): void {
    for (const round of this.#rounds.values()) {
      for (const [piece, p] of round.inFlight) if (p === peer) round.inFlight.delete(piece);
      if (round.source === peer) this.#releaseSource(round, peer);
    }
    const size = this.#askers.get(peer);
    this.#askers.delete(peer);
    if (size !== undefined && ![...this.#askers.values()].includes(size)) this.#rounds.delete(size);
  }

  /** A data message arrived (already decoded and checked by the codec). */
  add(peer: string, piece: number, totalSize: number, data: Uint8Array): AddResult {
    const round = this.#rounds.get(totalSize);
    if (!round || round.inFlight.get(piece) !== peer) return { status: 'ignored' };
    if (data.length !== metadataPieceLength(totalSize, piece)) return { status: 'ignored' };
    round.inFlight.delete(piece);
    round.pieces[piece] = Uint8Array.from(data);
    round.senders[piece] = peer;
    round.received++;
    if (round.received < round.pieces.length) {
      return { status: 'stored', received: round.received, pieceCount: round.pieces.length };
    }
    return this.#finish(round);
  }

  #finish(round: Round): AddResult {
    const infoBytes = new Uint8Array(round.size);
    for (let piece = 0; piece < round.pieces.length; piece++) {
      infoBytes.set(round.pieces[piece]!, piece * METADATA_PIECE_SIZE);
    }
    const contributors = [...new Set(round.senders as string[])];
    if (this.#verify(infoBytes)) {
      const liars: string[] = [];
      for (const [peer, pieces] of this.#history) {
        for (const [where, digest] of pieces) {
          const [size, piece] = where.split(':').map(Number) as [number, number];
          const good = size === round.size ? round.pieces[piece] : null;
          if (!good || digest !== sha1Hex(good)) {
            liars.push(peer);
            break;
          }
        }
      }
      return { status: 'complete', infoBytes, liars };
    }

    this.#failedRounds++;
    // Remember what each contributor sent, to convict it once the truth is known.
    for (let piece = 0; piece < round.pieces.length; piece++) {
      const peer = round.senders[piece]!;
      let pieces = this.#history.get(peer);
      if (!pieces) this.#history.set(peer, (pieces = new Map()));
      pieces.set(`${round.size}:${piece}`, sha1Hex(round.pieces[piece]!));
    }
    const culprits = contributors.length === 1 ? contributors : [];
    for (const peer of culprits) this.#history.delete(peer);
    if (contributors.length > 1) this.#suspectSizes.add(round.size);
    this.#rounds.delete(round.size);
    return { status: 'mismatch', culprits, contributors };
  }

  #verify(bytes: Uint8Array): boolean {
    if (this.#infoHash && !equal(createHash('sha1').update(bytes).digest(), this.#infoHash)) {
      return false;
    }
    if (this.#infoHashV2 && !equal(createHash('sha256').update(bytes).digest(), this.#infoHashV2)) {
      return false;
    }
    return true;
  }

  /** The single source left: another peer supplies the rest of the round. */
  #releaseSource(round: Round, peer: string): void {
    round.source = null;
    // Its pieces go too: a round mixing two sources could again fail without a culprit.
    for (let piece = 0; piece < round.pieces.length; piece++) {
      if (round.senders[piece] === peer) {
        round.pieces[piece] = null;
        round.senders[piece] = null;
        round.received--;
      }
    }
  }
}

function newRound(size: number, singleSource: boolean): Round {
  const count = metadataPieceCount(size);
  return {
    size,
    pieces: new Array<Uint8Array | null>(count).fill(null),
    senders: new Array<string | null>(count).fill(null),
    inFlight: new Map(),
    received: 0,
    singleSource,
    source: null,
  };
}

function sha1Hex(bytes: Uint8Array): string {
  return createHash('sha1').update(bytes).digest('hex');
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
