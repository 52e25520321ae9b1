/**
 * How a session's run ends: once, as a success with a summary or a failure
 * with its error, after everything was shut down. Whichever ending comes
 * first wins (a stall, an interrupt, a seed goal, a bug); the others find
 * the session stopping and do nothing. An ending before `begin()` stops
 * the session but settles nothing.
 */
import type { SessionSummary } from './session-types.ts';

export interface SessionEndingOptions {
  /** Stops every part; the run settles once it is done. */
  shutdown: () => Promise<void>;
  /** The totals a successful run reports. */
  summary: () => Omit<SessionSummary, 'status'>;
}

export class SessionEnding {
  readonly #options: SessionEndingOptions;
  #settle: { resolve: (s: SessionSummary) => void; reject: (e: unknown) => void } | null = null;
  #stopping = false;

  constructor(options: SessionEndingOptions) {
    this.#options = options;
  }

  /** An ending has begun: nothing new may start. */
  get stopping(): boolean {
    return this.#stopping;
  }

  /** The run's result, settled by the first ending from now on. */
  begin(): Promise<SessionSummary> {
    const done = new Promise<SessionSummary>((resolve, reject) => {
      this.#settle = { resolve, reject };
    });
    // A stop can settle `done` while startup is still awaiting (e.g. Ctrl-C during the check
    // of existing data); it is awaited later, but not yet: without this it is an unhandled
    // rejection, which crashes the process with a stack trace instead of exiting 130.
    done.catch(() => {});
    return done;
  }

  async succeed(status: SessionSummary['status']): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    await this.#options.shutdown();
    this.#settle?.resolve({ status, ...this.#options.summary() });
  }

  async fail(error: unknown): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    await this.#options.shutdown();
    this.#settle?.reject(error);
  }
}
