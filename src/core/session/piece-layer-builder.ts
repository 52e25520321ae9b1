/**
 * Piece layers of a hybrid (v1 + v2) torrent built from its verified data: a
 * hybrid from a magnet link (or a .torrent without `piece layers`) verifies
 * by SHA-1 and never receives its v2 layers, yet a v2 peer asks for them
 * (BEP 52 hash requests) before it downloads anything, and a .torrent saved
 * from the download should carry them.
 *
 * Why build rather than fetch from peers as a v2-only torrent does
 * (piece-layer-fetcher.ts): the data is here and verified, so no peer is
 * needed (a swarm of v1 clients has no layers to give), and libtorrent does
 * the same, hashing a hybrid's blocks by SHA-256 beside SHA-1 as it verifies
 * them. Unlike libtorrent, a file's layer is built only when it is needed
 * (a hash request, a .torrent to write), not for every piece: a download that
 * exits when done never pays for a hash nobody asks for.
 *
 * A layer is kept only when its merkle root equals the file's `pieces root`
 * from the info dictionary (the info-hash vouches for it). A hybrid whose v1
 * and v2 hashes disagree, or data that changed on disk since it was verified,
 * gives a layer that does not match, which is dropped.
 */
import { ReadStatus, type HashPool } from '../hashing/pool.ts';
import type { Metainfo, TorrentFile } from '../metainfo/types.ts';
import { pieceLayerRoot } from '../metainfo/piece-layers.ts';
import { missingPieceLayers } from '../verify/expected-hashes.ts';

export interface PieceLayerBuilderOptions {
  meta: Metainfo;
  pool: HashPool;
  /** Where file `index` (of meta.files) lies on disk. */
  filePath: (fileIndex: number) => string;
  /** Piece `index` is verified and on disk; absent: every piece is (the run completed). */
  have?: (piece: number) => boolean;
}

/** Whether layers can be built here: a hybrid, so its pieces are verified without them. */
export function buildsPieceLayers(meta: Metainfo): boolean {
  return meta.pieces !== null && missingPieceLayers(meta).length > 0;
}

export class PieceLayerBuilder {
  readonly #o: PieceLayerBuilderOptions;
  /** Builds under way or done, by root (hex): resolve to whether the layer was kept. */
  readonly #builds = new Map<string, Promise<boolean>>();
  #stopped = false;

  constructor(options: PieceLayerBuilderOptions) {
    this.#o = options;
  }

  /**
   * Builds the layer of the file with pieces root `rootHex` when its pieces
   * are all verified, and stores it in `meta.pieceLayers`. Resolves to
   * whether the layer is there now; a second call waits for the first.
   */
  layerFor(rootHex: string): Promise<boolean> {
    const { meta } = this.#o;
    if (meta.pieceLayers.has(rootHex)) return Promise.resolve(true);
    if (!meta.pieces) return Promise.resolve(false); // v2-only: layers come from peers
    const index = meta.files.findIndex(
      (f) =>
        !f.padding &&
        f.piecesRoot !== null &&
        f.length > meta.pieceLength &&
        Buffer.from(f.piecesRoot).toString('hex') === rootHex,
    );
    if (index < 0 || !this.#verified(meta.files[index]!)) return Promise.resolve(false);
    let build = this.#builds.get(rootHex);
    if (!build) {
      // Never retried, whatever the outcome: a peer asking again and again for a layer that
      // does not match (or a file that cannot be read) must not make us hash it each time.
      build = this.#build(index, rootHex).catch(() => false);
      this.#builds.set(rootHex, build);
    }
    return build;
  }

  /** Builds every missing layer it can; resolves when all are tried. */
  async buildAll(): Promise<void> {
    const roots = missingPieceLayers(this.#o.meta).map((f) =>
      Buffer.from(f.piecesRoot!).toString('hex'),
    );
    await Promise.all(roots.map((root) => this.layerFor(root)));
  }

  /** Builds finishing after this keep nothing (the storage is going away). */
  stop(): void {
    this.#stopped = true;
  }

  /** Every piece of the file is verified (hybrid files start on a piece boundary). */
  #verified(file: TorrentFile): boolean {
    const have = this.#o.have;
    if (!have) return true;
    const { pieceLength } = this.#o.meta;
    const first = Math.floor(file.offset / pieceLength);
    const last = Math.floor((file.offset + file.length - 1) / pieceLength);
    for (let piece = first; piece <= last; piece++) if (!have(piece)) return false;
    return true;
  }

  async #build(fileIndex: number, rootHex: string): Promise<boolean> {
    const { meta, pool } = this.#o;
    const file = meta.files[fileIndex]!;
    const [result] = await pool.hashFiles(
      [
        {
          path: this.#o.filePath(fileIndex),
          length: file.length,
          sha1: false,
          sha1PadLastPiece: false,
          v2: true,
        },
      ],
      meta.pieceLength,
    );
    const layer = result?.status === ReadStatus.ok ? result.pieceLayer : null;
    if (this.#stopped || !layer) return false;
    if (!pieceLayerRoot(layer, meta.pieceLength).equals(file.piecesRoot!)) return false;
    meta.pieceLayers.set(rootHex, layer);
    return true;
  }
}
