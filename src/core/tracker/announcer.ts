/**
 * Announces one torrent to all of its trackers.
 *
 * Tiers (BEP 12): each tier is shuffled once; within a tier trackers are
 * tried in order until one answers, and the one that answered moves to the
 * front of its tier. All tiers are announced in parallel rather than only
 * the first tier that works: that is libtorrent's `announce_to_all_tiers`
 * behaviour (what most desktop clients switch on), chosen because a CLI
 * wants as many peers as early as possible.
 *
 * Nothing here throws to the caller after construction: every failure
 * becomes an `error` event for that tracker (emitted only when somebody
 * listens, so an unhandled EventEmitter 'error' cannot crash the process)
 * and the tier retries later with exponential backoff.
 *
 * Peers are passed on as the tracker gave them. opentracker and others hand
 * a peer its own address back; the engine, which knows its own listening
 * address and peer id, skips itself.
 */
import { EventEmitter } from 'node:events';
import { randomInt } from 'node:crypto';
import { TrackerError } from './errors.ts';
import { httpAnnounce, type HttpTrackerOptions } from './http-tracker.ts';
import { dedupePeers } from './peers.ts';
import type { AnnounceEvent, AnnounceResponse, Peer } from './types.ts';
import { UdpTracker, type UdpTrackerOptions } from './udp-tracker.ts';

export interface TransferStats {
  uploaded: number;
  downloaded: number;
  left: number;
}

export interface AnnouncerOptions {
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
  /** Per-request HTTP options (timeout, body cap, redirects). */
  http?: Omit<HttpTrackerOptions, 'signal'>;
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
  /** Random source in [0, 1) for shuffling tiers (tests pass a fixed one). */
  random?: () => number;
}

export interface PeersEvent {
  tracker: string;
  peers: Peer[];
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

interface TrackerState {
  url: string;
  udp: UdpTracker | null;
  sentStarted: boolean;
  /** A `started` is on its way; if stop() cuts it short the tracker may still have counted us. */
  startedInFlight: boolean;
  completedPending: boolean;
  trackerId: Uint8Array | undefined;
}

interface TierState {
  trackers: TrackerState[];
  inFlight: boolean;
  /** Another announce was asked for while one was in flight. */
  pending: boolean;
  timer: NodeJS.Timeout | undefined;
  /** When the timer fires (ms since epoch), or Infinity. */
  timerAt: number;
  /** Earliest time (ms) an announce may be sent, from min interval or backoff. */
  notBefore: number;
  failures: number;
  abort: AbortController | undefined;
}

const SUPPORTED = new Set(['http:', 'https:', 'udp:']);

export class Announcer extends EventEmitter<AnnouncerEvents> {
  readonly #options: AnnouncerOptions;
  readonly #tiers: TierState[] = [];
  readonly #skipped: WarningEvent[] = [];
  readonly #key = randomInt(0, 2 ** 32);
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
    const seen = new Set<string>();
    for (const tier of options.trackers) {
      const trackers: TrackerState[] = [];
      for (const raw of tier) {
        const url = raw.trim();
        if (seen.has(url)) continue;
        seen.add(url);
        const state = this.#makeTracker(url);
        if (state) trackers.push(state);
      }
      if (trackers.length === 0) continue;
      // Fisher-Yates, once (BEP 12); later reordering only promotes responders.
      for (let i = trackers.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [trackers[i], trackers[j]] = [trackers[j]!, trackers[i]!];
      }
      this.#tiers.push({
        trackers,
        inFlight: false,
        pending: false,
        timer: undefined,
        timerAt: Infinity,
        notBefore: 0,
        failures: 0,
        abort: undefined,
      });
    }
  }

  #makeTracker(url: string): TrackerState | null {
    let protocol: string;
    try {
      protocol = new URL(url).protocol;
    } catch {
      this.#skipped.push({ tracker: url, message: `skipping tracker with an invalid URL: ${url}` });
      return null;
    }
    if (!SUPPORTED.has(protocol)) {
      this.#skipped.push({
        tracker: url,
        message: `skipping tracker ${url}: only http, https and udp trackers are supported`,
      });
      return null;
    }
    let udp: UdpTracker | null = null;
    if (protocol === 'udp:') {
      try {
        udp = new UdpTracker(url, this.#options.udp);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        this.#skipped.push({ tracker: url, message: `skipping tracker ${url}: ${reason}` });
        return null;
      }
    }
    return {
      url,
      udp,
      sentStarted: false,
      startedInFlight: false,
      completedPending: false,
      trackerId: undefined,
    };
  }

  /** The usable tracker URLs by tier, in their current order. */
  get tiers(): string[][] {
    return this.#tiers.map((tier) => tier.trackers.map((t) => t.url));
  }

  /** Sends `started` to every tier. Emits a warning for each tracker that was skipped. */
  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    for (const warning of this.#skipped) this.emit('warning', warning);
    if (this.#tiers.length === 0) {
      this.emit('warning', { message: 'no usable trackers' });
      return;
    }
    for (const tier of this.#tiers) this.#launch(tier);
  }

  /**
   * Asks every tier for peers now, for when the engine is short of them.
   * A tier still inside its tracker's min interval (or a failure backoff)
   * announces as soon as that ends instead.
   */
  announceNow(): void {
    if (!this.#started || this.#stopped) return;
    const now = Date.now();
    for (const tier of this.#tiers) {
      if (tier.inFlight) continue;
      if (tier.notBefore <= now) this.#launch(tier);
      else this.#schedule(tier, tier.notBefore - now, true);
    }
  }

  /** The download finished: sends `completed` to trackers that were told `started`, at once. */
  complete(): void {
    if (!this.#started || this.#stopped) return;
    for (const tier of this.#tiers) {
      for (const tracker of tier.trackers) if (tracker.sentStarted) tracker.completedPending = true;
      if (tier.inFlight) tier.pending = true;
      else this.#launch(tier);
    }
  }

  /**
   * Cancels timers and in-flight announces, then sends `stopped` to every
   * tracker that was sent `started`. Resolves within about `stopTimeoutMs`;
   * never rejects.
   */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const tier of this.#tiers) {
      clearTimeout(tier.timer);
      tier.timer = undefined;
      tier.abort?.abort();
    }
    const stopTimeoutMs = this.#options.stopTimeoutMs ?? 3000;
    const deadline = AbortSignal.timeout(stopTimeoutMs);
    const sends: Promise<unknown>[] = [];
    for (const tier of this.#tiers) {
      for (const tracker of tier.trackers) {
        if (!tracker.sentStarted && !tracker.startedInFlight) continue;
        sends.push(
          this.#announceTo(tracker, 'stopped', deadline, stopTimeoutMs).catch(() => undefined),
        );
      }
    }
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, stopTimeoutMs + 100);
    });
    await Promise.race([Promise.allSettled(sends), bound]);
    clearTimeout(timer);
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

  #announceTo(
    tracker: TrackerState,
    event: AnnounceEvent | undefined,
    signal: AbortSignal,
    timeoutMs?: number,
  ): Promise<AnnounceResponse> {
    const params = {
      infoHash: this.#options.infoHash,
      peerId: this.#options.peerId,
      port: this.#options.port,
      ...this.#stats(),
      event,
      numWant: event === 'stopped' ? 0 : (this.#options.numWant ?? 100),
      key: this.#key,
      trackerId: tracker.trackerId,
    };
    if (tracker.udp) {
      const retransmitMs = timeoutMs === undefined ? undefined : [timeoutMs];
      return tracker.udp.announce(params, { signal, retransmitMs });
    }
    const http = { ...this.#options.http, signal };
    if (timeoutMs !== undefined) http.timeoutMs = Math.min(http.timeoutMs ?? timeoutMs, timeoutMs);
    return httpAnnounce(tracker.url, params, http);
  }

  #eventFor(tracker: TrackerState): AnnounceEvent | undefined {
    if (!tracker.sentStarted) return 'started';
    return tracker.completedPending ? 'completed' : undefined;
  }

  #launch(tier: TierState): void {
    this.#runTier(tier).catch((error: unknown) => {
      // Only a throwing event listener gets here; report it rather than leave
      // an unhandled rejection.
      const message = error instanceof Error ? error.message : String(error);
      if (this.listenerCount('warning') > 0 && !this.#stopped) {
        this.emit('warning', { message: `announcer listener failed: ${message}` });
      }
    });
  }

  #schedule(tier: TierState, delayMs: number, onlyIfSooner = false): void {
    if (this.#stopped) return;
    const at = Date.now() + delayMs;
    if (onlyIfSooner && tier.timer && tier.timerAt <= at) return;
    clearTimeout(tier.timer);
    tier.timerAt = at;
    tier.timer = setTimeout(() => {
      tier.timer = undefined;
      tier.timerAt = Infinity;
      this.#launch(tier);
    }, delayMs);
    // Re-announce timers alone must not keep a finished CLI process alive.
    tier.timer.unref();
  }

  #clamp(seconds: number): number {
    const floor = this.#options.intervalFloorSec ?? 30;
    const ceiling = this.#options.intervalCeilingSec ?? 3600;
    return Math.min(Math.max(seconds, floor), Math.max(floor, ceiling));
  }

  async #runTier(tier: TierState): Promise<void> {
    if (tier.inFlight || this.#stopped) return;
    clearTimeout(tier.timer);
    tier.timer = undefined;
    tier.timerAt = Infinity;
    tier.inFlight = true;
    const abort = new AbortController();
    tier.abort = abort;
    let lastError: TrackerError | undefined;
    try {
      // Copy: a success reorders the tier.
      for (const tracker of [...tier.trackers]) {
        const event = this.#eventFor(tracker);
        let response: AnnounceResponse;
        tracker.startedInFlight = event === 'started';
        try {
          response = await this.#announceTo(tracker, event, abort.signal);
        } catch (error) {
          tracker.startedInFlight = false;
          if (this.#stopped) return;
          lastError =
            error instanceof TrackerError
              ? error
              : new TrackerError('network', String(error), { cause: error });
          if (this.listenerCount('error') > 0) {
            this.emit('error', { tracker: tracker.url, error: lastError });
          }
          continue;
        }
        tracker.startedInFlight = false;
        // Record state even when stopping, so stop() still sends `stopped` to it.
        if (event === 'started') tracker.sentStarted = true;
        if (event === 'started' || event === 'completed') tracker.completedPending = false;
        if (response.trackerId) tracker.trackerId = response.trackerId;
        if (this.#stopped) return;

        const index = tier.trackers.indexOf(tracker);
        if (index > 0) {
          tier.trackers.splice(index, 1);
          tier.trackers.unshift(tracker);
        }
        tier.failures = 0;
        const interval = this.#clamp(response.interval ?? this.#options.defaultIntervalSec ?? 1800);
        const minInterval = Math.min(this.#clamp(response.minInterval ?? 0), interval);
        tier.notBefore = Date.now() + minInterval * 1000;
        this.#schedule(tier, interval * 1000);

        const peers = dedupePeers(response.peers);
        this.emit('response', {
          tracker: tracker.url,
          interval,
          minInterval,
          seeders: response.seeders,
          leechers: response.leechers,
          peerCount: peers.length,
        });
        if (response.warning)
          this.emit('warning', { tracker: tracker.url, message: response.warning });
        if (peers.length > 0) this.emit('peers', { tracker: tracker.url, peers });
        return;
      }
      // Every tracker in the tier failed: back off, honouring a BEP 31 `retry in`.
      tier.failures++;
      const base = this.#options.retryBaseSec ?? 15;
      const max = this.#options.retryMaxSec ?? 900;
      let delaySec = Math.min(base * 2 ** Math.min(tier.failures - 1, 20), max);
      if (lastError?.retryInSec !== undefined) delaySec = Math.max(delaySec, lastError.retryInSec);
      tier.notBefore = Date.now() + delaySec * 1000;
      this.#schedule(tier, delaySec * 1000);
    } finally {
      tier.inFlight = false;
      tier.abort = undefined;
      if (tier.pending && !this.#stopped) {
        tier.pending = false;
        // After a failure the backoff stands; a `completed` still waits for it.
        if (tier.notBefore <= Date.now() || tier.trackers.some((t) => t.completedPending)) {
          this.#launch(tier);
        }
      }
    }
  }
}
