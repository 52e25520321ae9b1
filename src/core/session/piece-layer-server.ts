/**
 * Answers BEP 52 hash requests from the piece layers we hold (from the
 * .torrent, or fetched from peers and verified): what lets libtorrent and
 * others download a v2 magnet link from us. Only the piece layer is served,
 * the layer every client asks for to get a torrent's hashes; requests for
 * other layers (block hashes, asked for after a piece failed), for files we
 * have no layer of, or for ranges we cannot prove get a `hash reject`.
 *
 * The tree above each layer is built on the first request for its file and
 * kept, so each answer is a copy, not a hashing job.
 *
 * A hybrid has no layers unless its .torrent brought them: the first request
 * for a file whose pieces are all verified builds its layer from the data
 * (piece-layer-builder.ts), and that request, and any for the same file
 * meanwhile, are answered once it is built (or rejected if it cannot be).
 */
import type { Metainfo } from '../metainfo/types.ts';
import type { HashPool } from '../hashing/pool.ts';
import { PieceLayerBuilder } from './piece-layer-builder.ts';
import {
  layerGeometry,
  layerTree,
  proveLayerRange,
  type LayerGeometry,
} from '../verify/piece-layer-proof.ts';
import type { HashMessage, HashRange } from '../wire/hash-messages.ts';

export class PieceLayerServer {
  readonly #meta: Metainfo;
  /** Built trees by root (hex); null for a root we have no layer for. */
  readonly #trees = new Map<string, { geometry: LayerGeometry; tree: Uint8Array[] }>();

  readonly #builder: PieceLayerBuilder | null;

  constructor(meta: Metainfo, builder: PieceLayerBuilder | null = null) {
    this.#meta = meta;
    this.#builder = builder;
  }

  /** A session's server: builds a hybrid's missing layers from the files `storage` holds. */
  static building(
    meta: Metainfo,
    pool: HashPool,
    storage: { filePath(index: number): string },
    pieces: { hasPiece(index: number): boolean },
  ): PieceLayerServer {
    const builder = new PieceLayerBuilder({
      meta,
      pool,
      filePath: (index) => storage.filePath(index),
      have: (piece) => pieces.hasPiece(piece),
    });
    return new PieceLayerServer(meta, builder);
  }

  /**
   * Sends the answer to `request` through `reply`: at once when we hold the
   * layer or cannot build it, else once it is built from our data.
   */
  answerWith(request: HashRange, reply: (message: HashMessage) => void): void {
    const hex = Buffer.from(request.piecesRoot).toString('hex');
    if (!this.#builder || this.#meta.pieceLayers.has(hex)) return reply(this.answer(request));
    void this.#builder.layerFor(hex).then(() => reply(this.answer(request)));
  }

  /** The message answering `request`: `hashes` when we can prove the range, else `hash reject`. */
  answer(request: HashRange): HashMessage {
    const reject: HashMessage = { ...request, type: 'hash-reject' };
    const served = this.#treeFor(request.piecesRoot);
    if (!served || request.baseLayer !== served.geometry.baseLayer) return reject;
    const proof = proveLayerRange(served.geometry, served.tree, request);
    return proof ? { ...request, type: 'hashes', ...proof } : reject;
  }

  #treeFor(root: Uint8Array): { geometry: LayerGeometry; tree: Uint8Array[] } | null {
    const hex = Buffer.from(root).toString('hex');
    const built = this.#trees.get(hex);
    if (built) return built;
    const layer = this.#meta.pieceLayers.get(hex);
    const file = this.#meta.files.find(
      (f) => f.piecesRoot !== null && Buffer.from(f.piecesRoot).toString('hex') === hex,
    );
    if (!layer || !file || file.length <= this.#meta.pieceLength) return null;
    const geometry = layerGeometry(file.length, this.#meta.pieceLength);
    const entry = { geometry, tree: layerTree(geometry, this.#meta.pieceLength, layer) };
    this.#trees.set(hex, entry);
    return entry;
  }
}
