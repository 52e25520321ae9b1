/** Tracker clients: codecs (pure), HTTP/UDP I/O, and the per-torrent announcer. */
export { TrackerError, type TrackerErrorCode } from './errors.ts';
export type {
  AnnounceEvent,
  AnnounceParams,
  AnnounceResponse,
  ScrapeEntry,
  ScrapeResult,
} from './types.ts';
export { parseCompactPeers4, parseCompactPeers6 } from '../net/compact-peers.ts';
export { validatePeer, type PeerAddress } from '../net/peer-address.ts';
export {
  buildAnnounceUrl,
  buildScrapeUrl,
  parseAnnounceResponse as parseHttpAnnounceResponse,
  parseScrapeResponse as parseHttpScrapeResponse,
  percentEncodeBytes,
  scrapeUrlFor,
} from './http-codec.ts';
export * as udpCodec from './udp-codec.ts';
export {
  httpAnnounce,
  httpGet,
  httpScrape,
  defaultHttpTrackerOptions,
  type HttpTrackerOptions,
} from './http-tracker.ts';
export {
  UdpTracker,
  parseUdpTrackerUrl,
  defaultUdpTrackerOptions,
  type UdpTrackerOptions,
  type UdpRequestOptions,
} from './udp-tracker.ts';
export {
  Announcer,
  type AnnouncerEvents,
  type AnnouncerOptions,
  type PeersEvent,
  type ResponseEvent,
  type TrackerErrorEvent,
  type TransferStats,
  type WarningEvent,
} from './announcer.ts';
