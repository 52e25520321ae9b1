/**
 * How much of its time the calling (main) thread may spend hashing a
 * download's received pieces before they go to the worker pool.
 *
 * Hashing a piece on the main thread is cheaper than handing it to a worker
 * (no hand-over, no thread to wake, and no worker thread at all: ~18 MiB of
 * peak RSS; docs/PERFORMANCE.md, "Download memory (2026-12-07, morning)"),
 * but the main thread also runs every socket. So it hashes only while that
 * stays a minor part of its time: a bucket of milliseconds refilled at
 * `share` of the wall time that passes, at most `burstMs` deep. A download
 * at a few hundred MB/s stays inside it (SHA-1 runs at GB/s); a faster one,
 * or SHA-256 on a CPU without SHA instructions, overflows it, and the
 * overflow is verified on the workers, which start then.
 */
export interface CallingThreadBudgetOptions {
  /** Share of wall time (0-1) the calling thread may spend hashing. */
  share: number;
  /** The most time it may spend at once after an idle spell. */
  burstMs: number;
  now?: () => number;
}

export const DEFAULT_CALLING_THREAD_BUDGET: CallingThreadBudgetOptions = {
  share: 0.5,
  burstMs: 250,
};

export class CallingThreadBudget {
  readonly #share: number;
  readonly #burstMs: number;
  readonly #now: () => number;
  #tokensMs: number;
  #at: number;

  constructor(options: CallingThreadBudgetOptions = DEFAULT_CALLING_THREAD_BUDGET) {
    this.#share = options.share;
    this.#burstMs = options.burstMs;
    this.#now = options.now ?? (() => performance.now());
    this.#tokensMs = options.burstMs;
    this.#at = this.#now();
  }

  /** Whether the calling thread may hash the next task. */
  allows(): boolean {
    const now = this.#now();
    this.#tokensMs = Math.min(this.#burstMs, this.#tokensMs + (now - this.#at) * this.#share);
    this.#at = now;
    return this.#tokensMs > 0;
  }

  /** Runs `work` on the calling thread and counts the time it took. */
  spend<T>(work: () => T): T {
    const started = this.#now();
    try {
      return work();
    } finally {
      this.#tokensMs -= this.#now() - started;
    }
  }
}
