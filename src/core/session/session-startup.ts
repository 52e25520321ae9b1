/**
 * The steps of a session's start-up that stand on their own: refusing an
 * output path that is not a folder, deciding whether peers are found while
 * the existing data is checked, refusing to seed incomplete data, and telling
 * the peers that connected during the check what it found.
 * TorrentSession.run() puts them in order.
 */
import { stat } from 'node:fs/promises';
import { DiskError, VerifyError } from '../errors.ts';
import type { Peer } from '../peer/peer.ts';
import type { PiecePicker } from '../swarm/piece-picker.ts';
import type { DownloadScheduler } from './download-scheduler.ts';
import type { SessionOptions } from './session-types.ts';

/** Default for SessionOptions.lateHavesLimit. */
const LATE_HAVES_LIMIT = 32_768;

/** An output path that exists but is not a directory gets one clear error before anything is read. */
export async function checkOutDir(outDir: string): Promise<void> {
  const info = await stat(outDir).catch(() => null);
  if (info && !info.isDirectory()) throw new DiskError(`${outDir} is not a directory`);
}

/**
 * Whether trackers, the DHT and LSD are asked, and peers dialled, while the
 * existing-data check runs: their round trips then overlap it instead of
 * following it (docs/PERFORMANCE.md, "First byte (2026-12-07)"). Nothing is
 * requested before the check says what we have: requests wait for the
 * `downloading` phase. Not for a seeder that must have all its data (it
 * never shows up as a peer without it), nor read-only data, nor a magnet's
 * download, whose sources and connections were started by its metadata
 * fetch and are adopted after the check.
 */
export function peersDuringCheck(options: SessionOptions): boolean {
  return !options.requireComplete && !options.readOnly && (options.handedOff ?? []).length === 0;
}

/** `shoal seed` (requireComplete) serves only data the check found whole. */
export function refuseMissingData(picker: PiecePicker, options: SessionOptions): void {
  if (picker.isComplete() || !options.requireComplete) return;
  const { havePieces, pieceCount } = picker.progress();
  throw new VerifyError(
    `the data in ${options.outDir} is incomplete: ${havePieces} of ${pieceCount} pieces match the torrent`,
  );
}

export interface LateHaves {
  peers: Iterable<Peer>;
  picker: PiecePicker;
  download: DownloadScheduler;
  /** Most pieces told one by one (SessionOptions.lateHavesLimit). */
  limit?: number;
}

/**
 * Peers that connected during the check were told we had nothing: each
 * gets a `have` for every piece the check found, and our interest in it
 * (and so its first requests) follows from what we now lack.
 */
export function tellPeersWhatWeHave({ peers, picker, download, limit }: LateHaves): void {
  const have = picker.progress().havePieces;
  for (const peer of [...peers]) {
    // A have is 9 bytes: past the limit a peer costs more queued haves than it is
    // worth (a resumed million-piece torrent: 9 MB a peer); it is let go and found again.
    if (have > (limit ?? LATE_HAVES_LIMIT)) {
      peer.close('connected during the check; too many pieces to announce one by one');
      continue;
    }
    peer.sendPieces(have, () => picker.bitfield(), true);
    download.updateInterest(peer);
  }
}
