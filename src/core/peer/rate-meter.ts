/**
 * Bytes per second over a sliding window of one-second buckets: smooth enough
 * for the choker and the progress line, and cheap (a fixed array, no timers).
 * A young meter averages over the time it has existed, not the whole window,
 * so a connection's rate (and so its request pipeline) is right from the
 * first second instead of ramping up over the window.
 */
export class RateMeter {
  readonly #buckets: Float64Array;
  #currentSecond = 0;
  #startedAt: number;
  #total = 0;
  /** Sum of the buckets, kept as they change: rate() is asked for every peer after each piece. */
  #windowSum = 0;

  constructor(windowSeconds = 5, now = Date.now()) {
    this.#buckets = new Float64Array(windowSeconds);
    this.#startedAt = now;
  }

  get total(): number {
    return this.#total;
  }

  add(bytes: number, now = Date.now()): void {
    this.#advance(now);
    this.#buckets[this.#currentSecond % this.#buckets.length] += bytes;
    this.#windowSum += bytes;
    this.#total += bytes;
  }

  /** Average over the completed seconds of the window plus the current one. */
  rate(now = Date.now()): number {
    this.#advance(now);
    const sum = this.#windowSum;
    const elapsedInCurrent = (now % 1000) / 1000;
    const windowSpan = this.#buckets.length - 1 + elapsedInCurrent;
    const lifetime = (now - this.#startedAt) / 1000;
    return sum / Math.max(Math.min(windowSpan, lifetime), 0.05);
  }

  #advance(now: number): void {
    const second = Math.floor(now / 1000);
    if (second === this.#currentSecond) return;
    if (this.#currentSecond === 0) this.#currentSecond = second;
    const steps = Math.min(second - this.#currentSecond, this.#buckets.length);
    for (let i = 1; i <= steps; i++) {
      const slot = (this.#currentSecond + i) % this.#buckets.length;
      this.#windowSum -= this.#buckets[slot]!;
      this.#buckets[slot] = 0;
    }
    if (second > this.#currentSecond) this.#currentSecond = second;
  }
}
