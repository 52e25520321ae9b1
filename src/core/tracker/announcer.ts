/**
 * Announces one torrent to its trackers, in BEP 12 order.
 *
 * Order: every announce walks the tiers from the first. Within a tier the
 * trackers are tried one after another (shuffled once, as BEP 12 says); the
 * walk moves to the next tier only when every tracker of this one failed,
 * and stops at the first tracker that answers, which moves to the front of
 * its tier. This is libtorrent's default (`announce_to_all_tiers` and
 * `announce_to_all_trackers` off), and what a torrent's author cannot abuse:
 *
 * - One announce is in flight at a time per torrent (plus, at shutdown, the
 *   `stopped` messages, at most MAX_CONCURRENT_STOPS at once, to trackers
 *   that were told `started`). Announcing every tier at once let a torrent
 *   with 25 000 UDP tiers open 20 000 sockets and send traffic to 25 000
 *   hosts of its author's choosing.
 * - At most MAX_TRACKERS trackers per torrent are used (the rest are
 *   ignored with one warning): more than real torrents list (pasted lists of
 *   public trackers reach a few dozen), few enough that a walk over dead ones
 *   is bounded (about 15 s each) and that the hosts one torrent makes shoal
 *   contact stay a small, fixed number.
 *
 * Nothing here throws to the caller after construction: every failure
 * becomes an `error` event for that tracker (emitted only when somebody
 * listens, so an unhandled EventEmitter 'error' cannot crash the process)
 * and, when every tracker failed, the walk is retried later with
 * exponential backoff.
 *
 * Address families: a tracker whose host has IPv4 and IPv6 addresses gets
 * each announce over both at once (announce-request.ts).
 *
 * Peers are passed on as the tracker gave them. opentracker and others hand
 * a peer its own address back; the engine, which knows its own listening
 * address and peer id, skips itself.
 */
import type { PeerAddress } from '../net/peer-address.ts';
import { EventEmitter } from 'node:events';
import { randomInt } from 'node:crypto';
import { TrackerError } from './errors.ts';
import { dedupePeers } from '../net/compact-peers.ts';
import type { AnnounceEvent, AnnounceParams, AnnounceResponse } from './types.ts';
import type { UdpTrackerOptions } from './udp-tracker.ts';
import { MAX_TRACKERS, trackerTiers, type TrackerState } from './tracker-tiers.ts';
import { announceRequest, type AnnounceRequestOptions } from './announce-request.ts';

export interface TransferStats {
  uploaded: number;
  downloaded: number;
  left: number;
}

/** `http`, `resolve`, `ownIpv6` and `familyGraceMs`: see AnnounceRequestOptions. */
export interface AnnouncerOptions extends AnnounceRequestOptions {
  /** 20-byte info-hash. */
  infoHash: Uint8Array;
  /** 20-byte peer id. */
  peerId: Uint8Array;
  /** Our listening port. */
  port: number;
  /** Tiers of announce URLs (metainfo `announce-list`, or [[announce]]). */
  trackers: readonly (readonly string[])[];
  /** Called before every announce. */
  stats: () => TransferStats;
  /** Peers asked for per announce. Default 100. */
  numWant?: number;
  /** UDP retransmit schedule and connection-id lifetime. */
  udp?: UdpTrackerOptions;
  /** Re-announce interval when a tracker gives none, seconds. Default 1800. */
  defaultIntervalSec?: number;
  /** Lower bound on any tracker's interval and min interval, seconds. Default 30. */
  intervalFloorSec?: number;
  /** Upper bound on a tracker's interval, seconds. Default 3600. */
  intervalCeilingSec?: number;
  /** First retry delay after a whole tier failed, seconds; doubles per failure. Default 15. */
  retryBaseSec?: number;
  /** Longest retry delay, seconds. Default 900. */
  retryMaxSec?: number;
  /** Bound on the whole `stop()` (the stopped announces), milliseconds. Default 3000. */
  stopTimeoutMs?: number;
  /** Random source in [0, 1) for shuffling tiers and spreading re-announces (tests pass a fixed one). */
  random?: () => number;
  /** Most trackers used (in tier order); the rest are ignored. Default MAX_TRACKERS. */
  maxTrackers?: number;
}

/** Re-announces come up to this share of the interval early (see reannounceDelayMs). */
const ANNOUNCE_JITTER = 0.1;

/**
 * When to announce again after an answer: the interval, up to a tenth sooner
 * at random (never before the min interval). Torrents added together (a
 * daemon's, a fleet's) would otherwise re-announce in the same second, every
 * round, for good.
 */
export function reannounceDelayMs(
  intervalSec: number,
  minIntervalSec: number,
  random: () => number,
): number {
  const jittered = intervalSec * (1 - ANNOUNCE_JITTER * random());
  return Math.max(minIntervalSec, jittered) * 1000;
}

export { MAX_TRACKERS } from './tracker-tiers.ts';
/** `stopped` announces sent at once at shutdown. */
export const MAX_CONCURRENT_STOPS = 4;

export interface PeersEvent {
  tracker: string;
  peers: PeerAddress[];
}

export interface ResponseEvent {
  tracker: string;
  /** The interval in use (after clamping), seconds. */
  interval: number;
  /** The min interval in use, seconds. */
  minInterval: number;
  seeders: number | undefined;
  leechers: number | undefined;
  peerCount: number;
}

export interface WarningEvent {
  /** Absent when the warning is not about one tracker's response. */
  tracker?: string;
  message: string;
}

export interface TrackerErrorEvent {
  tracker: string;
  error: TrackerError;
}

export interface AnnouncerEvents {
  peers: [PeersEvent];
  response: [ResponseEvent];
  warning: [WarningEvent];
  error: [TrackerErrorEvent];
}

/** The one walk over the tiers (at most one runs at a time) and when the next may start. */
interface WalkState {
  inFlight: boolean;
  /** Another announce was asked for while one was in flight. */
  pending: boolean;
  timer: NodeJS.Timeout | undefined;
  /** When the timer fires (ms since epoch), or Infinity. */
  timerAt: number;
  /** Earliest time (ms) an announce may be sent, from min interval or backoff. */
  notBefore: number;
  /** Walks in a row in which no tracker answered. */
  failures: number;
  /** announceChange() asked for a walk that has not started yet. */
  changePending: boolean;
  abort: AbortController | undefined;
}

export class Announcer extends EventEmitter<AnnouncerEvents> {
  readonly #options: AnnouncerOptions;
  /** Usable trackers by tier; each tier is non-empty. */
  readonly #tiers: TrackerState[][];
  readonly #skipped: WarningEvent[];
  readonly #walk: WalkState = {
    inFlight: false,
    pending: false,
    timer: undefined,
    timerAt: Infinity,
    notBefore: 0,
    failures: 0,
    changePending: false,
    abort: undefined,
  };
  readonly #key = randomInt(0, 2 ** 32);
  readonly #random: () => number;
  #lastStats: TransferStats = { uploaded: 0, downloaded: 0, left: 0 };
  #started = false;
  #stopped = false;

  /**
   * Throws RangeError only for caller bugs (wrong-sized info-hash or peer id);
   * unusable tracker URLs become `warning` events at start().
   */
  constructor(options: AnnouncerOptions) {
    super();
    if (options.infoHash.length !== 20) throw new RangeError('infoHash must be 20 bytes');
    if (options.peerId.length !== 20) throw new RangeError('peerId must be 20 bytes');
    this.#options = options;
    const random = options.random ?? Math.random;
    this.#random = random;
    const { tiers, skipped } = trackerTiers(options.trackers, {
      maxTrackers: options.maxTrackers ?? MAX_TRACKERS,
      random,
      resolve: options.resolve,
      udp: options.udp,
    });
    this.#tiers = tiers;
    this.#skipped = skipped;
  }

  /** The usable tracker URLs by tier, in their current order. */
  get tiers(): string[][] {
    return this.#tiers.map((tier) => tier.map((t) => t.url));
  }

  /** Starts the first walk (`started`). Emits a warning for each tracker that was skipped. */
  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    for (const warning of this.#skipped) this.emit('warning', warning);
    if (this.#tiers.length === 0) {
      this.emit('warning', { message: 'no usable trackers' });
      return;
    }
    this.#launch();
  }

  /**
   * Asks for peers now, for when the engine is short of them. Inside the
   * answering tracker's min interval (or a failure backoff) the announce
   * waits until that ends instead.
   */
  announceNow(): void {
    if (!this.#started || this.#stopped || this.#tiers.length === 0) return;
    const walk = this.#walk;
    if (walk.inFlight) return;
    const now = Date.now();
    if (walk.notBefore <= now) this.#launch();
    else this.#schedule(walk.notBefore - now, true);
  }

  /** The download finished: sends `completed` to trackers that were told `started`, at once. */
  complete(): void {
    if (!this.#started || this.#stopped || this.#tiers.length === 0) return;
    for (const tracker of this.#tiers.flat()) {
      if (tracker.sentStarted) tracker.completedPending = true;
    }
    if (this.#walk.inFlight) this.#walk.pending = true;
    else this.#launch();
  }

  /**
   * What we have changed a lot since the last announce (the existing-data
   * check found every piece after `started` went out with `left` > 0): tells
   * the trackers at once instead of at the next regular announce, as a
   * seeder that just started would, with no event (BEP 3 sends `completed`
   * only for a download that completes). Like `completed`, it goes out
   * inside a min interval or backoff: it is one announce, not a loop.
   */
  announceChange(): void {
    if (!this.#started || this.#stopped || this.#tiers.length === 0) return;
    const walk = this.#walk;
    walk.changePending = true;
    if (walk.inFlight) walk.pending = true;
    else this.#launch();
  }

  /**
   * Cancels the timer and the announce in flight, then sends `stopped` to
   * every tracker that was sent `started` (MAX_CONCURRENT_STOPS at a time),
   * after the `completed` it still owes.
   * Resolves within about `stopTimeoutMs`; never rejects.
   */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#walk.timer);
    this.#walk.timer = undefined;
    this.#walk.abort?.abort();
    const stopTimeoutMs = this.#options.stopTimeoutMs ?? 3000;
    const deadline = AbortSignal.timeout(stopTimeoutMs);
    const told = this.#tiers.flat().filter((t) => t.sentStarted || t.startedInFlight);
    const sender = async () => {
      for (let tracker = told.shift(); tracker; tracker = told.shift()) {
        if (deadline.aborted) return;
        // A download that ends as soon as it completes still counts as a completion (trackers
        // count `completed` for their scrape), so the cancelled announce goes out first.
        if (tracker.completedPending)
          await this.#announceTo(tracker, 'completed', deadline, stopTimeoutMs).catch(() => {});
        await this.#announceTo(tracker, 'stopped', deadline, stopTimeoutMs).catch(() => undefined);
      }
    };
    const senders = Array.from({ length: MAX_CONCURRENT_STOPS }, sender);
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, stopTimeoutMs + 100);
    });
    await Promise.race([Promise.allSettled(senders), bound]);
    clearTimeout(timer);
    // UDP trackers keep their socket while its connection id is fresh; nothing will use it now.
    for (const tracker of this.#tiers.flat()) tracker.udp?.close();
  }

  #stats(): TransferStats {
    try {
      const s = this.#options.stats();
      this.#lastStats = { uploaded: s.uploaded, downloaded: s.downloaded, left: s.left };
    } catch {
      // A failing stats callback must not stop announcing; the last good values stand.
    }
    return this.#lastStats;
  }

  /** One announce to one tracker (over both address families if its host has both). */
  async #announceTo(
    tracker: TrackerState,
    event: AnnounceEvent | undefined,
    signal: AbortSignal,
    timeoutMs?: number,
  ): Promise<AnnounceResponse> {
    const params: AnnounceParams = {
      infoHash: this.#options.infoHash,
      peerId: this.#options.peerId,
      port: this.#options.port,
      ...this.#stats(),
      event,
      numWant: event === 'stopped' ? 0 : (this.#options.numWant ?? 100),
      key: this.#key,
      trackerId: tracker.trackerId,
    };
    return announceRequest(tracker, params, this.#options, {
      signal,
      timeoutMs,
      late: (response) => this.#latePeers(tracker, response),
    });
  }

  /** The slower family answered after the announce was reported: its peers still count. */
  #latePeers(tracker: TrackerState, response: AnnounceResponse): void {
    const peers = dedupePeers(response.peers);
    if (!this.#stopped && peers.length > 0) this.emit('peers', { tracker: tracker.url, peers });
  }

  #eventFor(tracker: TrackerState): AnnounceEvent | undefined {
    if (!tracker.sentStarted) return 'started';
    return tracker.completedPending ? 'completed' : undefined;
  }

  #launch(): void {
    this.#runWalk().catch((error: unknown) => {
      // Only a throwing event listener gets here; report it rather than leave
      // an unhandled rejection.
      const message = error instanceof Error ? error.message : String(error);
      if (this.listenerCount('warning') > 0 && !this.#stopped) {
        this.emit('warning', { message: `announcer listener failed: ${message}` });
      }
    });
  }

  #schedule(delayMs: number, onlyIfSooner = false): void {
    if (this.#stopped) return;
    const walk = this.#walk;
    const at = Date.now() + delayMs;
    if (onlyIfSooner && walk.timer && walk.timerAt <= at) return;
    clearTimeout(walk.timer);
    walk.timerAt = at;
    walk.timer = setTimeout(() => {
      walk.timer = undefined;
      walk.timerAt = Infinity;
      this.#launch();
    }, delayMs);
    // Re-announce timers alone must not keep a finished CLI process alive.
    walk.timer.unref();
  }

  #clamp(seconds: number): number {
    const floor = this.#options.intervalFloorSec ?? 30;
    const ceiling = this.#options.intervalCeilingSec ?? 3600;
    return Math.min(Math.max(seconds, floor), Math.max(floor, ceiling));
  }

  /** Announces to one tracker; returns its response, or the error (already reported). */
  async #tryTracker(
    tracker: TrackerState,
    signal: AbortSignal,
  ): Promise<AnnounceResponse | TrackerError> {
    const event = this.#eventFor(tracker);
    tracker.startedInFlight = event === 'started';
    let response: AnnounceResponse;
    try {
      response = await this.#announceTo(tracker, event, signal);
    } catch (error) {
      tracker.startedInFlight = false;
      const failure =
        error instanceof TrackerError
          ? error
          : new TrackerError('network', String(error), { cause: error });
      if (!this.#stopped && this.listenerCount('error') > 0) {
        this.emit('error', { tracker: tracker.url, error: failure });
      }
      return failure;
    }
    tracker.startedInFlight = false;
    // Record state even when stopping, so stop() still sends `stopped` to it.
    if (event === 'started') tracker.sentStarted = true;
    if (event === 'started' || event === 'completed') tracker.completedPending = false;
    if (response.trackerId) tracker.trackerId = response.trackerId;
    return response;
  }

  /** One BEP 12 walk: tiers in order, trackers in order, until one answers. */
  async #runWalk(): Promise<void> {
    const walk = this.#walk;
    if (walk.inFlight || this.#stopped) return;
    clearTimeout(walk.timer);
    walk.timer = undefined;
    walk.timerAt = Infinity;
    walk.inFlight = true;
    // This walk reads the stats as they are now: the change is in it.
    walk.changePending = false;
    const abort = new AbortController();
    walk.abort = abort;
    let lastError: TrackerError | undefined;
    try {
      for (const tier of this.#tiers) {
        // Copy: a success reorders the tier.
        for (const tracker of [...tier]) {
          const outcome = await this.#tryTracker(tracker, abort.signal);
          if (this.#stopped) return;
          if (outcome instanceof TrackerError) {
            lastError = outcome;
            continue;
          }
          tier.splice(tier.indexOf(tracker), 1);
          tier.unshift(tracker);
          this.#answered(tracker, outcome);
          return;
        }
      }
      // Every tracker failed: back off, honouring a BEP 31 `retry in`.
      walk.failures++;
      const base = this.#options.retryBaseSec ?? 15;
      const max = this.#options.retryMaxSec ?? 900;
      let delaySec = Math.min(base * 2 ** Math.min(walk.failures - 1, 20), max);
      if (lastError?.retryInSec !== undefined) delaySec = Math.max(delaySec, lastError.retryInSec);
      walk.notBefore = Date.now() + delaySec * 1000;
      this.#schedule(delaySec * 1000);
    } finally {
      walk.inFlight = false;
      walk.abort = undefined;
      if (walk.pending && !this.#stopped) {
        walk.pending = false;
        // After a failure the backoff stands; a `completed` or a change does not wait for it.
        const completing = this.#tiers.some((tier) => tier.some((t) => t.completedPending));
        if (walk.notBefore <= Date.now() || completing || walk.changePending) this.#launch();
      }
    }
  }

  /** A tracker answered: schedule the next announce by its interval and pass its peers on. */
  #answered(tracker: TrackerState, response: AnnounceResponse): void {
    const walk = this.#walk;
    walk.failures = 0;
    const interval = this.#clamp(response.interval ?? this.#options.defaultIntervalSec ?? 1800);
    const minInterval = Math.min(this.#clamp(response.minInterval ?? 0), interval);
    walk.notBefore = Date.now() + minInterval * 1000;
    this.#schedule(reannounceDelayMs(interval, minInterval, this.#random));

    const peers = dedupePeers(response.peers);
    this.emit('response', {
      tracker: tracker.url,
      interval,
      minInterval,
      seeders: response.seeders,
      leechers: response.leechers,
      peerCount: peers.length,
    });
    if (response.warning) this.emit('warning', { tracker: tracker.url, message: response.warning });
    if (peers.length > 0) this.emit('peers', { tracker: tracker.url, peers });
  }
}
