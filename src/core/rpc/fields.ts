/**
 * The `torrent-get` field table: each field a client may ask for, computed
 * from the backend's `RpcTorrent` snapshot. Names and value types follow
 * Transmission 3.00/4.0 (rpc-version 17); fields nobody asks for are still
 * here so that a client written against the spec finds them. A field not in
 * the table is ignored, as Transmission does. Sonarr asks for `fileCount`,
 * not the spec's `file-count`: Transmission 3.00 answers any name it knows
 * internally (with a meaningless 0 for that one); shoal answers the count.
 */
import type { RpcPeer, RpcTorrent } from './backend.ts';
import { TorrentStatus } from './backend.ts';

/** Transmission's eta values when there is no estimate. */
const ETA_NOT_AVAILABLE = -1;
const ETA_UNKNOWN = -2;
/** Transmission's ratio values when nothing was downloaded. */
const RATIO_NOT_AVAILABLE = -1;
const RATIO_INFINITE = -2;
/** A torrent without traffic for this long is stalled (Transmission's queue-stalled-minutes default). */
const STALLED_SECONDS = 30 * 60;

type Field = (t: RpcTorrent, now: number) => unknown;

function percentDone(t: RpcTorrent): number {
  return t.sizeWhenDone > 0 ? (t.sizeWhenDone - t.leftUntilDone) / t.sizeWhenDone : 0;
}

function eta(t: RpcTorrent): number {
  if (t.status !== TorrentStatus.downloading) return ETA_NOT_AVAILABLE;
  if (t.rateDownload <= 0) return ETA_UNKNOWN;
  return Math.ceil(t.leftUntilDone / t.rateDownload);
}

function ratio(t: RpcTorrent): number {
  // Transmission divides by what was downloaded, or else by what was verified (a seed's data).
  const base = t.downloadedEver > 0 ? t.downloadedEver : t.haveValid;
  if (base > 0) return t.uploadedEver / base;
  return t.uploadedEver > 0 ? RATIO_INFINITE : RATIO_NOT_AVAILABLE;
}

function isStalled(t: RpcTorrent, now: number): boolean {
  const active = t.status === TorrentStatus.downloading || t.status === TorrentStatus.seeding;
  return active && t.rateDownload + t.rateUpload === 0 && now - t.activityDate > STALLED_SECONDS;
}

/** Transmission's one-letter peer flags (a subset: the ones shoal knows). */
function flagStr(p: RpcPeer): string {
  let flags = '';
  if (p.rateToClient > 0) flags += 'D';
  else if (p.clientIsInterested) flags += 'd';
  if (p.rateToPeer > 0) flags += 'U';
  else if (p.peerIsInterested) flags += 'u';
  if (!p.clientIsChoked && !p.clientIsInterested) flags += 'K';
  if (!p.peerIsChoked && !p.peerIsInterested) flags += '?';
  if (p.isEncrypted) flags += 'E';
  if (p.isUTP) flags += 'T';
  if (p.source === 'dht') flags += 'H';
  if (p.source === 'pex') flags += 'X';
  if (p.isIncoming) flags += 'I';
  return flags;
}

function peers(t: RpcTorrent): object[] {
  return t.peers.map((p) => ({
    address: p.address,
    clientName: p.clientName,
    clientIsChoked: p.clientIsChoked,
    clientIsInterested: p.clientIsInterested,
    flagStr: flagStr(p),
    isDownloadingFrom: p.rateToClient > 0,
    isEncrypted: p.isEncrypted,
    isIncoming: p.isIncoming,
    isUploadingTo: p.rateToPeer > 0,
    isUTP: p.isUTP,
    peerIsChoked: p.peerIsChoked,
    peerIsInterested: p.peerIsInterested,
    port: p.port,
    progress: p.progress,
    rateToClient: p.rateToClient,
    rateToPeer: p.rateToPeer,
  }));
}

function peersFrom(t: RpcTorrent): Record<string, number> {
  const count = (source: RpcPeer['source']) => t.peers.filter((p) => p.source === source).length;
  return {
    fromCache: count('cache'),
    fromDht: count('dht'),
    fromIncoming: count('incoming'),
    fromLpd: count('lpd'),
    fromLtep: count('ltep'),
    fromPex: count('pex'),
    fromTracker: count('tracker'),
  };
}

function hostOf(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}`;
  } catch {
    return '';
  }
}

/** The site name Transmission shows: the host's registrable part, roughly (`tracker.example.org` → `example`). */
function sitename(url: string): string {
  try {
    const labels = new URL(url).hostname.split('.');
    return labels.length >= 2 ? labels[labels.length - 2] : labels[0];
  } catch {
    return '';
  }
}

function scrapeUrl(announce: string): string {
  // BEP 48: only an announce URL whose last path segment starts with "announce" has a scrape URL.
  const match = /\/announce([^/]*)$/.exec(announce);
  return match ? `${announce.slice(0, match.index)}/scrape${match[1]}` : '';
}

function trackers(t: RpcTorrent): object[] {
  return t.trackers.map((tr, id) => ({
    announce: tr.announce,
    id,
    scrape: scrapeUrl(tr.announce),
    sitename: sitename(tr.announce),
    tier: tr.tier,
  }));
}

function trackerStats(t: RpcTorrent): object[] {
  return t.trackers.map((tr, id) => ({
    announce: tr.announce,
    announceState: 0,
    downloadCount: tr.downloadCount,
    hasAnnounced: tr.lastAnnounceTime > 0,
    hasScraped: false,
    host: hostOf(tr.announce),
    id,
    isBackup: false,
    lastAnnouncePeerCount: tr.lastAnnouncePeerCount,
    lastAnnounceResult: tr.lastAnnounceResult,
    lastAnnounceStartTime: tr.lastAnnounceTime,
    lastAnnounceSucceeded: tr.lastAnnounceSucceeded,
    lastAnnounceTime: tr.lastAnnounceTime,
    lastAnnounceTimedOut: false,
    lastScrapeResult: '',
    lastScrapeStartTime: 0,
    lastScrapeSucceeded: false,
    lastScrapeTime: 0,
    lastScrapeTimedOut: false,
    leecherCount: tr.leecherCount,
    nextAnnounceTime: tr.nextAnnounceTime,
    nextScrapeTime: 0,
    scrape: scrapeUrl(tr.announce),
    scrapeState: 0,
    seederCount: tr.seederCount,
    sitename: sitename(tr.announce),
    tier: tr.tier,
  }));
}

function trackerList(t: RpcTorrent): string {
  const tiers: string[][] = [];
  for (const tr of t.trackers) (tiers[tr.tier] ??= []).push(tr.announce);
  return tiers
    .filter(Boolean)
    .map((tier) => tier.join('\n'))
    .join('\n\n');
}

export const TORRENT_FIELDS: Readonly<Record<string, Field>> = {
  activityDate: (t) => t.activityDate,
  addedDate: (t) => t.addedDate,
  availability: (t) => Array.from({ length: t.pieceCount }, (_, i) => (hasPiece(t, i) ? -1 : 0)),
  bandwidthPriority: (t) => t.bandwidthPriority,
  comment: (t) => t.comment,
  corruptEver: (t) => t.corruptEver,
  creator: (t) => t.creator,
  dateCreated: (t) => t.dateCreated,
  desiredAvailable: (t) => (t.peers.length > 0 ? t.leftUntilDone : 0),
  doneDate: (t) => t.doneDate,
  downloadDir: (t) => t.downloadDir,
  downloadedEver: (t) => t.downloadedEver,
  downloadLimit: (t) => t.downloadLimit,
  downloadLimited: (t) => t.downloadLimited,
  editDate: () => 0,
  error: (t) => t.error,
  errorString: (t) => t.errorString,
  eta: (t) => eta(t),
  etaIdle: () => ETA_NOT_AVAILABLE,
  'file-count': (t) => t.files.length,
  fileCount: (t) => t.files.length,
  files: (t) =>
    t.files.map((f) => ({ bytesCompleted: f.bytesCompleted, length: f.length, name: f.name })),
  fileStats: (t) =>
    t.files.map((f) => ({
      bytesCompleted: f.bytesCompleted,
      priority: f.priority,
      wanted: f.wanted,
    })),
  group: () => '',
  hashString: (t) => t.hashString,
  haveUnchecked: (t) => t.haveUnchecked,
  haveValid: (t) => t.haveValid,
  honorsSessionLimits: (t) => t.honorsSessionLimits,
  id: (t) => t.id,
  // shoal stops a torrent at its seed limits only through the daemon's queue; the backend says so by status.
  isFinished: (t) => t.status === TorrentStatus.stopped && t.hasMetadata && t.leftUntilDone === 0,
  isPrivate: (t) => t.isPrivate,
  isStalled: (t, now) => isStalled(t, now),
  labels: (t) => t.labels,
  leftUntilDone: (t) => t.leftUntilDone,
  magnetLink: (t) => t.magnetLink,
  manualAnnounceTime: () => -1,
  maxConnectedPeers: (t) => t.peerLimit,
  metadataPercentComplete: (t) => t.metadataPercentComplete,
  name: (t) => t.name,
  'peer-limit': (t) => t.peerLimit,
  peers: (t) => peers(t),
  peersConnected: (t) => t.peers.length,
  peersFrom: (t) => peersFrom(t),
  peersGettingFromUs: (t) => t.peers.filter((p) => p.rateToPeer > 0).length,
  peersSendingToUs: (t) => t.peers.filter((p) => p.rateToClient > 0).length,
  percentComplete: (t) => (t.totalSize > 0 ? t.haveValid / t.totalSize : 0),
  percentDone: (t) => percentDone(t),
  pieces: (t) => (t.hasMetadata ? Buffer.from(t.pieces).toString('base64') : ''),
  pieceCount: (t) => t.pieceCount,
  pieceSize: (t) => t.pieceSize,
  priorities: (t) => t.files.map((f) => f.priority),
  'primary-mime-type': () => 'application/octet-stream',
  queuePosition: (t) => t.queuePosition,
  rateDownload: (t) => t.rateDownload,
  rateUpload: (t) => t.rateUpload,
  recheckProgress: (t) => t.recheckProgress,
  secondsDownloading: (t) => t.secondsDownloading,
  secondsSeeding: (t) => t.secondsSeeding,
  seedIdleLimit: (t) => t.seedIdleLimit,
  seedIdleMode: (t) => t.seedIdleMode,
  seedRatioLimit: (t) => t.seedRatioLimit,
  seedRatioMode: (t) => t.seedRatioMode,
  sizeWhenDone: (t) => t.sizeWhenDone,
  startDate: (t) => t.startDate,
  status: (t) => t.status,
  torrentFile: (t) => t.torrentFile,
  totalSize: (t) => t.totalSize,
  trackerList: (t) => trackerList(t),
  trackers: (t) => trackers(t),
  trackerStats: (t) => trackerStats(t),
  uploadedEver: (t) => t.uploadedEver,
  uploadLimit: (t) => t.uploadLimit,
  uploadLimited: (t) => t.uploadLimited,
  uploadRatio: (t) => ratio(t),
  // Transmission sends `wanted` as 0/1 numbers, not booleans (fileStats.wanted is a boolean).
  wanted: (t) => t.files.map((f) => (f.wanted ? 1 : 0)),
  webseeds: (t) => t.webseeds,
  webseedsSendingToUs: () => 0,
};

function hasPiece(t: RpcTorrent, index: number): boolean {
  return ((t.pieces[index >> 3] ?? 0) & (0x80 >> (index & 7))) !== 0;
}

/** The known fields among `requested`, each once, in the order asked. */
export function knownFields(requested: unknown[]): string[] {
  const seen = new Set<string>();
  for (const name of requested) {
    if (typeof name === 'string' && Object.hasOwn(TORRENT_FIELDS, name)) seen.add(name);
  }
  return [...seen];
}

/** `torrent-get`'s `torrents`: objects (the default) or a table whose first row holds the keys. */
export function renderTorrents(
  torrents: RpcTorrent[],
  fields: string[],
  format: 'objects' | 'table',
  now: number,
): unknown[] {
  const row = (t: RpcTorrent) => fields.map((name) => TORRENT_FIELDS[name](t, now));
  if (format === 'table') return [fields, ...torrents.map(row)];
  return torrents.map((t) => {
    const values = row(t);
    return Object.fromEntries(fields.map((name, i) => [name, values[i]]));
  });
}
