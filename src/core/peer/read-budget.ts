/**
 * How much peer data the main thread reads in one turn of the event loop.
 *
 * libuv reads a socket up to 32 times in a row while data keeps coming, and
 * each read runs our decoder and copies blocks: on a fast local peer that is
 * 8 MiB (~50-150 ms) of work before the loop looks at anything else. Disk
 * writes, hash results and timers all wait meanwhile; the first verified piece
 * of a download took ~120 ms longer to reach the disk because each step of
 * opening its file waited for such a run. So connections spend from a shared
 * budget, and one that exhausts it pauses until the next turn, when every
 * paused connection resumes and the budget starts again.
 */
export class ReadBudget {
  readonly bytesPerTurn: number;
  #spent = 0;
  #resetScheduled = false;
  readonly #waiting = new Set<() => void>();

  constructor(bytesPerTurn: number) {
    this.bytesPerTurn = bytesPerTurn;
  }

  /** Counts `bytes` just read; true when this turn's budget is used up and the reader should pause. */
  spend(bytes: number): boolean {
    this.#spent += bytes;
    this.#scheduleReset();
    return this.#spent >= this.bytesPerTurn;
  }

  /** Runs `resume` at the start of the next turn (after the pending I/O has been handled). */
  resumeNextTurn(resume: () => void): void {
    this.#waiting.add(resume);
    this.#scheduleReset();
  }

  #scheduleReset(): void {
    if (this.#resetScheduled) return;
    this.#resetScheduled = true;
    // setImmediate runs after the loop's poll phase, where disk and worker completions land.
    setImmediate(() => {
      this.#resetScheduled = false;
      this.#spent = 0;
      const waiting = [...this.#waiting];
      this.#waiting.clear();
      for (const resume of waiting) resume();
    });
  }
}
