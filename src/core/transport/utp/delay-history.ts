/**
 * The base delay of LEDBAT: the lowest one-way delay seen over the last two
 * minutes (BEP 29), kept as one minimum per minute so that a route change
 * is forgotten within two minutes.
 *
 * Delays are differences of two unsynchronised 32-bit microsecond clocks, so
 * only their changes mean anything; comparisons wrap like sequence numbers.
 */

const SLOT_MS = 60_000;
const SLOTS = 2;

/** True when `a` is lower than `b` in wrapping 32-bit arithmetic. */
function wrappingLess(a: number, b: number): boolean {
  const d = (b - a) >>> 0;
  return d !== 0 && d < 0x80000000;
}

export class DelayHistory {
  #minima: number[] = [];
  #slotStartedMs = 0;

  /** Records a delay sample (µs, uint32) taken at `nowMs`. */
  add(sample: number, nowMs: number): void {
    if (this.#minima.length === 0) {
      this.#minima.push(sample);
      this.#slotStartedMs = nowMs;
      return;
    }
    if (nowMs - this.#slotStartedMs >= SLOT_MS) {
      this.#minima.push(sample);
      if (this.#minima.length > SLOTS) this.#minima.shift();
      this.#slotStartedMs = nowMs;
      return;
    }
    const last = this.#minima.length - 1;
    if (wrappingLess(sample, this.#minima[last]!)) this.#minima[last] = sample;
  }

  /** The lowest delay of the window, or undefined before any sample. */
  get base(): number | undefined {
    let base: number | undefined;
    for (const value of this.#minima)
      if (base === undefined || wrappingLess(value, base)) base = value;
    return base;
  }

  /** How far `sample` is above the base delay, µs (0 when below it). */
  queuingDelay(sample: number): number {
    const base = this.base;
    if (base === undefined) return 0;
    const d = (sample - base) >>> 0;
    return d < 0x80000000 ? d : 0;
  }
}
