/**
 * Serves our info dictionary to peers over ut_metadata (BEP 9) while we seed
 * or download a torrent whose metadata we have. Pure: the engine passes in
 * the payload of each `extended` message carrying our ut_metadata id and
 * sends back what this returns, under the peer's ut_metadata id.
 */
import {
  decodeUtMetadata,
  encodeUtMetadata,
  MAX_METADATA_SIZE,
  METADATA_PIECE_SIZE,
  metadataPieceCount,
} from './ut-metadata-codec.ts';

export interface MetadataServerOptions {
  /**
   * Requests answered per peer before further ones are rejected: a whole info
   * dictionary a few times over is plenty for an honest peer.
   */
  maxRequestsPerPeer?: number;
}

export class MetadataServer {
  readonly #info: Uint8Array;
  readonly #pieceCount: number;
  readonly #maxRequestsPerPeer: number;
  readonly #served = new Map<string, number>();

  constructor(infoBytes: Uint8Array, options: MetadataServerOptions = {}) {
    if (infoBytes.length === 0 || infoBytes.length > MAX_METADATA_SIZE) {
      throw new RangeError(`info dictionary of ${infoBytes.length} bytes cannot be served`);
    }
    this.#info = infoBytes;
    this.#pieceCount = metadataPieceCount(infoBytes.length);
    this.#maxRequestsPerPeer = options.maxRequestsPerPeer ?? this.#pieceCount * 4 + 16;
  }

  /** For our extended handshake's `metadata_size`. */
  get size(): number {
    return this.#info.length;
  }

  /** The encoded data message for `piece`, or a reject when it is past the end. */
  answer(piece: number): Uint8Array {
    if (!Number.isSafeInteger(piece) || piece < 0 || piece >= this.#pieceCount) {
      return encodeUtMetadata({ type: 'reject', piece: Math.max(0, Math.trunc(piece) || 0) });
    }
    const start = piece * METADATA_PIECE_SIZE;
    return encodeUtMetadata({
      type: 'data',
      piece,
      totalSize: this.#info.length,
      data: this.#info.subarray(start, Math.min(start + METADATA_PIECE_SIZE, this.#info.length)),
    });
  }

  /**
   * Handles one ut_metadata payload from `peer` (its address key). Returns the
   * payload to send back (data or reject), or null when there is nothing to
   * answer (a data, reject or unknown message). Throws WireProtocolError on a
   * malformed message: drop that connection.
   */
  handle(peer: string, payload: Uint8Array): Uint8Array | null {
    const message = decodeUtMetadata(payload);
    if (message.type !== 'request') return null;
    const served = this.#served.get(peer) ?? 0;
    if (served >= this.#maxRequestsPerPeer) {
      return encodeUtMetadata({ type: 'reject', piece: message.piece });
    }
    this.#served.set(peer, served + 1);
    return this.answer(message.piece);
  }

  /** The peer disconnected: forget its request count. */
  forget(peer: string): void {
    this.#served.delete(peer);
  }
}
