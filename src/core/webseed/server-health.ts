/**
 * Whether a web seed may be asked for data now (pure; time is passed in).
 *
 * Every failure (a request that failed, or a piece from this server that
 * failed its hash) backs the server off exponentially: `baseBackoffMs`,
 * doubled per consecutive failure, capped at `maxBackoffMs`. A 503/429 with
 * `Retry-After` waits at least that long (capped too, so a server cannot
 * park us for a day). `maxFailures` consecutive failures drop the server for
 * the session. A success resets the count.
 *
 * A request that was already under way when the last failure was counted
 * (a server that goes down fails every request in flight at once) adds to
 * the total only: one outage is one step of back-off, not `maxInFlight`.
 */
export interface HealthOptions {
  baseBackoffMs: number;
  maxBackoffMs: number;
  /** Consecutive failures after which the server is dropped for the session. */
  maxFailures: number;
}

export type ServerState = 'ready' | 'backing-off' | 'dropped';

export class ServerHealth {
  readonly #options: HealthOptions;
  #consecutive = 0;
  #total = 0;
  #until = 0;
  #dropped = false;
  #lastFailureAt = -Infinity;

  constructor(options: HealthOptions) {
    this.#options = options;
  }

  state(now: number): ServerState {
    if (this.#dropped) return 'dropped';
    return now < this.#until ? 'backing-off' : 'ready';
  }

  /** Until when (ms since the epoch) the server is left alone; 0 when it is not. */
  get backoffUntil(): number {
    return this.#until;
  }

  get failures(): number {
    return this.#total;
  }

  get consecutiveFailures(): number {
    return this.#consecutive;
  }

  succeeded(): void {
    this.#consecutive = 0;
  }

  /**
   * Counts a failure at `now`; `retryAfterMs` is what the server asked for
   * (503/429); `startedAt`, when the failed request was sent (omitted: a
   * failure on its own, such as a bad piece).
   */
  failed(now: number, retryAfterMs: number | null = null, startedAt = Infinity): void {
    this.#total++;
    if (startedAt <= this.#lastFailureAt) return;
    this.#lastFailureAt = now;
    this.#consecutive++;
    if (this.#consecutive >= this.#options.maxFailures) {
      this.#dropped = true;
      return;
    }
    const exponential = this.#options.baseBackoffMs * 2 ** (this.#consecutive - 1);
    const wait = Math.min(this.#options.maxBackoffMs, Math.max(exponential, retryAfterMs ?? 0));
    this.#until = Math.max(this.#until, now + wait);
  }
}
