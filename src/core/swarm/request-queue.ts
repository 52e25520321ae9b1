/**
 * Per-peer request pipelining maths, after libtorrent: how many requests to keep
 * outstanding, when a request has timed out, and when a peer is snubbing us. Pure.
 */

import { BLOCK_SIZE } from './piece-picker.ts';

export interface QueueDepthOptions {
  /** Payload bytes per second currently received from the peer. */
  readonly rate: number;
  /** Seconds of data to keep in flight (libtorrent request_queue_time: 3). */
  readonly queueTimeSeconds?: number;
  readonly blockSize?: number;
  /** Floor while the rate is still unknown or low (libtorrent: 2; 4 hides latency better). */
  readonly min?: number;
  /** Ceiling (libtorrent max_out_request_queue: 500). */
  readonly max?: number;
  /** The peer's `reqq` from its extension handshake: it drops requests beyond this. */
  readonly peerReqq?: number;
  /** A snubbing peer gets one request at a time, as in libtorrent. */
  readonly snubbed?: boolean;
}

/** Desired number of outstanding block requests to this peer. */
export function desiredQueueDepth(options: QueueDepthOptions): number {
  if (options.snubbed === true) return 1;
  const blockSize = options.blockSize ?? BLOCK_SIZE;
  const min = options.min ?? 4;
  let max = options.max ?? 500;
  if (options.peerReqq !== undefined && options.peerReqq > 0) {
    max = Math.min(max, options.peerReqq);
  }
  const rate = Number.isFinite(options.rate) && options.rate > 0 ? options.rate : 0;
  const wanted = Math.ceil((rate * (options.queueTimeSeconds ?? 3)) / blockSize);
  return Math.max(1, Math.min(max, Math.max(min, wanted)));
}

export interface TimeoutOptions {
  /** Used before any round trip has been measured (libtorrent request_timeout: 60 s). */
  readonly maxMs?: number;
  readonly minMs?: number;
}

/**
 * Running mean and mean deviation of request round trips (request sent -> block in),
 * like libtorrent's sliding average, giving an adaptive per-request timeout.
 */
export class RoundTripEstimator {
  #samples = 0;
  #mean = 0;
  #deviation = 0;

  get samples(): number {
    return this.#samples;
  }

  get meanMs(): number {
    return this.#mean;
  }

  get deviationMs(): number {
    return this.#deviation;
  }

  add(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    // The first samples weigh more so the estimate settles fast; later ones 1/8 (as TCP's RTT).
    const weight = 1 / Math.min(this.#samples + 1, 8);
    if (this.#samples === 0) {
      this.#mean = ms;
    } else {
      this.#deviation += (Math.abs(ms - this.#mean) - this.#deviation) * weight;
      this.#mean += (ms - this.#mean) * weight;
    }
    this.#samples++;
  }

  /**
   * Timeout for a request: maxMs with no data, mean + 20% with one sample, else
   * mean + 4 deviations; clamped to [minMs, maxMs / 2] once measured, because a peer
   * whose blocks take that long is better treated as slow than waited for.
   */
  timeoutMs(options: TimeoutOptions = {}): number {
    const maxMs = options.maxMs ?? 60_000;
    const minMs = options.minMs ?? 2_000;
    if (this.#samples === 0) return maxMs;
    const raw = this.#samples === 1 ? this.#mean * 1.2 : this.#mean + 4 * this.#deviation;
    return Math.max(minMs, Math.min(maxMs / 2, Math.ceil(raw)));
  }
}

export interface SnubInput {
  /** The peer unchoked us at this time; undefined while it chokes us. */
  readonly unchokedAt: number | undefined;
  /** Last block received from it, if any. */
  readonly lastBlockAt: number | undefined;
  /** We have requests outstanding to it (an idle peer is not snubbing us). */
  readonly outstanding: number;
  readonly now: number;
  /** libtorrent snub_timeout: 60 s. */
  readonly snubMs?: number;
}

/** The peer has us unchoked and our requests pending, yet sent nothing for snubMs. */
export function isSnubbed(input: SnubInput): boolean {
  if (input.unchokedAt === undefined || input.outstanding <= 0) return false;
  const since = Math.max(input.unchokedAt, input.lastBlockAt ?? -Infinity);
  return input.now - since >= (input.snubMs ?? 60_000);
}
