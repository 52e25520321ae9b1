/**
 * `shoal download 'magnet:?xs=urn:btpk:KEY&s=SALT'`: an updatable torrent
 * (BEP 46). The DHT item under the publisher's key and salt names the latest
 * version's info-hash; that version is downloaded as a bare info-hash would
 * be. With `--follow` shoal stays, asks the DHT again every
 * `--follow-interval`, and downloads each newer version into the same
 * folder: files that did not change are found complete on disk by the
 * usual check of existing data and are not fetched again. Files a newer
 * version no longer has are left in place (shoal never deletes data).
 */
import type DHT from 'bittorrent-dht';
import { ExitCode, NetworkError, ShoalError, UsageError } from '../core/errors.ts';
import {
  closeDht,
  openUpdatableDht,
  resolveUpdatable,
  type UpdatableVersion,
} from '../core/updatable/mutable-item.ts';
import { UpdatableFollower } from '../core/updatable/follower.ts';
import { parseUpdatableMagnet } from '../core/updatable/updatable-magnet.ts';
import { parseDhtNode } from './flag-values.ts';

export interface UpdatableFlags {
  dht: boolean;
  'dht-bootstrap'?: string[];
  follow: boolean;
  'follow-interval': number;
  timeout?: number;
}

/** Downloads one version (the bare-info-hash magnet); `again` is true from the second version on. */
export type DownloadVersion = (magnet: string, again: boolean) => Promise<void>;

/** How long the first lookup may take when --timeout is not given. */
const DEFAULT_LOOKUP_MS = 60_000;

export async function downloadUpdatable(
  source: string,
  flags: UpdatableFlags,
  downloadVersion: DownloadVersion,
  notify: (line: string) => void,
): Promise<void> {
  if (!flags.dht) {
    throw new UsageError(
      'an updatable magnet link (xs=urn:btpk:) is looked up in the DHT: it cannot be used with --no-dht',
    );
  }
  const { publicKey, salt } = parseUpdatableMagnet(source);
  const bootstrap = (flags['dht-bootstrap'] ?? []).map((text) => parseDhtNode(text));
  const dht = await openUpdatableDht(bootstrap.length > 0 ? { bootstrap } : {});
  try {
    const first = await resolveUpdatable(dht, publicKey, salt, flags.timeout ?? DEFAULT_LOOKUP_MS);
    if (!first) {
      throw new NetworkError(
        'no version of this updatable torrent was found in the DHT (not published, or expired: publish again)',
      );
    }
    notify(`shoal: version ${first.seq} of the updatable torrent is ${hex(first)}`);
    await downloadVersion(magnetOf(first), false);
    if (flags.follow) await follow(dht, { publicKey, salt }, first, flags, downloadVersion, notify);
  } finally {
    await closeDht(dht);
  }
}

/** Waits for newer versions and downloads each, until SIGINT/SIGTERM (then returns: exit 0). */
async function follow(
  dht: DHT,
  key: { publicKey: Buffer; salt: Buffer },
  current: UpdatableVersion,
  flags: UpdatableFlags,
  downloadVersion: DownloadVersion,
  notify: (line: string) => void,
): Promise<void> {
  let latest: UpdatableVersion | null = null;
  let wake: (() => void) | null = null;
  let stopped = false;
  // Reports versions newer than `seq`; made afresh after a failed version, so it is tried again.
  const startFollower = (seq: number) => {
    const made = new UpdatableFollower({
      dht,
      ...key,
      intervalMs: flags['follow-interval'],
      onVersion: (version) => {
        latest = version;
        wake?.();
      },
      onWarning: (message) => notify(`shoal: warning: looking for a new version: ${message}`),
    });
    made.start(seq);
    return made;
  };
  const onSignal = () => {
    stopped = true;
    wake?.();
  };
  let follower = startFollower(current.seq);
  // A signal ends the follow with exit 0 when it arrives while waiting, or in the moments
  // between a download's end and the next wait (no handler there would let it kill the
  // process); during a download, the download's own handler interrupts it as well.
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    for (;;) {
      if (stopped) return;
      notify(`shoal: following: waiting for a version newer than ${current.seq}`);
      await new Promise<void>((resolve) => {
        wake = resolve;
        if (latest || stopped) resolve();
      });
      wake = null;
      if (stopped) return;
      const next: UpdatableVersion = latest!;
      latest = null;
      notify(`shoal: version ${next.seq} of the updatable torrent is ${hex(next)}`);
      try {
        await downloadVersion(magnetOf(next), true);
        current = next;
      } catch (error) {
        // A version nobody serves yet (or that fails to verify) is retried when the next
        // lookup finds it again; what the user must act on (usage, disk) ends the follow.
        if (!isRetryable(error)) throw error;
        notify(`shoal: warning: version ${next.seq} not downloaded: ${(error as Error).message}`);
        follower.stop();
        follower = startFollower(current.seq);
      }
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    follower.stop();
  }
}

function isRetryable(error: unknown): boolean {
  return (
    error instanceof ShoalError &&
    (error.exitCode === ExitCode.network || error.exitCode === ExitCode.verifyFailed)
  );
}

function hex(version: UpdatableVersion): string {
  return Buffer.from(version.infoHash).toString('hex');
}

function magnetOf(version: UpdatableVersion): string {
  return `magnet:?xt=urn:btih:${hex(version)}`;
}
