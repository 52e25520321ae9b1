/**
 * A managed torrent as the RPC layer sees it (`RpcTorrent`): Transmission's
 * status codes, sizes counted over wanted files, per-file progress from the
 * verified pieces. Pure: reads the torrent, changes nothing.
 */
import { toMagnet } from '../metainfo/index.ts';
import type { Metainfo } from '../metainfo/types.ts';
import { TorrentStatus, type RpcFile, type RpcPeer, type RpcTorrent } from '../rpc/backend.ts';
import type { Activity, ManagedTorrent } from './managed-torrent.ts';

export function toRpcTorrent(
  torrent: ManagedTorrent,
  context: { torrentFile: string },
): RpcTorrent {
  const { record, meta } = torrent;
  const stats = torrent.stats();
  const files = meta ? fileProgress(meta, torrent.have, new Set(record.unwanted), record) : [];
  const wantedSize = files.filter((f) => f.wanted).reduce((sum, f) => sum + f.length, 0);
  const wantedDone = files.filter((f) => f.wanted).reduce((sum, f) => sum + f.bytesCompleted, 0);
  const haveValid = files.reduce((sum, f) => sum + f.bytesCompleted, 0);
  const activity = torrent.activity;
  return {
    id: record.id,
    hashString: record.hash,
    name: meta?.name ?? record.name,
    status: statusOf(activity, torrent.needsData),
    error: record.errorString ? 3 : 0,
    errorString: record.errorString,
    downloadDir: record.downloadDir,
    hasMetadata: meta !== null,
    metadataPercentComplete: meta ? 1 : 0,
    totalSize: meta?.totalSize ?? 0,
    pieceCount: meta?.pieceCount ?? 0,
    pieceSize: meta?.pieceLength ?? 0,
    pieces: torrent.have,
    haveValid,
    haveUnchecked: 0,
    sizeWhenDone: wantedSize,
    leftUntilDone: Math.max(0, wantedSize - wantedDone),
    files,
    isPrivate: meta?.private ?? false,
    comment: meta?.comment ?? '',
    creator: meta?.createdBy ?? '',
    dateCreated: meta?.creationDate ? Math.floor(meta.creationDate.getTime() / 1000) : 0,
    addedDate: record.addedDate,
    startDate: torrent.startDate,
    doneDate: record.doneDate,
    activityDate: torrent.activityDate,
    downloadedEver: torrent.downloadedEver,
    uploadedEver: torrent.uploadedEver,
    corruptEver: 0,
    rateDownload: Math.round(stats?.downloadRate ?? 0),
    rateUpload: Math.round(stats?.uploadRate ?? 0),
    recheckProgress: torrent.checkFraction,
    secondsDownloading: torrent.secondsDownloading,
    secondsSeeding: torrent.secondsSeeding,
    queuePosition: record.queuePosition,
    peers: torrent.peers().map(toRpcPeer),
    trackers: (record.trackerList ?? meta?.trackers ?? []).flatMap((tier, t) =>
      tier.map((announce) => ({
        announce,
        tier: t,
        lastAnnounceTime: 0,
        lastAnnounceSucceeded: false,
        lastAnnounceResult: '',
        lastAnnouncePeerCount: 0,
        nextAnnounceTime: 0,
        seederCount: -1,
        leecherCount: -1,
        downloadCount: -1,
      })),
    ),
    webseeds: meta?.webSeeds ?? [],
    labels: record.labels,
    magnetLink: meta ? toMagnet(meta) : (record.magnet ?? ''),
    torrentFile: context.torrentFile,
    downloadLimit: Math.round(record.downloadLimit / 1000),
    downloadLimited: record.downloadLimited,
    uploadLimit: Math.round(record.uploadLimit / 1000),
    uploadLimited: record.uploadLimited,
    honorsSessionLimits: record.honorsSessionLimits,
    bandwidthPriority: record.bandwidthPriority,
    peerLimit: record.peerLimit,
    seedRatioLimit: record.seedRatioLimit,
    seedRatioMode: record.seedRatioMode,
    seedIdleLimit: record.seedIdleLimit,
    seedIdleMode: record.seedIdleMode,
  };
}

function statusOf(activity: Activity, needsData: boolean): RpcTorrent['status'] {
  switch (activity) {
    case 'queued':
      return needsData ? TorrentStatus.downloadWait : TorrentStatus.seedWait;
    case 'checking':
      return TorrentStatus.checking;
    case 'metadata':
    case 'downloading':
      return TorrentStatus.downloading;
    case 'seeding':
      return TorrentStatus.seeding;
    default:
      return TorrentStatus.stopped;
  }
}

/** Each non-padding file with the bytes of it inside verified pieces. */
function fileProgress(
  meta: Metainfo,
  have: Uint8Array,
  unwanted: ReadonlySet<number>,
  record: { priorities: Record<string, -1 | 0 | 1> },
): RpcFile[] {
  const hasPiece = (index: number) => (have[index >> 3] & (0x80 >> (index & 7))) !== 0;
  const out: RpcFile[] = [];
  meta.files.forEach((file, index) => {
    if (file.padding) return;
    let completed = 0;
    if (file.length > 0) {
      const first = Math.floor(file.offset / meta.pieceLength);
      const last = Math.floor((file.offset + file.length - 1) / meta.pieceLength);
      for (let piece = first; piece <= last; piece++) {
        if (!hasPiece(piece)) continue;
        const start = Math.max(file.offset, piece * meta.pieceLength);
        const end = Math.min(file.offset + file.length, (piece + 1) * meta.pieceLength);
        completed += end - start;
      }
    }
    out.push({
      name: file.path.join('/'),
      length: file.length,
      bytesCompleted: completed,
      wanted: !unwanted.has(index),
      priority: record.priorities[index] ?? 0,
    });
  });
  return out;
}

function toRpcPeer(peer: {
  key: string;
  client: string;
  downloadRate: number;
  uploadRate: number;
  choked: boolean;
  interested: boolean;
}): RpcPeer {
  const colon = peer.key.lastIndexOf(':');
  const host = peer.key.slice(0, colon).replace(/^\[|\]$/g, '');
  return {
    address: host,
    port: Number(peer.key.slice(colon + 1)) || 0,
    clientName: peer.client,
    isEncrypted: false,
    isIncoming: false,
    isUTP: false,
    clientIsChoked: peer.choked,
    clientIsInterested: peer.interested,
    peerIsChoked: true,
    peerIsInterested: false,
    progress: 0,
    rateToClient: Math.round(peer.downloadRate),
    rateToPeer: Math.round(peer.uploadRate),
    source: 'tracker',
  };
}
