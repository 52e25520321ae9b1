/**
 * LEDBAT congestion control as BEP 29 specifies it: the window grows while
 * the one-way queuing delay is below the 100 ms target and shrinks when it is
 * above, by at most 3000 bytes per round trip:
 *
 *   off_target = CCONTROL_TARGET - our_delay
 *   delay_factor = off_target / CCONTROL_TARGET
 *   window_factor = outstanding_packet / max_window
 *   scaled_gain = MAX_CWND_INCREASE_BYTES_PER_RTT * delay_factor * window_factor
 *   max_window += scaled_gain
 *
 * A lost packet halves the window (the caller reports one loss per window of
 * data); a timeout sets it to one packet. Like libtorrent, it starts in slow
 * start (the window grows by the bytes acked) until the delay nears the
 * target or a packet is lost, and after a timeout slow-starts back up to half
 * the window it had: otherwise a fresh or recovering connection takes many
 * round trips to reach speed at 3000 bytes per round trip.
 *
 * Pure: time is passed in, no timers.
 */
import { DelayHistory } from './delay-history.ts';

export const CCONTROL_TARGET_US = 100_000;
export const MAX_CWND_INCREASE_BYTES_PER_RTT = 3000;

export interface LedbatOptions {
  /** The payload of one full packet: the smallest window. */
  packetSize: number;
  /** Never grow past this many bytes in flight (memory bound). */
  maxWindow: number;
  /** Where the window starts. */
  initialWindow?: number;
}

export class Ledbat {
  /** Bytes allowed in flight. */
  window: number;
  #slowStart = true;
  /** Slow start ends when the window reaches this. */
  #slowStartThreshold: number;
  readonly #packetSize: number;
  readonly #maxWindow: number;
  readonly #delays = new DelayHistory();
  /** The last queuing delay computed, µs (for tests and diagnostics). */
  lastQueuingDelayUs = 0;

  constructor(options: LedbatOptions) {
    this.#packetSize = options.packetSize;
    this.#maxWindow = options.maxWindow;
    this.window = Math.min(options.initialWindow ?? 2 * options.packetSize, options.maxWindow);
    this.#slowStartThreshold = options.maxWindow;
  }

  get inSlowStart(): boolean {
    return this.#slowStart;
  }

  /**
   * Bytes were acknowledged. `delaySample` is the one-way delay the peer
   * reported in the acking packet (timestamp_difference, µs; 0 when it had none),
   * `flightBefore` the bytes that were in flight before the ack.
   */
  onAck(bytesAcked: number, delaySample: number, flightBefore: number, nowMs: number): void {
    if (bytesAcked <= 0) return;
    let queuing = 0;
    if (delaySample !== 0) {
      this.#delays.add(delaySample, nowMs);
      queuing = this.#delays.queuingDelay(delaySample);
    }
    this.lastQueuingDelayUs = queuing;
    // An application that sends less than the window must not inflate it: the
    // window would then be unproven when a burst comes.
    const windowLimited = flightBefore + this.#packetSize >= this.window;
    const offTarget = CCONTROL_TARGET_US - queuing;
    if (this.#slowStart) {
      if (queuing > (CCONTROL_TARGET_US * 9) / 10) this.#slowStart = false;
      else if (windowLimited) {
        this.window = Math.min(this.window + bytesAcked, this.#maxWindow);
        if (this.window >= this.#slowStartThreshold) this.#slowStart = false;
        return;
      }
    }
    const delayFactor = offTarget / CCONTROL_TARGET_US;
    const windowFactor = bytesAcked / this.window;
    const gain = MAX_CWND_INCREASE_BYTES_PER_RTT * delayFactor * windowFactor;
    if (gain > 0 && !windowLimited) return;
    this.window = clamp(this.window + gain, this.#packetSize, this.#maxWindow);
  }

  /** A packet was lost (fast retransmit): halve the window and leave slow start. */
  onLoss(): void {
    this.#slowStart = false;
    this.window = Math.max(this.window / 2, this.#packetSize);
    this.#slowStartThreshold = this.window;
  }

  /** The retransmission timer expired: one packet at a time until acks come back. */
  onTimeout(): void {
    this.#slowStartThreshold = Math.max(this.window / 2, 2 * this.#packetSize);
    this.#slowStart = true;
    this.window = this.#packetSize;
  }
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(Math.max(value, low), high);
}
