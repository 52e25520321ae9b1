/**
 * One RPC script, two daemons: the real `shoal daemon` and transmission-daemon
 * 3.00 each get the same calls on the same pre-placed data (it ignores 127.x
 * peers, so nothing is downloaded): session-get (every field), torrent-add,
 * torrent-get with the fields clients ask for (once verified and seeding),
 * torrent-set, torrent-get of what was set, torrent-remove, torrent-get of
 * the empty list. The answers must match in shape: the same keys, each value
 * of the same JSON type, at every depth. The differences known and accepted
 * are listed below and in docs/RPC.md; anything else fails the test.
 */
import { copyFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { RpcClient } from '../../src/core/rpc/client.ts';
import { trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs, tempDir } from '../helpers/files.ts';
import {
  requireTransmissionRpcTools,
  startTransmissionDaemon,
} from '../helpers/transmission-daemon.ts';
import { daemonFolders, dataWithTorrent, startDaemon } from '../core/daemon/daemon-fixtures.ts';

requireTransmissionRpcTools();
trackProcesses();
cleanupTempDirs();
vi.setConfig({ testTimeout: 180_000, hookTimeout: 60_000 });

const SEEDING = 6;

/** The torrent-get fields of transmission-remote, tremc, stig, Flood and Sonarr/Radarr. */
const TORRENT_FIELDS = [
  'id',
  'name',
  'hashString',
  'status',
  'error',
  'errorString',
  'eta',
  'totalSize',
  'sizeWhenDone',
  'leftUntilDone',
  'percentDone',
  'haveValid',
  'haveUnchecked',
  'rateDownload',
  'rateUpload',
  'uploadRatio',
  'uploadedEver',
  'downloadedEver',
  'downloadDir',
  'addedDate',
  'doneDate',
  'activityDate',
  'isFinished',
  'isStalled',
  'isPrivate',
  'queuePosition',
  'peersConnected',
  'peersGettingFromUs',
  'peersSendingToUs',
  'peersFrom',
  'peers',
  'files',
  'fileStats',
  'priorities',
  'wanted',
  'pieces',
  'pieceCount',
  'pieceSize',
  'trackers',
  'trackerStats',
  'labels',
  'magnetLink',
  'webseeds',
  'webseedsSendingToUs',
  'comment',
  'creator',
  'dateCreated',
  'downloadLimit',
  'downloadLimited',
  'uploadLimit',
  'uploadLimited',
  'seedRatioLimit',
  'seedRatioMode',
  'seedIdleLimit',
  'seedIdleMode',
  'honorsSessionLimits',
  'bandwidthPriority',
  'peer-limit',
  'recheckProgress',
  'metadataPercentComplete',
  'secondsDownloading',
  'secondsSeeding',
  'startDate',
  'corruptEver',
  'desiredAvailable',
  'torrentFile',
];

/**
 * Where the shapes may differ, as `call: path` (see docs/RPC.md, "Differences
 * from transmission-daemon"). Keys of rpc-version 17 (Transmission 4.0) that
 * 3.00 lacks are shoal's additions; the others are settings shoal does not
 * have, left out rather than answered with made-up values.
 */
const KNOWN_DIFFERENCES = new Set<string>([
  // rpc-version 17 (Transmission 4.0) additions.
  'session-get.rpc-version-semver',
  'torrent-get.torrents[].trackers[].sitename',
  'torrent-get.torrents[].trackerStats[].sitename',
  // No disk cache setting: the kernel's page cache is the cache.
  'session-get.cache-size-mb',
]);

/** The JSON type of every value, keys sorted; lists by the shape of their first element. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.length === 0 ? ['empty list'] : [shape(value[0])];
  if (value === null) return 'null';
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : 1,
    );
    return Object.fromEntries(entries.map(([key, v]) => [key, shape(v)]));
  }
  return typeof value;
}

/** Paths where two shapes differ: `path: ours ≠ theirs` (missing keys say `absent`). */
function differences(ours: unknown, theirs: unknown, at: string): string[] {
  const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (Array.isArray(ours) && Array.isArray(theirs)) {
    return differences(ours[0], theirs[0], `${at}[]`);
  }
  if (isObject(ours) && isObject(theirs)) {
    const a = ours as Record<string, unknown>;
    const b = theirs as Record<string, unknown>;
    return [...new Set([...Object.keys(a), ...Object.keys(b)])].sort().flatMap((key) => {
      const here = `${at}.${key}`;
      if (!(key in a)) return [`${here}: absent ≠ ${JSON.stringify(b[key])}`];
      if (!(key in b)) return [`${here}: ${JSON.stringify(a[key])} ≠ absent`];
      return differences(a[key], b[key], here);
    });
  }
  return JSON.stringify(ours) === JSON.stringify(theirs)
    ? []
    : [`${at}: ${JSON.stringify(ours)} ≠ ${JSON.stringify(theirs)}`];
}

async function until<T>(what: string, probe: () => Promise<T | null>): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

/** The script both daemons run; every answer is kept under its step's name. */
async function script(rpc: RpcClient, metainfo: string): Promise<Record<string, unknown>> {
  const answers: Record<string, unknown> = {};
  answers['session-get'] = await rpc.call('session-get');
  const added = (await rpc.call('torrent-add', { metainfo })) as {
    'torrent-added': { id: number };
  };
  answers['torrent-add'] = added;
  const id = added['torrent-added'].id;
  await until('verified and seeding', async () => {
    const { torrents } = (await rpc.call('torrent-get', {
      ids: [id],
      fields: ['status', 'percentDone'],
    })) as { torrents: { status: number; percentDone: number }[] };
    return torrents[0]?.status === SEEDING && torrents[0].percentDone === 1 ? true : null;
  });
  answers['torrent-get'] = await rpc.call('torrent-get', { ids: [id], fields: TORRENT_FIELDS });
  answers['torrent-set'] = await rpc.call('torrent-set', {
    ids: [id],
    uploadLimit: 70,
    uploadLimited: true,
    seedRatioLimit: 1.5,
    seedRatioMode: 1,
    labels: ['shape'],
  });
  answers['torrent-get after set'] = await rpc.call('torrent-get', {
    ids: [id],
    fields: ['uploadLimit', 'uploadLimited', 'seedRatioLimit', 'seedRatioMode', 'labels'],
  });
  answers['torrent-remove'] = await rpc.call('torrent-remove', {
    ids: [id],
    'delete-local-data': false,
  });
  answers['torrent-get after remove'] = await rpc.call('torrent-get', { fields: ['id'] });
  return answers;
}

describe('shoal daemon and transmission-daemon answer one script in the same shape', () => {
  it('session-get, torrent-add, torrent-get, torrent-set, torrent-remove', async () => {
    const source = tempDir('shoal-shape-src-');
    const { data, torrent } = await dataWithTorrent(source, 'same.bin', 400_000);
    const metainfo = (await readFile(torrent)).toString('base64');
    const folders = daemonFolders();
    const theirDir = tempDir('shoal-shape-tr-');
    await copyFile(data, path.join(folders.downloadDir, 'same.bin'));
    await copyFile(data, path.join(theirDir, 'same.bin'));

    const transmission = await startTransmissionDaemon({ downloadDir: theirDir });
    const shoal = await startDaemon(folders);
    const theirs = await script(new RpcClient(transmission.url), metainfo);
    const ours = await script(shoal.rpc, metainfo);

    // Both did what was asked: the values that must agree, agree.
    expect(ours['torrent-get after set']).toEqual(theirs['torrent-get after set']);
    expect(ours['torrent-get after remove']).toEqual({ torrents: [] });
    expect(theirs['torrent-get after remove']).toEqual({ torrents: [] });

    const unexpected = Object.keys(theirs).flatMap((step) =>
      differences(shape(ours[step]), shape(theirs[step]), step).filter(
        (line) => !KNOWN_DIFFERENCES.has(line.slice(0, line.indexOf(': '))),
      ),
    );
    expect(unexpected, 'shoal ≠ transmission-daemon (ours ≠ theirs)').toEqual([]);

    shoal.proc.kill('SIGTERM');
    expect((await shoal.proc.wait(60_000)).code, shoal.proc.describe()).toBe(0);
    transmission.proc.kill();
  });
});
