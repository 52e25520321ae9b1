/**
 * shoal's RPC answers have the shape of transmission-daemon 3.00's for the
 * same calls: the same keys, each value of the same JSON type (nested
 * objects and list elements compared the same way). Clients are written
 * against Transmission's answers; a key missing or a number where they
 * expect a boolean breaks them even when the value is right.
 */
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { RpcClient } from '../../../src/core/rpc/client.ts';
import { trackProcesses } from '../../helpers/cli.ts';
import { cleanupTempDirs } from '../../helpers/files.ts';
import {
  requireTransmissionRpcTools,
  startTransmissionDaemon,
} from '../../helpers/transmission-daemon.ts';
import { type ShoalRpc, startShoalRpc, torrentWithData } from './rpc-fixtures.ts';

requireTransmissionRpcTools();
trackProcesses();
cleanupTempDirs();

let rpc: ShoalRpc | undefined;
afterEach(async () => {
  await rpc?.server.close();
  rpc = undefined;
});

const SESSION_FIELDS = [
  'version',
  'rpc-version',
  'rpc-version-minimum',
  'session-id',
  'units',
  'download-dir',
  'incomplete-dir',
  'peer-port',
  'speed-limit-down',
  'speed-limit-down-enabled',
  'seedRatioLimit',
  'seedRatioLimited',
  'encryption',
  'download-queue-size',
  'dht-enabled',
];

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
  'rateDownload',
  'rateUpload',
  'uploadRatio',
  'downloadDir',
  'addedDate',
  'isFinished',
  'isStalled',
  'isPrivate',
  'queuePosition',
  'peersConnected',
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
  'downloadLimit',
  'downloadLimited',
  'seedRatioLimit',
  'seedRatioMode',
  'honorsSessionLimits',
  'peer-limit',
  // Sonarr's name for the spec's `file-count`: Transmission 3.00 answers it (with 0), shoal with the count.
  'fileCount',
];

/**
 * Keys of rpc-version 17 (Transmission 4.0) that 3.00 does not send; shoal
 * says it speaks 17, and 4.0 clients read them. Left out of the comparison.
 */
const RPC_17_ADDITIONS = new Set(['sitename']);

/** The JSON type of every value, keys sorted; lists by the shape of their first element. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.length === 0 ? ['empty list'] : [shape(value[0])];
  if (value === null) return 'null';
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([key]) => !RPC_17_ADDITIONS.has(key))
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return Object.fromEntries(entries.map(([key, v]) => [key, shape(v)]));
  }
  return typeof value;
}

async function sameCalls(client: RpcClient, metainfo: string) {
  const added = await client.call('torrent-add', { metainfo, paused: true });
  const session = await client.call('session-get', { fields: SESSION_FIELDS });
  const torrents = await client.call('torrent-get', { fields: TORRENT_FIELDS });
  const table = await client.call('torrent-get', {
    fields: ['id', 'name', 'status'],
    format: 'table',
  });
  const stats = await client.call('session-stats');
  return { added, session, torrents, table, stats };
}

describe('shoal RPC answers have the shape of transmission-daemon 3.00', () => {
  it('torrent-add, session-get, torrent-get (objects and table), session-stats', async () => {
    const daemon = await startTransmissionDaemon();
    rpc = await startShoalRpc();
    const { torrent } = await torrentWithData(rpc.root);
    const metainfo = (await readFile(torrent)).toString('base64');

    const theirs = await sameCalls(new RpcClient(daemon.url), metainfo);
    const ours = await sameCalls(
      new RpcClient(`http://127.0.0.1:${rpc.server.port}/transmission/rpc`),
      metainfo,
    );

    // Both saw the same torrent; the comparison is not between two empty lists.
    const [theirTorrent] = theirs.torrents.torrents as Record<string, unknown>[];
    const [ourTorrent] = ours.torrents.torrents as Record<string, unknown>[];
    expect(ourTorrent.hashString).toBe(theirTorrent.hashString);
    expect((ourTorrent.trackerStats as unknown[]).length).toBe(1);
    expect(ourTorrent.fileCount).toBe(1);
    // A name no Transmission knows: 3.00 answers 0 for any name asked; shoal leaves it out, as 4.0 does.
    const unknown = await new RpcClient(
      `http://127.0.0.1:${rpc.server.port}/transmission/rpc`,
    ).call('torrent-get', { fields: ['id', 'noSuchField'] });
    expect(unknown.torrents).toEqual([{ id: 1 }]);

    for (const key of ['added', 'session', 'torrents', 'table', 'stats'] as const) {
      expect(shape(ours[key]), key).toEqual(shape(theirs[key]));
    }
    expect(ours.table.torrents).toEqual([
      ['id', 'name', 'status'],
      [1, 'payload.bin', 0],
    ]);
  });
});
