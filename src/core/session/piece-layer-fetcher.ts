/**
 * Fetches the v2 piece layers a torrent lacks (a magnet link's metadata, or a
 * .torrent without `piece layers`) from peers with BEP 52 hash requests, so
 * that its pieces can be verified. Until every missing layer is here, the
 * session downloads nothing: a piece without its expected hash could only fail.
 *
 * - Each file's layer is asked for as libtorrent asks: the piece layer as the
 *   base layer, 512 hashes at a time (the last request rounded up to a power
 *   of two), with proofs up to the file's pieces root, which comes from the
 *   info dictionary (checked against the info-hash) and is the one thing
 *   trusted. Every answer is verified against it (verify/piece-layer-proof.ts)
 *   before anything is kept.
 * - Requests are spread over the connected peers (at most MAX_PER_PEER in
 *   flight on one), and retried elsewhere after a reject or REQUEST_TIMEOUT_MS
 *   without an answer. A peer that rejected or timed out is asked again only
 *   once every other peer has failed that request too.
 * - A peer that sends hashes failing the proof, or hashes nobody asked it for
 *   (another range, another file), is punished (the session bans it); nothing
 *   it sent is stored.
 * - A layer is stored in `meta.pieceLayers` only when all of it is verified,
 *   which is where verify/expected-hashes.ts finds it.
 */
import type { Metainfo, TorrentFile } from '../metainfo/types.ts';
import type { HashesMessage, Peer } from '../peer/peer.ts';
import { sameBytes } from '../bytes.ts';
import { missingPieceLayers } from '../verify/expected-hashes.ts';
import {
  layerGeometry,
  verifyLayerRange,
  type LayerGeometry,
} from '../verify/piece-layer-proof.ts';
import type { HashRange } from '../wire/hash-messages.ts';

/** Hashes per request: libtorrent's chunk, and the most it answers in one message. */
export const HASHES_PER_REQUEST = 512;
/** Hash requests in flight on one peer. */
const MAX_PER_PEER = 4;
/** An unanswered request is tried on another peer after this long. */
const REQUEST_TIMEOUT_MS = 20_000;
/** How often timeouts are looked at and idle requests sent. */
const PUMP_MS = 1000;
/** Requests remembered per peer after they timed out, so a late answer is not taken for a lie. */
const MAX_EXPIRED_PER_PEER = 64;

export interface PieceLayerFetcherOptions {
  meta: Metainfo;
  /** The connected peers to ask. */
  peers: () => Iterable<Peer>;
  /** The peer broke the protocol or lied: the session bans it. */
  punish: (peer: Peer, reason: string) => void;
  /** A file's whole layer was verified and stored. */
  stored?: (file: TorrentFile) => void;
  now?: () => number;
  timeoutMs?: number;
}

/** One request: a range of one file's piece layer. */
interface Chunk {
  file: TorrentFile;
  root: Uint8Array;
  rootHex: string;
  geometry: LayerGeometry;
  index: number;
  length: number;
  /** The verified entries once answered. */
  hashes: Uint8Array | null;
  /** The peer asked now, and when. */
  askedOf: Peer | null;
  askedAt: number;
  /** Peers that rejected it or let it time out (asked again only when all have). */
  failedBy: Set<Peer>;
}

interface Asked {
  chunk: Chunk;
  expired: boolean;
}

export class PieceLayerFetcher {
  readonly #o: PieceLayerFetcherOptions;
  readonly #now: () => number;
  readonly #timeoutMs: number;
  /** Chunks still unanswered, by file root (hex). */
  readonly #files = new Map<string, Chunk[]>();
  /** What each peer was asked (and not yet answered), by peer. */
  readonly #asked = new Map<Peer, Asked[]>();
  #timer: NodeJS.Timeout | null = null;
  #resolve: () => void = () => {};
  /** Resolves when every missing layer is stored. */
  readonly done: Promise<void>;

  constructor(options: PieceLayerFetcherOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#timeoutMs = options.timeoutMs ?? REQUEST_TIMEOUT_MS;
    this.done = new Promise((resolve) => (this.#resolve = resolve));
    const { pieceLength } = options.meta;
    for (const file of missingPieceLayers(options.meta)) {
      const root = file.piecesRoot!;
      const geometry = layerGeometry(file.length, pieceLength);
      const chunks: Chunk[] = [];
      for (let index = 0; index < geometry.pieces; index += HASHES_PER_REQUEST) {
        // Rounded up to a power of two (at least 2: libtorrent counts uncles of a
        // one-hash answer differently from BEP 52), never past the padded layer.
        let length = 2;
        while (length < Math.min(HASHES_PER_REQUEST, geometry.pieces - index)) length *= 2;
        chunks.push({
          file,
          root,
          rootHex: Buffer.from(root).toString('hex'),
          geometry,
          index,
          length,
          hashes: null,
          askedOf: null,
          askedAt: 0,
          failedBy: new Set(),
        });
      }
      this.#files.set(chunks[0]!.rootHex, chunks);
    }
    if (this.#files.size === 0) this.#resolve();
  }

  /** Layers still missing. */
  get missing(): number {
    return this.#files.size;
  }

  /** Starts asking (now, on every answer, and once a second for timeouts and new peers). */
  start(): void {
    if (this.#files.size === 0 || this.#timer) return;
    this.#timer = setInterval(() => this.pump(), PUMP_MS);
    this.#timer.unref();
    this.pump();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#asked.clear();
  }

  /** Expires overdue requests and gives every unasked chunk to the least busy peer. */
  pump(): void {
    if (this.#files.size === 0) return;
    const now = this.#now();
    for (const [peer, list] of this.#asked) {
      if (peer.closed) {
        this.peerGone(peer);
        continue;
      }
      for (const asked of list) {
        if (asked.expired || now - asked.chunk.askedAt <= this.#timeoutMs) continue;
        asked.expired = true;
        if (asked.chunk.askedOf === peer) this.#failed(asked.chunk, peer);
      }
    }
    const peers = [...this.#o.peers()].filter((peer) => !peer.closed);
    if (peers.length === 0) return;
    for (const chunks of this.#files.values()) {
      for (const chunk of chunks) {
        if (chunk.hashes || chunk.askedOf) continue;
        const peer = this.#pickPeer(chunk, peers);
        if (!peer) continue;
        this.#ask(chunk, peer, now);
      }
    }
  }

  /** A peer left: what it was asked goes to others. */
  peerGone(peer: Peer): void {
    for (const asked of this.#asked.get(peer) ?? []) {
      if (asked.chunk.askedOf === peer) asked.chunk.askedOf = null;
      asked.chunk.failedBy.delete(peer);
    }
    this.#asked.delete(peer);
  }

  /** A `hashes` message: stored if it answers a question of ours and proves out, else punished. */
  onHashes(peer: Peer, message: HashesMessage): void {
    const asked = this.#take(peer, message);
    if (!asked) {
      this.#o.punish(peer, 'sent hashes it was not asked for');
      return;
    }
    const { chunk } = asked;
    if (chunk.askedOf === peer) chunk.askedOf = null;
    // Answered meanwhile by another peer (after this one timed out): nothing more to learn.
    if (chunk.hashes || !this.#files.has(chunk.rootHex)) return this.pump();
    const verified = verifyLayerRange(chunk.geometry, this.#o.meta.pieceLength, chunk.root, {
      index: message.index,
      length: message.length,
      hashes: message.hashes,
      uncles: message.uncles,
    });
    if (!verified) {
      this.#o.punish(peer, 'sent piece layer hashes that do not match the pieces root');
      this.pump();
      return;
    }
    chunk.hashes = verified;
    this.#maybeStore(chunk.rootHex);
    this.pump();
  }

  /** A `hash reject`: the request goes to another peer. */
  onReject(peer: Peer, range: HashRange): void {
    const asked = this.#take(peer, range);
    if (!asked) return;
    if (asked.chunk.askedOf === peer) this.#failed(asked.chunk, peer);
    this.pump();
  }

  #failed(chunk: Chunk, peer: Peer): void {
    chunk.askedOf = null;
    chunk.failedBy.add(peer);
  }

  /** The connected peer with the fewest requests in flight that has not failed this chunk yet. */
  #pickPeer(chunk: Chunk, peers: Peer[]): Peer | null {
    let fresh = peers.filter((peer) => !chunk.failedBy.has(peer));
    // Everyone failed it once: start over (a peer may have got the layer since).
    if (fresh.length === 0) {
      chunk.failedBy.clear();
      fresh = peers;
    }
    let best: Peer | null = null;
    let bestLoad = Infinity;
    for (const peer of fresh) {
      const load = this.#inFlight(peer);
      if (load >= MAX_PER_PEER) continue;
      // A seed surely has the hashes: preferred at equal load.
      if (load < bestLoad || (load === bestLoad && peer.seed && !best!.seed)) {
        best = peer;
        bestLoad = load;
      }
    }
    return best;
  }

  #inFlight(peer: Peer): number {
    return (this.#asked.get(peer) ?? []).filter((asked) => !asked.expired).length;
  }

  #ask(chunk: Chunk, peer: Peer, now: number): void {
    chunk.askedOf = peer;
    chunk.askedAt = now;
    let list = this.#asked.get(peer);
    if (!list) this.#asked.set(peer, (list = []));
    list.push({ chunk, expired: false });
    const expired = list.filter((asked) => asked.expired);
    if (expired.length > MAX_EXPIRED_PER_PEER) list.splice(list.indexOf(expired[0]!), 1);
    peer.conn.send({
      type: 'hash-request',
      piecesRoot: chunk.root,
      baseLayer: chunk.geometry.baseLayer,
      index: chunk.index,
      length: chunk.length,
      proofLayers: chunk.geometry.height - 1,
    });
  }

  /** Removes and returns what `peer` was asked that `range` answers exactly, if anything. */
  #take(peer: Peer, range: HashRange): Asked | null {
    const list = this.#asked.get(peer);
    if (!list) return null;
    const at = list.findIndex(
      ({ chunk }) =>
        chunk.index === range.index &&
        chunk.length === range.length &&
        chunk.geometry.baseLayer === range.baseLayer &&
        chunk.geometry.height - 1 === range.proofLayers &&
        sameBytes(chunk.root, range.piecesRoot),
    );
    if (at < 0) return null;
    return list.splice(at, 1)[0]!;
  }

  /** Stores a file's layer once every chunk of it is verified. */
  #maybeStore(rootHex: string): void {
    const chunks = this.#files.get(rootHex)!;
    if (!chunks.every((chunk) => chunk.hashes)) return;
    const layer = Buffer.concat(chunks.map((chunk) => chunk.hashes!));
    this.#o.meta.pieceLayers.set(rootHex, new Uint8Array(layer));
    this.#files.delete(rootHex);
    this.#o.stored?.(chunks[0]!.file);
    if (this.#files.size === 0) {
      this.stop();
      this.#resolve();
    }
  }
}
