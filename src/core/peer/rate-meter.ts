/**
 * Bytes per second over a sliding window of one-second buckets: smooth enough
 * for the choker and the progress line, and cheap (a fixed array, no timers).
 */
export class RateMeter {
  readonly #buckets: Float64Array;
  #currentSecond = 0;
  #total = 0;

  constructor(windowSeconds = 5) {
    this.#buckets = new Float64Array(windowSeconds);
  }

  get total(): number {
    return this.#total;
  }

  add(bytes: number, now = Date.now()): void {
    this.#advance(now);
    this.#buckets[this.#currentSecond % this.#buckets.length] += bytes;
    this.#total += bytes;
  }

  /** Average over the completed seconds of the window plus the current one. */
  rate(now = Date.now()): number {
    this.#advance(now);
    let sum = 0;
    for (const bytes of this.#buckets) sum += bytes;
    const elapsedInCurrent = (now % 1000) / 1000;
    return sum / (this.#buckets.length - 1 + Math.max(elapsedInCurrent, 0.001));
  }

  #advance(now: number): void {
    const second = Math.floor(now / 1000);
    if (this.#currentSecond === 0) this.#currentSecond = second;
    const steps = Math.min(second - this.#currentSecond, this.#buckets.length);
    for (let i = 1; i <= steps; i++)
      this.#buckets[(this.#currentSecond + i) % this.#buckets.length] = 0;
    if (second > this.#currentSecond) this.#currentSecond = second;
  }
}
