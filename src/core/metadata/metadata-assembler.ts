/**
 * Assembles an info dictionary from 16 KiB ut_metadata pieces fetched from
 * several peers, and decides which pieces to ask whom for. Pure: no I/O, no
 * timers; peers are opaque keys (`host:port`, never an IP alone).
 *
 * Verification: metadata has no per-piece hashes, only the info-hash over the
 * whole. So when the assembled bytes do not match and several peers
 * contributed, nobody can be blamed yet. The assembler then fetches the next
 * round from a single peer at a time: a failure is that one peer's fault, and
 * once a round verifies, every earlier contributor whose piece differs from
 * the verified bytes is a proven liar. Honest peers are never blamed.
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
  /** Stored; more pieces are missing. */
  | { status: 'stored'; received: number; pieceCount: number }
  /** Not requested from this peer (or wrong size, or a duplicate): ignored. */
  | { status: 'ignored' }
  /**
   * All pieces in and verified. `liars` sent pieces in an earlier, failed
   * round that differ from the verified bytes: drop them.
   */
  | { status: 'complete'; infoBytes: Uint8Array; liars: string[] }
  /**
   * All pieces in but the hash does not match; the assembler has reset.
   * `culprits` are proven bad (drop them); when several peers contributed
   * nobody is proven and the next round comes from one peer at a time.
   */
  | { status: 'mismatch'; culprits: string[]; contributors: string[] };

export class MetadataAssembler {
  readonly #infoHash: Uint8Array | null;
  readonly #infoHashV2: Uint8Array | null;
  readonly #maxSize: number;
  #size: number | null = null;
  #pieces: (Uint8Array | null)[] = [];
  /** Who sent each stored piece. */
  #senders: (string | null)[] = [];
  /** piece -> peer it is requested from. */
  #inFlight = new Map<number, string>();
  #received = 0;
  /** After a mismatch with several contributors: one peer supplies a whole round. */
  #singleSource = false;
  #source: string | null = null;
  /** Pieces (as SHA-1 digests) sent in failed rounds: peer -> piece -> digest hex. */
  #history = new Map<string, Map<number, string>>();
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

  /** The size being assembled (adopted from the first peer asked), or null between rounds. */
  get size(): number | null {
    return this.#size;
  }

  get pieceCount(): number {
    return this.#pieces.length;
  }

  get received(): number {
    return this.#received;
  }

  /** Rounds that failed verification so far. */
  get failedRounds(): number {
    return this.#failedRounds;
  }

  /**
   * The next piece to request from `peer`, which announced `announcedSize`,
   * or null if there is nothing for it to do now (its size differs from the
   * one being assembled, everything missing is already requested, or another
   * peer is the single source this round). Marks the piece as requested.
   */
  nextRequest(peer: string, announcedSize: number): number | null {
    if (
      !Number.isSafeInteger(announcedSize) ||
      announcedSize <= 0 ||
      announcedSize > this.#maxSize
    ) {
      return null;
    }
    if (this.#size === null) this.#begin(announcedSize);
    if (announcedSize !== this.#size) return null;
    if (this.#singleSource) {
      this.#source ??= peer;
      if (this.#source !== peer) return null;
    }
    for (let piece = 0; piece < this.#pieces.length; piece++) {
      if (this.#pieces[piece] === null && !this.#inFlight.has(piece)) {
        this.#inFlight.set(piece, peer);
        return piece;
      }
    }
    return null;
  }

  /** Pieces currently requested from `peer`. */
  requestedFrom(peer: string): number[] {
    return [...this.#inFlight].filter(([, p]) => p === peer).map(([piece]) => piece);
  }

  /** The peer rejected a request: someone else may ask for that piece. */
  rejected(peer: string, piece: number): void {
    if (this.#inFlight.get(piece) === peer) this.#inFlight.delete(piece);
    if (this.#source === peer) this.#releaseSource(peer);
  }

  /** The peer disconnected, timed out or was dropped: free its requests. */
  removePeer(peer: string): void {
    for (const [piece, p] of this.#inFlight) if (p === peer) this.#inFlight.delete(piece);
    if (this.#source === peer) this.#releaseSource(peer);
  }

  /** A data message arrived (already decoded and checked by the codec). */
  add(peer: string, piece: number, totalSize: number, data: Uint8Array): AddResult {
    if (totalSize !== this.#size || this.#inFlight.get(piece) !== peer)
      return { status: 'ignored' };
    if (data.length !== metadataPieceLength(totalSize, piece)) return { status: 'ignored' };
    this.#inFlight.delete(piece);
    this.#pieces[piece] = Uint8Array.from(data);
    this.#senders[piece] = peer;
    this.#received++;
    if (this.#received < this.#pieces.length) {
      return { status: 'stored', received: this.#received, pieceCount: this.#pieces.length };
    }
    return this.#finish();
  }

  #finish(): AddResult {
    const size = this.#size!;
    const infoBytes = new Uint8Array(size);
    for (let piece = 0; piece < this.#pieces.length; piece++) {
      infoBytes.set(this.#pieces[piece]!, piece * METADATA_PIECE_SIZE);
    }
    const contributors = [...new Set(this.#senders as string[])];
    if (this.#verify(infoBytes)) {
      const liars: string[] = [];
      for (const [peer, pieces] of this.#history) {
        for (const [piece, digest] of pieces) {
          const good = this.#pieces[piece];
          if (piece >= this.#pieces.length || !good || digest !== sha1Hex(good)) {
            liars.push(peer);
            break;
          }
        }
      }
      return { status: 'complete', infoBytes, liars };
    }

    this.#failedRounds++;
    // Remember what each contributor sent, to convict it once the truth is known.
    for (let piece = 0; piece < this.#pieces.length; piece++) {
      const peer = this.#senders[piece]!;
      let pieces = this.#history.get(peer);
      if (!pieces) this.#history.set(peer, (pieces = new Map()));
      pieces.set(piece, sha1Hex(this.#pieces[piece]!));
    }
    const culprits = contributors.length === 1 ? contributors : [];
    for (const peer of culprits) this.#history.delete(peer);
    // Wrong size from a liar looks the same as wrong bytes: start over with a size chosen afresh.
    this.#singleSource = contributors.length > 1 || this.#singleSource;
    this.#size = null;
    this.#pieces = [];
    this.#senders = [];
    this.#inFlight.clear();
    this.#received = 0;
    this.#source = null;
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

  #begin(size: number): void {
    this.#size = size;
    const count = metadataPieceCount(size);
    this.#pieces = new Array<Uint8Array | null>(count).fill(null);
    this.#senders = new Array<string | null>(count).fill(null);
    this.#received = 0;
  }

  /** The single source left: another peer supplies the rest of the round. */
  #releaseSource(peer: string): void {
    this.#source = null;
    // Its pieces go too: a round mixing two sources could again fail without a culprit.
    for (let piece = 0; piece < this.#pieces.length; piece++) {
      if (this.#senders[piece] === peer) {
        this.#pieces[piece] = null;
        this.#senders[piece] = null;
        this.#received--;
      }
    }
    if (this.#received === 0) this.#size = null;
  }
}

function sha1Hex(bytes: Uint8Array): string {
  return createHash('sha1').update(bytes).digest('hex');
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
