/**
 * The web seeds of one torrent, and which one to ask next. The scheduler asks
 * `pick()` for a server with a free slot (least busy first, so load spreads
 * over mirrors), or calls `fetch()`, which tries every usable server in turn
 * until one answers and says which one did (the engine needs it to report a
 * piece that fails its hash).
 */
import { WebSeedError } from './errors.ts';
import type { WebSeedTorrent } from './file-urls.ts';
import { WebSeed, type WebSeedOptions, type WebSeedStats } from './web-seed.ts';

export interface PoolFetch {
  data: Buffer;
  seed: WebSeed;
}

export class WebSeedPool {
  readonly seeds: readonly WebSeed[];

  constructor(seeds: readonly WebSeed[]) {
    this.seeds = seeds;
  }

  /**
   * One WebSeed per distinct URL. URLs that cannot be used (not http(s)) are
   * left out and returned in `refused` with the reason, for the caller to warn.
   */
  static fromUrls(
    urls: readonly string[],
    torrent: WebSeedTorrent,
    options: WebSeedOptions = {},
  ): { pool: WebSeedPool; refused: { url: string; reason: string }[] } {
    const seeds: WebSeed[] = [];
    const refused: { url: string; reason: string }[] = [];
    for (const url of new Set(urls)) {
      try {
        seeds.push(new WebSeed(url, torrent, options));
      } catch (error) {
        refused.push({ url, reason: error instanceof Error ? error.message : String(error) });
      }
    }
    return { pool: new WebSeedPool(seeds), refused };
  }

  /** A server that can take a request now (the least busy), or null. */
  pick(): WebSeed | null {
    return this.#leastBusy((seed) => seed.canServe());
  }

  #leastBusy(eligible: (seed: WebSeed) => boolean): WebSeed | null {
    let best: WebSeed | null = null;
    let bestLoad = Infinity;
    for (const seed of this.seeds) {
      if (!eligible(seed)) continue;
      const { inFlight, queued } = seed.stats();
      if (inFlight + queued < bestLoad) {
        best = seed;
        bestLoad = inFlight + queued;
      }
    }
    return best;
  }

  /** False once every server was dropped (or there never was one). */
  alive(): boolean {
    return this.seeds.some((seed) => seed.state() !== 'dropped');
  }

  /**
   * When the first server now backing off may be asked again (ms since the
   * epoch): now when one is ready, null when all were dropped.
   */
  nextReadyAt(now = Date.now()): number | null {
    let next: number | null = null;
    for (const seed of this.seeds) {
      const state = seed.state();
      if (state === 'ready') return now;
      if (state === 'backing-off') {
        const until = seed.stats().backoffUntil;
        next = next === null ? until : Math.min(next, until);
      }
    }
    return next;
  }

  /**
   * The bytes [begin, begin + length) of piece `pieceIndex` from the first
   * server that delivers them, least busy first. Rejects with WebSeedError
   * 'unusable' when no server could be asked (see nextReadyAt), 'aborted'
   * when the signal fired, else with the last server's failure.
   */
  async fetch(
    pieceIndex: number,
    begin: number,
    length: number,
    signal?: AbortSignal,
  ): Promise<PoolFetch> {
    const tried = new Set<WebSeed>();
    let lastError: WebSeedError | null = null;
    for (;;) {
      // Every server may be busy: then queue on the least busy ready one rather than fail.
      const seed = this.#leastBusy((s) => !tried.has(s) && s.state() === 'ready');
      if (seed === null) {
        throw lastError ?? new WebSeedError('unusable', 'no web seed can be asked now');
      }
      tried.add(seed);
      try {
        return { data: await seed.fetch(pieceIndex, begin, length, signal), seed };
      } catch (error) {
        if (error instanceof WebSeedError && error.code === 'aborted') throw error;
        lastError = error instanceof WebSeedError ? error : lastError;
      }
    }
  }

  stats(): WebSeedStats[] {
    return this.seeds.map((seed) => seed.stats());
  }

  close(): void {
    for (const seed of this.seeds) seed.close();
  }
}
