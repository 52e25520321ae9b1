/**
 * Polls the torrent's trackers with scrapes (BEP 48 over HTTP, BEP 15 over
 * UDP) for the `completed>=N` condition of `--seed-until`: how many
 * downloads of this torrent the fleet has finished.
 *
 * Politeness: one scrape per tracker at a time, never two scrapes of a
 * tracker closer than `intervalMs` or the `min interval` that tracker gave in
 * its announce answers (noteMinInterval), whichever is longer; failures back
 * off (doubling, up to maxBackoffMs); a tracker without scrape support is
 * dropped after one try. Nothing here throws: problems become warnings.
 *
 * `completed` is the highest count any tracker reported: trackers of one
 * torrent count separately and a runner may use several, so a sum would count
 * one download twice, while the highest never overstates.
 */
import { TrackerError } from '../tracker/errors.ts';
import { httpScrape } from '../tracker/http-tracker.ts';
import type { ScrapeEntry } from '../tracker/types.ts';
import { UdpTracker } from '../tracker/udp-tracker.ts';

/** Scrapes one tracker for one info-hash; undefined when the tracker does not know it. */
export type ScrapeFunction = (
  url: string,
  infoHash: Uint8Array,
  signal: AbortSignal,
) => Promise<ScrapeEntry | undefined>;

export interface ScrapePollerOptions {
  infoHash: Uint8Array;
  /** Announce URLs (http, https, udp); others are ignored. */
  trackers: readonly string[];
  /** Least time between two scrapes of one tracker. Default 60 s. */
  intervalMs?: number;
  /** Longest wait after repeated failures. Default 30 minutes. */
  maxBackoffMs?: number;
  /** Bound on one scrape (HTTP timeout; UDP uses its own retransmit schedule). Default 15 s. */
  timeoutMs?: number;
  /** Replaces the network (unit tests). */
  scrape?: ScrapeFunction;
  /** A tracker answered; `completed` is the new highest count. */
  onUpdate?: (completed: number, tracker: string, entry: ScrapeEntry) => void;
  onWarning?: (message: string) => void;
}

interface TrackerPoll {
  url: string;
  /** Milliseconds the tracker asked between announces (its `min interval`), 0 until known. */
  minIntervalMs: number;
  /** The wait after the last failure; 0 after a success. */
  backoffMs: number;
  timer: NodeJS.Timeout | null;
  /** When the pending timer fires (ms since the epoch); 0 without one. */
  dueAt: number;
  /** When the last scrape answered; 0 before any. */
  answeredAt: number;
  running: boolean;
}

/** Least time between two scrapes of one tracker when asked to scrape early (`soon()`). */
const EARLY_GAP_MS = 5_000;

const SCRAPE_SCHEMES = /^(https?|udp):\/\//i;

export class ScrapePoller {
  readonly #options: ScrapePollerOptions;
  readonly #polls: TrackerPoll[];
  readonly #abort = new AbortController();
  /** One client per UDP tracker: it keeps its socket and connection id between scrapes. */
  readonly #udp = new Map<string, UdpTracker>();
  #completed: number | undefined;
  #started = false;

  constructor(options: ScrapePollerOptions) {
    this.#options = options;
    const urls = [...new Set(options.trackers)].filter((url) => SCRAPE_SCHEMES.test(url));
    this.#polls = urls.map((url) => ({
      url,
      minIntervalMs: 0,
      backoffMs: 0,
      timer: null,
      dueAt: 0,
      answeredAt: 0,
      running: false,
    }));
  }

  /** The highest completed count any tracker reported; undefined before the first answer. */
  get completed(): number | undefined {
    return this.#completed;
  }

  /** Trackers still polled (those without scrape support are dropped). */
  get trackers(): string[] {
    return this.#polls.map((poll) => poll.url);
  }

  /** Scrapes every tracker now, then on schedule. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    if (this.#polls.length === 0) this.#warn('no HTTP or UDP tracker to scrape for completed>=');
    for (const poll of this.#polls) this.#schedule(poll, 0);
  }

  /** The tracker's `min interval` from an announce answer (seconds): scrapes keep at least that gap. */
  noteMinInterval(url: string, seconds: number): void {
    const poll = this.#polls.find((candidate) => candidate.url === url);
    if (poll && Number.isFinite(seconds) && seconds > 0) poll.minIntervalMs = seconds * 1000;
  }

  /**
   * Something suggests the count changed (a leecher finished and left):
   * scrape again sooner than the schedule, but never within EARLY_GAP_MS or
   * the tracker's min interval of the last answer, and not while failing.
   */
  soon(): void {
    if (!this.#started || this.#abort.signal.aborted) return;
    const now = Date.now();
    for (const poll of this.#polls) {
      if (poll.running || poll.backoffMs > 0 || !poll.timer) continue;
      const earliest = poll.answeredAt + Math.max(EARLY_GAP_MS, poll.minIntervalMs);
      if (earliest >= poll.dueAt) continue;
      clearTimeout(poll.timer);
      this.#schedule(poll, Math.max(0, earliest - now));
    }
  }

  stop(): void {
    this.#abort.abort();
    for (const client of this.#udp.values()) client.close();
    this.#udp.clear();
    for (const poll of this.#polls) {
      if (poll.timer) clearTimeout(poll.timer);
      poll.timer = null;
    }
  }

  #schedule(poll: TrackerPoll, delayMs: number): void {
    if (this.#abort.signal.aborted) return;
    poll.dueAt = Date.now() + delayMs;
    poll.timer = setTimeout(() => {
      poll.timer = null;
      poll.dueAt = 0;
      void this.#poll(poll);
    }, delayMs);
    poll.timer.unref?.();
  }

  async #poll(poll: TrackerPoll): Promise<void> {
    if (poll.running || this.#abort.signal.aborted) return;
    poll.running = true;
    const interval = Math.max(this.#options.intervalMs ?? 60_000, poll.minIntervalMs);
    try {
      const entry = await this.#scrape(poll.url);
      if (this.#abort.signal.aborted) return;
      poll.backoffMs = 0;
      poll.answeredAt = Date.now();
      const count = entry?.completed ?? 0;
      this.#completed = Math.max(this.#completed ?? 0, count);
      this.#options.onUpdate?.(this.#completed, poll.url, entry ?? emptyEntry);
      this.#schedule(poll, interval);
    } catch (error) {
      if (this.#abort.signal.aborted) return;
      const message = (error as Error).message;
      if (error instanceof TrackerError && error.code === 'bad-url') {
        this.#drop(poll, `scrape: ${message}; not asking it again`);
        return;
      }
      poll.backoffMs = Math.min(
        Math.max(interval, poll.backoffMs * 2),
        Math.max(interval, this.#options.maxBackoffMs ?? 30 * 60_000),
      );
      this.#warn(`scrape ${poll.url}: ${message}`);
      this.#schedule(poll, poll.backoffMs);
    } finally {
      poll.running = false;
    }
  }

  #scrape(url: string): Promise<ScrapeEntry | undefined> {
    const signal = this.#abort.signal;
    if (this.#options.scrape) return this.#options.scrape(url, this.#options.infoHash, signal);
    const hex = Buffer.from(this.#options.infoHash).toString('hex');
    const hashes = [this.#options.infoHash];
    if (/^udp:/i.test(url)) {
      let client = this.#udp.get(url);
      if (!client) this.#udp.set(url, (client = new UdpTracker(url)));
      return client.scrape(hashes, { signal }).then((result) => result.get(hex));
    }
    const timeoutMs = this.#options.timeoutMs ?? 15_000;
    return httpScrape(url, hashes, { signal, timeoutMs }).then((result) => result.get(hex));
  }

  #drop(poll: TrackerPoll, message: string): void {
    this.#polls.splice(this.#polls.indexOf(poll), 1);
    this.#warn(`${poll.url}: ${message}`);
    if (this.#polls.length === 0) {
      this.#warn('no tracker of this torrent answers scrapes: completed>= cannot be known');
    }
  }

  #warn(message: string): void {
    this.#options.onWarning?.(message);
  }
}

const emptyEntry: ScrapeEntry = { seeders: 0, completed: 0, leechers: 0 };
