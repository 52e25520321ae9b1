/**
 * Web seeds (BEP 19) as a source of blocks beside the peers. Each free
 * request slot of a mirror takes pieces from the picker (as a peer that has
 * everything and never chokes) and fetches them in one HTTP request: a run
 * of consecutive pieces up to RUN_BYTES, starting where the mirror's last
 * run ended when that piece is still wanted, so a lone mirror is read as
 * one sequential stream. Blocks go to the download scheduler as their bytes
 * arrive (it copies them, and verifies each piece as soon as it is whole,
 * while the rest of the run is still coming), so the run's buffer is reused
 * for the next request. A bad piece counts against the mirror it came from;
 * a failed request gives its undelivered blocks back to the picker.
 */
import { RateMeter } from '../peer/rate-meter.ts';
import type { RateLimiter } from '../swarm/rate-limiter.ts';
import type { BlockRef, PiecePicker } from '../swarm/piece-picker.ts';
import { BLOCK_SIZE } from '../swarm/piece-picker.ts';
import type { WebSeed } from '../webseed/web-seed.ts';
import type { WebSeedPool } from '../webseed/web-seed-pool.ts';

/**
 * Most bytes asked of a mirror in one request (at least one piece). Larger
 * runs cost fewer requests; the scheduler's piece buffers bound how many
 * pieces can be in progress at once, so runs much larger only wait for them.
 */
export const RUN_BYTES = 4 * 1024 * 1024;

/** The picker's id for blocks asked of a web seed. */
export const webSeedId = (seed: WebSeed): string => `web seed ${seed.url}`;

export interface WebSeedSourceOptions {
  pool: WebSeedPool;
  picker: PiecePicker;
  pieceLength: number;
  /** Requests are made only while this holds (the session is downloading). */
  active: () => boolean;
  /** Pieces the scheduler can still start (each needs a buffer). */
  freeBuffers: () => number;
  /**
   * A block arrived from `sourceId`: the scheduler takes it as from a peer.
   * `block` is only valid during the call (its memory is reused): copy it.
   */
  deliver: (sourceId: string, index: number, begin: number, block: Uint8Array) => void;
  warn: (message: string) => void;
  /**
   * --download-limit, shared with the peers: a run takes its bytes from it
   * when asked for, and is sent once they are paid for. Runs are then at most
   * about a second of the rate, so the bytes arrive evenly, not in 4 MiB bursts.
   */
  limiter?: RateLimiter;
}

/** The blocks of one piece asked of a mirror. */
interface PieceAsked {
  index: number;
  blocks: BlockRef[];
}

export class WebSeedSource {
  readonly #o: WebSeedSourceOptions;
  readonly #abort = new AbortController();
  readonly #blocksPerPiece: number;
  #bytes = 0;
  readonly #rate = new RateMeter();
  /** Mirrors already reported as dropped (each once). */
  readonly #dropped = new Set<WebSeed>();
  /** Per mirror, the piece after its last run: where its next run starts if still wanted. */
  readonly #next = new Map<WebSeed, number>();
  /** Run buffers not in use (one per request in flight at most, reused). */
  readonly #spare: Buffer[] = [];
  /** Bytes of a run buffer: the most pieces a run may have, whole. */
  readonly #bufferSize: number;
  /** Requests in flight per mirror (from this source), waiting for the limiter included. */
  readonly #inFlight = new Map<WebSeed, number>();
  /** Runs waiting for the download limit: at stop they fail like a cancelled request. */
  readonly #waiting = new Map<NodeJS.Timeout, (error: Error) => void>();

  constructor(options: WebSeedSourceOptions) {
    this.#o = options;
    this.#blocksPerPiece = Math.ceil(options.pieceLength / BLOCK_SIZE);
    this.#bufferSize =
      Math.max(1, Math.floor(RUN_BYTES / options.pieceLength)) * options.pieceLength;
  }

  /** Payload bytes received from web seeds (verified or not). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Bytes per second from web seeds, lately. */
  rate(now = Date.now()): number {
    return this.#rate.rate(now);
  }

  stats(): ReturnType<WebSeedPool['stats']> {
    return this.#o.pool.stats();
  }

  /** Gives every mirror with a free slot a piece to fetch (call after progress and each tick). */
  pump(): void {
    if (this.#abort.signal.aborted) return;
    for (;;) {
      if (!this.#o.active()) return;
      const seed = this.#o.pool.pick();
      if (!seed || !this.#fetchOne(seed)) return;
    }
  }

  /** A piece that failed its hash check: a mirror among its senders is charged for it. */
  pieceFailed(contributors: readonly string[]): void {
    for (const seed of this.#o.pool.seeds) {
      if (!contributors.includes(webSeedId(seed))) continue;
      seed.reportBadPiece();
      this.#reportDropped(seed, 'its pieces fail their hash check');
    }
  }

  stop(): void {
    this.#abort.abort();
    for (const [timer, fail] of this.#waiting) {
      clearTimeout(timer);
      fail(new Error('stopped'));
    }
    this.#waiting.clear();
    this.#o.pool.close();
  }

  /** Starts one request to `seed`; false when the picker has nothing for it. */
  #fetchOne(seed: WebSeed): boolean {
    const picker = this.#o.picker;
    const id = webSeedId(seed);
    const maxPieces = this.#maxRunPieces();
    const inFlight = this.#inFlight.get(seed) ?? 0;
    // A short run costs a request as much as a full one: beyond two requests going,
    // wait for buffers for a whole run (pump() runs again as each piece is verified).
    // Two may be short: with peers downloading too, buffers are rarely all free, and
    // a mirror held to one request at a time gets a small share (seen: 26% of the
    // bytes beside two libtorrent seeders, against 40% with two and 60% before runs).
    if (inFlight > 1 && this.#o.freeBuffers() < maxPieces) return false;
    // One run at a time waits for the download limit: more would only hold buffers.
    if (this.#waiting.size > 0) return false;
    const next = this.#next.get(seed);
    const first = (next !== undefined && this.#pickPiece(id, next)) || this.#pickAny(id);
    if (!first) return false;
    // Longer while the next piece is wanted whole and the run ends on a piece boundary.
    const run = [first];
    while (run.length < maxPieces) {
      const last = run[run.length - 1]!;
      const lastBlock = last.blocks[last.blocks.length - 1]!;
      if (lastBlock.begin + lastBlock.length !== picker.pieceSize(last.index)) break;
      if (last.index + 1 >= picker.pieceCount) break;
      const more = this.#pickPiece(id, last.index + 1);
      if (!more) break;
      if (more.blocks.length !== picker.blockCount(more.index) || more.blocks[0]!.begin !== 0) {
        for (const block of more.blocks) picker.requestCancelled(id, block);
        break;
      }
      run.push(more);
    }
    const last = run[run.length - 1]!;
    this.#next.set(seed, last.index + 1);
    const pieceLength = this.#o.pieceLength;
    const start = first.index * pieceLength + Math.min(...first.blocks.map((b) => b.begin));
    const end = last.index * pieceLength + Math.max(...last.blocks.map((b) => b.begin + b.length));
    const buffer = this.#spare.pop() ?? Buffer.allocUnsafe(this.#bufferSize);
    this.#inFlight.set(seed, inFlight + 1);
    const settled = (): void => {
      this.#inFlight.set(seed, (this.#inFlight.get(seed) ?? 1) - 1);
      this.#spare.push(buffer);
    };
    // Bytes of the run passed to the scheduler so far (whole blocks only).
    let delivered = 0;
    const deliverUpTo = (filled: number): void => {
      if (this.#abort.signal.aborted) return;
      const before = delivered;
      for (;;) {
        const at = start + delivered;
        const index = Math.floor(at / pieceLength);
        const begin = at - index * pieceLength;
        const length = Math.min(BLOCK_SIZE, picker.pieceSize(index) - begin, end - at);
        if (length <= 0 || delivered + length > filled) break;
        // Blocks between ours that others were asked for are delivered too: the
        // picker takes each once and cancels the other requests.
        this.#o.deliver(id, index, begin, buffer.subarray(delivered, delivered + length));
        delivered += length;
      }
      if (delivered === before) return;
      this.#bytes += delivered - before;
      this.#rate.add(delivered - before);
    };
    const fetch = (): Promise<unknown> =>
      seed.fetchSpace(start, end - start, {
        signal: this.#abort.signal,
        target: buffer,
        onProgress: deliverUpTo,
      });
    // Started now unless the limit makes it wait: the mirror counts the request at once.
    const wait = this.#whenPaidFor(end - start);
    (wait ? wait.then(fetch) : fetch()).then(
      () => {
        deliverUpTo(end - start);
        settled();
        this.pump();
      },
      (error: unknown) => {
        settled();
        // What did not arrive goes back to the picker.
        for (const piece of run)
          for (const block of piece.blocks)
            if (piece.index * pieceLength + block.begin >= start + delivered)
              picker.requestCancelled(id, block);
        if (this.#abort.signal.aborted) return;
        // Counted against the mirror already (see webseed/server-health.ts).
        this.#reportDropped(seed, (error as Error).message);
        this.pump();
      },
    );
    return true;
  }

  /** Pieces in one run: a whole run buffer, or about a second of the download limit. */
  #maxRunPieces(): number {
    const pieces = this.#bufferSize / this.#o.pieceLength;
    const limiter = this.#o.limiter;
    if (!limiter || limiter.unlimited) return pieces;
    return Math.max(1, Math.min(pieces, Math.floor(limiter.rate / this.#o.pieceLength)));
  }

  /** Null when `bytes` fit the download limit now, else a wait for them (rejected at stop). */
  #whenPaidFor(bytes: number): Promise<void> | null {
    const delay = this.#o.limiter?.take(bytes, Date.now()) ?? 0;
    if (delay <= 0) return null;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(timer);
        resolve();
      }, delay);
      this.#waiting.set(timer, reject);
    });
  }

  /** Says once that a mirror was dropped for the session, and why. */
  #reportDropped(seed: WebSeed, reason: string): void {
    if (seed.state() !== 'dropped' || this.#dropped.has(seed)) return;
    this.#dropped.add(seed);
    this.#o.warn(`web seed ${seed.url} dropped: ${reason}`);
  }

  /** Blocks of piece `index` for `id`, if the picker gives any. */
  #pickPiece(id: string, index: number): PieceAsked | null {
    const blocks = this.#o.picker.pickBlocks(
      { id, has: (i) => i === index, choked: false, allowedFast: NO_PIECES },
      this.#blocksPerPiece,
      Date.now(),
      Math.max(0, this.#o.freeBuffers()),
    );
    return blocks.length > 0 ? { index, blocks } : null;
  }

  /** Blocks of the piece the picker chooses (the first it offers; the rest go back). */
  #pickAny(id: string): PieceAsked | null {
    const picker = this.#o.picker;
    const blocks = picker.pickBlocks(
      { id, has: () => true, choked: false, allowedFast: NO_PIECES },
      this.#blocksPerPiece,
      Date.now(),
      Math.max(0, this.#o.freeBuffers()),
    );
    if (blocks.length === 0) return null;
    const index = blocks[0]!.index;
    for (const block of blocks) if (block.index !== index) picker.requestCancelled(id, block);
    return { index, blocks: blocks.filter((block) => block.index === index) };
  }
}

const NO_PIECES: ReadonlySet<number> = new Set();
