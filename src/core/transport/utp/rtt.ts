/**
 * Round-trip time and retransmission timeout, as BEP 29 gives them:
 *
 *   delta = rtt - packet_rtt
 *   rtt_var += (abs(delta) - rtt_var) / 4
 *   rtt += (packet_rtt - rtt) / 8
 *   timeout = max(rtt + rtt_var * 4, 500 ms)
 *
 * and the timeout doubles on each expiry until an ack arrives (Karn: only
 * packets sent once give samples, the caller sees to that).
 */

export const MIN_TIMEOUT_MS = 500;
/** Before the first sample: BEP 29 starts at 1 s. */
export const INITIAL_TIMEOUT_MS = 1000;
/** Backing off further than this only delays noticing that the peer is back. */
export const MAX_TIMEOUT_MS = 30_000;

export class RttEstimator {
  /** Smoothed round-trip time, ms; 0 before the first sample. */
  rtt = 0;
  rttVar = 0;
  #backoff = 1;
  #hasSample = false;

  /** One measured round trip, in ms. */
  addSample(packetRttMs: number): void {
    if (!this.#hasSample) {
      this.#hasSample = true;
      this.rtt = packetRttMs;
      this.rttVar = packetRttMs / 2;
    } else {
      const delta = this.rtt - packetRttMs;
      this.rttVar += (Math.abs(delta) - this.rttVar) / 4;
      this.rtt += (packetRttMs - this.rtt) / 8;
    }
    this.#backoff = 1;
  }

  /** The current retransmission timeout, ms, backoff included. */
  get timeoutMs(): number {
    const base = this.#hasSample
      ? Math.max(this.rtt + this.rttVar * 4, MIN_TIMEOUT_MS)
      : INITIAL_TIMEOUT_MS;
    return Math.min(base * this.#backoff, MAX_TIMEOUT_MS);
  }

  /** The timer expired: wait twice as long next time. */
  backOff(): void {
    if (this.#backoff < 1024) this.#backoff *= 2;
  }

  /** Any ack that makes progress ends the backoff. */
  resetBackoff(): void {
    this.#backoff = 1;
  }
}
