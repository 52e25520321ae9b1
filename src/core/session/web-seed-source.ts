/**
 * Web seeds (BEP 19) as a source of blocks beside the peers. Each free
 * request slot of a mirror takes a piece's worth of blocks from the picker
 * (as a peer that has everything and never chokes), fetches their range in
 * one HTTP request and hands the blocks to the download scheduler, which
 * verifies them like any other. A bad piece counts against the mirror it
 * came from; a failed request gives its blocks back to the picker.
 */
import { RateMeter } from '../peer/rate-meter.ts';
import type { PiecePicker } from '../swarm/piece-picker.ts';
import { BLOCK_SIZE } from '../swarm/piece-picker.ts';
import type { WebSeed } from '../webseed/web-seed.ts';
import type { WebSeedPool } from '../webseed/web-seed-pool.ts';

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
  /** A block arrived from `sourceId`: the scheduler takes it as from a peer. */
  deliver: (sourceId: string, index: number, begin: number, block: Uint8Array) => void;
  warn: (message: string) => void;
}

export class WebSeedSource {
  readonly #o: WebSeedSourceOptions;
  readonly #abort = new AbortController();
  readonly #blocksPerPiece: number;
  #bytes = 0;
  readonly #rate = new RateMeter();
  /** Mirrors already reported as dropped (each once). */
  readonly #dropped = new Set<WebSeed>();

  constructor(options: WebSeedSourceOptions) {
    this.#o = options;
    this.#blocksPerPiece = Math.ceil(options.pieceLength / BLOCK_SIZE);
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
    for (const seed of this.#o.pool.seeds)
      if (contributors.includes(webSeedId(seed))) seed.reportBadPiece();
  }

  stop(): void {
    this.#abort.abort();
    this.#o.pool.close();
  }

  /** Starts one request to `seed`; false when the picker has nothing for it. */
  #fetchOne(seed: WebSeed): boolean {
    const picker = this.#o.picker;
    const id = webSeedId(seed);
    const freeBuffers = this.#o.freeBuffers();
    const blocks = picker.pickBlocks(
      { id, has: () => true, choked: false, allowedFast: NO_PIECES },
      this.#blocksPerPiece,
      Date.now(),
      Math.max(0, freeBuffers),
    );
    if (blocks.length === 0) return false;
    // One request covers one piece: the blocks of the first piece picked; the rest go back.
    const index = blocks[0]!.index;
    const mine = blocks.filter((block) => block.index === index);
    for (const block of blocks) if (block.index !== index) picker.requestCancelled(id, block);
    const begin = Math.min(...mine.map((block) => block.begin));
    const end = Math.max(...mine.map((block) => block.begin + block.length));
    seed.fetch(index, begin, end - begin, this.#abort.signal).then(
      (data) => {
        if (this.#abort.signal.aborted) return;
        this.#bytes += data.length;
        this.#rate.add(data.length);
        // Blocks between ours that others were asked for are delivered too: the picker
        // takes each once and cancels the other requests.
        for (let at = 0; at < data.length; at += BLOCK_SIZE)
          this.#o.deliver(
            id,
            index,
            begin + at,
            data.subarray(at, Math.min(at + BLOCK_SIZE, data.length)),
          );
        this.pump();
      },
      (error: unknown) => {
        for (const block of mine) picker.requestCancelled(id, block);
        if (this.#abort.signal.aborted) return;
        // Counted against the mirror already (see webseed/server-health.ts); say so once it is dropped.
        if (seed.state() === 'dropped' && !this.#dropped.has(seed)) {
          this.#dropped.add(seed);
          this.#o.warn(`web seed ${seed.url} dropped: ${(error as Error).message}`);
        }
        this.pump();
      },
    );
    return true;
  }
}

const NO_PIECES: ReadonlySet<number> = new Set();
