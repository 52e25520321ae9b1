/**
 * Token bucket for --download-limit / --upload-limit. Pure: time is passed in.
 *
 * `take` reserves the bytes at once and returns how long to wait before sending them,
 * so callers queue behind each other fairly and a transfer larger than the burst still
 * goes through (the bucket runs into debt that later callers wait out).
 */

export interface RateLimiterOptions {
  /** Bytes per second; 0 or undefined means unlimited. */
  readonly rate?: number;
  /** Bucket size in bytes; defaults to one second's worth of the rate. */
  readonly burst?: number;
}

export class RateLimiter {
  #rate = 0;
  #burst = 0;
  #tokens = 0;
  #last: number | undefined;

  constructor(options: RateLimiterOptions = {}) {
    this.setRate(options.rate, options.burst);
  }

  get rate(): number {
    return this.#rate;
  }

  get unlimited(): boolean {
    return this.#rate <= 0;
  }

  /** Changing the rate keeps neither debt nor saved-up tokens beyond the new burst. */
  setRate(rate: number | undefined, burst?: number): void {
    this.#rate = rate !== undefined && Number.isFinite(rate) && rate > 0 ? rate : 0;
    this.#burst = burst !== undefined && burst > 0 ? burst : this.#rate;
    this.#tokens = Math.max(0, Math.min(this.#tokens, this.#burst));
    if (this.#last === undefined) this.#tokens = this.#burst;
  }

  /** Tokens available at `now` (negative while in debt). */
  available(now: number): number {
    if (this.unlimited) return Infinity;
    this.#refill(now);
    return this.#tokens;
  }

  /** Reserves `bytes`; returns the delay in ms before they may be sent (0 = now). */
  take(bytes: number, now: number): number {
    if (this.unlimited) return 0;
    this.#refill(now);
    this.#tokens -= bytes;
    if (this.#tokens >= 0) return 0;
    return Math.ceil((-this.#tokens / this.#rate) * 1000);
  }

  #refill(now: number): void {
    if (this.#last !== undefined && now > this.#last) {
      this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) / 1000) * this.#rate);
    }
    // Time going backwards (a caller's clock glitch) must not mint tokens.
    if (this.#last === undefined || now > this.#last) this.#last = now;
  }
}
