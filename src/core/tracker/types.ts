/** Shapes shared by the HTTP and UDP tracker codecs and clients. */

import type { PeerAddress } from '../net/peer-address.ts';

/** BEP 3 announce events; `undefined` is the regular re-announce. */
export type AnnounceEvent = 'started' | 'completed' | 'stopped';

export interface AnnounceParams {
  /** 20-byte v1 info-hash (or a v2 info-hash truncated to 20 bytes, BEP 52). */
  infoHash: Uint8Array;
  /** 20-byte peer id. */
  peerId: Uint8Array;
  port: number;
  uploaded: number;
  downloaded: number;
  left: number;
  event?: AnnounceEvent;
  /** Peers wanted; omitted means the tracker default (UDP sends -1). */
  numWant?: number;
  /** Random 32-bit value identifying this client across IP changes. */
  key?: number;
  /** The `tracker id` a previous HTTP response asked to be sent back. */
  trackerId?: Uint8Array;
  /**
   * BEP 7 `ipv6=`: our IPv6 address, told to an HTTP tracker we reach over
   * IPv4 only, so it can hand it to IPv6 peers. UDP has no field for it.
   */
  ipv6?: string;
}

export interface AnnounceResponse {
  /** Seconds until the next regular announce, when the tracker said. */
  interval: number | undefined;
  /** Seconds the tracker asks clients not to announce more often than. */
  minInterval: number | undefined;
  /** Seeders (`complete` / UDP seeders). */
  seeders: number | undefined;
  /** Leechers (`incomplete` / UDP leechers). */
  leechers: number | undefined;
  /** `warning message`: the announce worked but the tracker has something to say. */
  warning: string | undefined;
  /** HTTP `tracker id` to send back on later announces. */
  trackerId: Uint8Array | undefined;
  /** Valid peers, IPv4 then IPv6, in tracker order, duplicates removed. */
  peers: PeerAddress[];
}

export interface ScrapeEntry {
  seeders: number;
  /** Number of completed downloads the tracker has seen. */
  completed: number;
  leechers: number;
}

/** Scrape results keyed by lower-case hex info-hash. */
export type ScrapeResult = Map<string, ScrapeEntry>;
