/**
 * The trackers one torrent announces to, from its metainfo's tiers: each URL
 * once, at most MAX_TRACKERS in tier order (the Announcer's header says why),
 * unusable ones reported (the first MAX_SKIP_WARNINGS by name, the rest
 * counted), and each tier shuffled once, as BEP 12 says.
 */
import type { AnnounceTarget } from './announce-request.ts';
import { UdpTracker, type UdpTrackerOptions } from './udp-tracker.ts';
import type { Resolver } from './resolve.ts';

/** Trackers used per torrent; see the Announcer's header comment for why. */
export const MAX_TRACKERS = 64;
/** Warnings about unusable tracker URLs listed one by one; the rest are counted. */
const MAX_SKIP_WARNINGS = 10;

const SUPPORTED = new Set(['http:', 'https:', 'udp:']);

/** One tracker and what the announcer has told it. */
export interface TrackerState extends AnnounceTarget {
  sentStarted: boolean;
  /** A `started` is on its way; if stop() cuts it short the tracker may still have counted us. */
  startedInFlight: boolean;
  completedPending: boolean;
  trackerId: Uint8Array | undefined;
}

export interface TrackerTiers {
  /** Usable trackers by tier; each tier is non-empty. */
  tiers: TrackerState[][];
  /** Why trackers were left out, for warnings (a `tracker` names the one it is about). */
  skipped: { tracker?: string; message: string }[];
}

export function trackerTiers(
  lists: readonly (readonly string[])[],
  options: {
    maxTrackers: number;
    random: () => number;
    resolve?: Resolver;
    udp?: UdpTrackerOptions;
  },
): TrackerTiers {
  const { maxTrackers, random } = options;
  const result: TrackerTiers = { tiers: [], skipped: [] };
  const seen = new Set<string>();
  let used = 0;
  let unusable = 0;
  let ignored = 0;
  for (const tier of lists) {
    const trackers: TrackerState[] = [];
    for (const raw of tier) {
      const url = raw.trim();
      if (seen.has(url)) continue;
      seen.add(url);
      if (used >= maxTrackers) {
        ignored++;
        continue;
      }
      const state = makeTracker(url, options);
      if (typeof state !== 'string') {
        trackers.push(state);
        used++;
      } else if (++unusable <= MAX_SKIP_WARNINGS) {
        result.skipped.push({ tracker: url, message: state });
      }
    }
    if (trackers.length === 0) continue;
    // Fisher-Yates, once (BEP 12); later reordering only promotes responders.
    for (let i = trackers.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [trackers[i], trackers[j]] = [trackers[j]!, trackers[i]!];
    }
    result.tiers.push(trackers);
  }
  if (unusable > MAX_SKIP_WARNINGS) {
    result.skipped.push({
      message: `skipped ${unusable - MAX_SKIP_WARNINGS} more unusable tracker URLs`,
    });
  }
  if (ignored > 0) {
    result.skipped.push({
      message: `using the first ${maxTrackers} trackers; ${ignored} more ignored`,
    });
  }
  return result;
}

/** A tracker for `url`, or why it cannot be used. */
function makeTracker(
  url: string,
  options: { resolve?: Resolver; udp?: UdpTrackerOptions },
): TrackerState | string {
  let protocol: string;
  let host: string;
  try {
    ({ protocol, hostname: host } = new URL(url));
  } catch {
    return `skipping tracker with an invalid URL: ${url}`;
  }
  if (host.startsWith('[')) host = host.slice(1, -1);
  if (!SUPPORTED.has(protocol)) {
    return `skipping tracker ${url}: only http, https and udp trackers are supported`;
  }
  let udp: UdpTracker | null = null;
  if (protocol === 'udp:') {
    try {
      udp = new UdpTracker(url, { resolve: options.resolve, ...options.udp });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return `skipping tracker ${url}: ${reason}`;
    }
  }
  return {
    url,
    host,
    udp,
    sentStarted: false,
    startedInFlight: false,
    completedPending: false,
    trackerId: undefined,
  };
}
