/**
 * The values of the discovery flags (discovery-flags.ts) translated into the
 * engine's discovery choices, and the peer sources they name. Apart from the
 * flag definitions so that a command run without oclif
 * (commands/download.fast.ts) does not load oclif through it.
 */
import { UsageError } from '../core/errors.ts';
import { buildDiscoveries, type DiscoveryChoices } from '../core/discovery/build-discoveries.ts';
import type { PeerDiscovery } from '../core/discovery/discovery.ts';
import type { TrackerDiscoveryEvents } from '../core/discovery/tracker-discovery.ts';
import { parseDhtNode, parseHostPort } from './flag-values.ts';

export interface DiscoveryFlagValues {
  tracker?: string[];
  peer?: string[];
  dht: boolean;
  lsd?: boolean;
  'dht-bootstrap'?: string[];
  'dht-port'?: number;
}

export function discoveryChoices(
  flags: DiscoveryFlagValues,
  torrent: { trackers: string[][]; private: boolean; peers?: { host: string; port: number }[] },
): DiscoveryChoices {
  for (const url of flags.tracker ?? []) {
    if (!/^(https?|udp):\/\/[^/\s]+/i.test(url)) {
      throw new UsageError(`invalid --tracker "${url}": use an http, https or udp URL`);
    }
  }
  const bootstrap = (flags['dht-bootstrap'] ?? []).map((text) => parseDhtNode(text));
  // SHOAL_NO_DHT=1 changes the default; --dht-bootstrap still asks for a DHT, --no-dht always wins.
  const dhtOn = flags.dht && (bootstrap.length > 0 || process.env.SHOAL_NO_DHT !== '1');
  return {
    trackers: mergeTrackerTiers(torrent.trackers, flags.tracker ?? []),
    peers: [
      ...(flags.peer ?? []).map((text) => parseHostPort(text, '--peer')),
      ...(torrent.peers ?? []),
    ],
    dht: dhtOn
      ? { bootstrap: bootstrap.length > 0 ? bootstrap : undefined, port: flags['dht-port'] }
      : false,
    lsd: (flags.lsd ?? true) && process.env.SHOAL_NO_LSD !== '1',
    isPrivate: torrent.private,
  };
}

/** Torrent tiers plus `--tracker` URLs (each its own tier), without duplicates. */
function mergeTrackerTiers(torrentTiers: string[][], extra: string[]): string[][] {
  const seen = new Set(torrentTiers.flat());
  const added = extra.filter((url) => !seen.has(url) && seen.add(url)).map((url) => [url]);
  return [...torrentTiers, ...added];
}

/** The peer sources `choices` name, built for a command whose view counts what they find. */
export function buildSources(
  choices: DiscoveryChoices,
  ui: {
    trackerResponse: TrackerDiscoveryEvents['onResponse'];
    watchSources(sources: readonly PeerDiscovery[], trackers: number): void;
  },
): PeerDiscovery[] {
  const sources = buildDiscoveries(choices, { onResponse: ui.trackerResponse });
  ui.watchSources(sources, choices.trackers.flat().length);
  return sources;
}
