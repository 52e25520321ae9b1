/**
 * What both front ends (HTTP and UDP) share: the whitelist check, numwant
 * limits, the registry and the request counters. No sockets here; the
 * handlers turn requests into calls and answers into bytes.
 */
import { TRACKER_DEFAULTS } from './defaults.ts';
import {
  SwarmRegistry,
  type AnnounceEvent,
  type AnnounceResult,
  type ScrapeCounts,
} from './swarm-registry.ts';

export interface TrackerConfig {
  intervalSec: number;
  /** Null: any info-hash is tracked (--open). */
  whitelist: Set<string> | null;
  maxPeersPerTorrent: number;
  maxPeers: number;
  maxTorrents: number;
}

export interface ServiceAnnounce {
  infoHash: string;
  peerId: string;
  address: string;
  left: number;
  event: AnnounceEvent;
  numWant: number | undefined;
  families: 'v4' | 'v6' | 'both';
}

export type ServiceAnswer =
  ({ ok: true; warning?: string } & AnnounceResult) | { ok: false; reason: string };

/** Counters since start; the stats lines turn them into rates. */
export interface RequestCounters {
  announces: number;
  scrapes: number;
  refused: number;
  malformed: number;
}

export const NOT_WHITELISTED = "info-hash not on this tracker's whitelist";

export class TrackerService {
  readonly config: TrackerConfig;
  readonly registry: SwarmRegistry;
  readonly counters: RequestCounters = { announces: 0, scrapes: 0, refused: 0, malformed: 0 };
  readonly #now: () => number;

  constructor(config: TrackerConfig, now: () => number = Date.now) {
    this.config = config;
    this.#now = now;
    this.registry = new SwarmRegistry({
      maxPeersPerTorrent: config.maxPeersPerTorrent,
      maxPeers: config.maxPeers,
      maxTorrents: config.maxTorrents,
      peerTtlMs: config.intervalSec * 1000 * TRACKER_DEFAULTS.expiryIntervals,
      maxIdleTorrents: config.whitelist?.size ?? TRACKER_DEFAULTS.maxIdleTorrents,
    });
  }

  /** Clients may announce this often; the lower bound is what the tracker enforces in words only. */
  get minIntervalSec(): number {
    return Math.max(1, Math.floor(this.config.intervalSec / 2));
  }

  allowed(infoHash: string): boolean {
    return this.config.whitelist === null || this.config.whitelist.has(infoHash);
  }

  announce(request: ServiceAnnounce): ServiceAnswer {
    this.counters.announces++;
    if (!this.allowed(request.infoHash)) {
      this.counters.refused++;
      return { ok: false, reason: NOT_WHITELISTED };
    }
    const numWant =
      request.numWant === undefined || request.numWant < 0
        ? TRACKER_DEFAULTS.defaultNumWant
        : Math.min(request.numWant, TRACKER_DEFAULTS.maxNumWant);
    const result = this.registry.announce({ ...request, numWant, now: this.#now() });
    // Said so the client knows why it may be missing from others' peer lists.
    const warning =
      result.stored || request.event === 'stopped'
        ? undefined
        : 'tracker is full: you were not added to the swarm';
    return { ok: true, ...result, warning };
  }

  /** Unlisted and unknown torrents scrape as zeros (as opentracker answers). */
  scrape(infoHashes: string[]): ScrapeCounts[] {
    this.counters.scrapes++;
    return infoHashes.map((hash) =>
      this.allowed(hash) ? this.registry.scrape(hash) : { seeders: 0, leechers: 0, completed: 0 },
    );
  }

  expire(): number {
    return this.registry.expire(this.#now());
  }
}
