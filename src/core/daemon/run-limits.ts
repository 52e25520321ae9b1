/**
 * The limits one torrent's run gets: its own limit, and the session-wide one
 * divided evenly among the torrents running when it starts (a run keeps its
 * limits; changing them restarts the run, which resumes where it was).
 */
import { sessionLimit, type DaemonSettings } from './settings.ts';
import type { TorrentRecord } from './torrent-record.ts';

export interface RunLimits {
  /** Bytes per second; undefined: none. */
  downloadLimit?: number;
  uploadLimit?: number;
  /** Stop seeding at this ratio; undefined: seed on. */
  seedRatio?: number;
  maxPeers: number;
}

/** A share of a session limit is never cut below this (bytes per second). */
const MIN_SHARE = 1000;

export function runLimits(
  record: TorrentRecord,
  settings: DaemonSettings,
  runningCount: number,
): RunLimits {
  const running = Math.max(1, runningCount);
  const pick = (own: number | undefined, session: number | undefined) => {
    const shared = session === undefined ? undefined : Math.max(MIN_SHARE, session / running);
    if (own === undefined) return shared;
    return shared === undefined ? own : Math.min(own, shared);
  };
  const honors = record.honorsSessionLimits;
  const ratio =
    record.seedRatioMode === 1
      ? record.seedRatioLimit
      : record.seedRatioMode === 0 && settings.seedRatioLimited
        ? settings.seedRatioLimit
        : undefined;
  return {
    downloadLimit: pick(
      record.downloadLimited ? record.downloadLimit : undefined,
      honors ? sessionLimit(settings, 'down') : undefined,
    ),
    uploadLimit: pick(
      record.uploadLimited ? record.uploadLimit : undefined,
      honors ? sessionLimit(settings, 'up') : undefined,
    ),
    seedRatio: ratio,
    maxPeers: Math.max(1, Math.min(record.peerLimit, settings['peer-limit-global'])),
  };
}
