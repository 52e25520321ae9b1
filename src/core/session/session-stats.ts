/**
 * What a session reports about itself, read from its parts: the totals and
 * rates renderers show every tick (SessionStats), one row per connected
 * peer (PeerInfo), and the wanted bytes trackers and seed goals are told.
 */
import type { PiecePicker } from '../swarm/piece-picker.ts';
import type { DownloadScheduler } from './download-scheduler.ts';
import type { PeerPool } from './peer-pool.ts';
import type { PeerInfo, SessionPhase, SessionStats } from './session-types.ts';
import type { Uploader } from './uploader.ts';
import type { WebSeedSource } from './web-seed-source.ts';

export interface StatsSources {
  picker: PiecePicker;
  pool: PeerPool;
  download: DownloadScheduler;
  upload: Uploader;
  webSeeds: WebSeedSource | null;
  phase: SessionPhase;
  startedAt: number;
}

export function sessionStats(sources: StatsSources, now: number): SessionStats {
  const { picker, pool, download, upload, webSeeds } = sources;
  const progress = picker.progress();
  let downloadRate = 0;
  let uploadRate = 0;
  for (const peer of pool.peers.values()) {
    downloadRate += peer.conn.downloaded.rate(now);
    uploadRate += peer.conn.uploaded.rate(now);
  }
  downloadRate += webSeeds?.rate(now) ?? 0;
  const left = wantedBytesLeft(picker);
  return {
    phase: sources.phase,
    uploaded: upload.uploaded,
    downloaded: download.downloaded,
    left,
    totalWanted: progress.wantedBytes,
    haveWanted: progress.wantedBytes - left,
    downloadRate,
    uploadRate,
    peers: pool.peers.size,
    knownPeers: pool.knownPeers,
    piecesVerified: progress.haveWantedPieces,
    piecesWanted: progress.wantedPieces,
    elapsedMs: now - sources.startedAt,
  };
}

export function peerInfo(pool: PeerPool, download: DownloadScheduler, now: number): PeerInfo[] {
  return [...pool.peers.values()].map((peer) => ({
    key: peer.key,
    client: peer.client,
    downloadRate: peer.conn.downloaded.rate(now),
    uploadRate: peer.conn.uploaded.rate(now),
    choked: peer.peerChoking,
    interested: peer.amInterested,
    snubbed: download.isSnubbed(peer, now),
    outstanding: peer.outstanding.size,
  }));
}

/** Bytes of the selected files still missing (what trackers are told is `left`). */
export function wantedBytesLeft(picker: PiecePicker): number {
  const progress = picker.progress();
  return progress.wantedBytes - progress.haveWantedBytes;
}
