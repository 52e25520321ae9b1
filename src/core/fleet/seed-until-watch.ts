/**
 * Watches a `--seed-until` expression while seeding: checks it every
 * `checkEveryMs` against the seeder's own numbers (given by `sample`) and
 * the trackers' completed count (a ScrapePoller, started only when the
 * expression mentions `completed`), and calls `onMet` once, with the line
 * that says which condition ended seeding. The seed and download commands
 * wire it to their session; nothing here knows about the engine.
 */
import { ScrapePoller, type ScrapePollerOptions } from './scrape-poller.ts';
import {
  describeVerdict,
  evaluateSeedUntil,
  needsScrape,
  type SeedUntil,
  type SeedUntilSnapshot,
  type SeedUntilVerdict,
} from './seed-until.ts';

export interface SeedUntilWatchOptions {
  expr: SeedUntil;
  /** The seeder's own numbers now (idle and elapsed time, ratio). */
  sample: () => Omit<SeedUntilSnapshot, 'completed'>;
  /** Called once, when the expression first holds; `because` reads like `completed>=50 (52 completed)`. */
  onMet: (verdict: SeedUntilVerdict, because: string) => void;
  /** For `completed`: the torrent and its trackers (poller options). */
  scrape?: Omit<ScrapePollerOptions, 'onUpdate'>;
  /** How often the expression is checked. Default 1 s. */
  checkEveryMs?: number;
}

export class SeedUntilWatch {
  readonly #options: SeedUntilWatchOptions;
  readonly #poller: ScrapePoller | null;
  #timer: NodeJS.Timeout | null = null;
  #done = false;

  constructor(options: SeedUntilWatchOptions) {
    this.#options = options;
    this.#poller =
      needsScrape(options.expr) && options.scrape
        ? new ScrapePoller({ ...options.scrape, onUpdate: () => this.check() })
        : null;
  }

  /** The scrape poller, when the expression needs one (to pass on trackers' min intervals). */
  get poller(): ScrapePoller | null {
    return this.#poller;
  }

  start(): void {
    if (this.#timer || this.#done) return;
    this.#poller?.start();
    this.#timer = setInterval(() => this.check(), this.#options.checkEveryMs ?? 1000);
    this.#timer.unref?.();
    this.check();
  }

  /** Evaluates now (also called on each scrape answer); returns whether the expression holds. */
  check(): boolean {
    if (this.#done) return true;
    const snapshot: SeedUntilSnapshot = {
      ...this.#options.sample(),
      completed: this.#poller?.completed,
    };
    const verdict = evaluateSeedUntil(this.#options.expr, snapshot);
    if (!verdict.met) return false;
    this.#done = true;
    this.stop();
    this.#options.onMet(verdict, describeVerdict(verdict, snapshot));
    return true;
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#poller?.stop();
  }
}
