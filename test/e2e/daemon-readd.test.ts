/**
 * torrent-remove (data kept) followed at once by torrent-add of the same
 * torrent into the same folder, against a real `shoal daemon` over RPC: the
 * new entry takes over the data on disk (the resume lock of the removed run
 * must not stand in its way), with no error. Once after the download
 * completed (the re-added torrent verifies the data and seeds, fetching
 * nothing), once in the middle of a download (it finishes, data identical to
 * the seeder's, without fetching again a piece verified before the remove).
 * Peers: python3-libtorrent seeders found through a real tracker (opentracker).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { parseTorrent, toHex } from '../../src/core/metainfo/index.ts';
import type { RpcClient } from '../../src/core/rpc/client.ts';
import { trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs, sameFile, tempDir } from '../helpers/files.ts';
import { requirePeers, startOpentracker } from '../helpers/peers.ts';
import {
  countPieces,
  dataWithTorrent,
  makeTorrent,
  startDaemon,
  startSeeder,
  verifiedBytes,
  waitForTorrents,
  type TorrentView,
} from '../core/daemon/daemon-fixtures.ts';

trackProcesses();
cleanupTempDirs();
vi.setConfig({ testTimeout: 400_000, hookTimeout: 60_000 });

const SEEDING = 6;
const PIECE_EXP = 15;
const PIECE = 2 ** PIECE_EXP;

/** A data file, its seeder (libtorrent, slowed to `uploadLimit` when given) and a tracker. */
async function swarmOf(name: string, size: number, uploadLimit?: number) {
  const seedDir = tempDir('shoal-readd-seed-');
  const { data, torrent: bare } = await dataWithTorrent(seedDir, name, size, {
    pieceExp: PIECE_EXP,
  });
  const hash = toHex(parseTorrent(await readFile(bare)).infoHash!);
  const tracker = await startOpentracker([hash]);
  const torrent = makeTorrent(data, { pieceExp: PIECE_EXP, announce: tracker.url });
  const seeder = await startSeeder({ torrent, save: seedDir, peers: [], uploadLimit });
  const metainfo = (await readFile(torrent)).toString('base64');
  return { data, hash, metainfo, stop: () => (seeder.proc.kill(), tracker.proc.kill()) };
}

async function removeAndAddAgain(rpc: RpcClient, id: number, metainfo: string): Promise<number> {
  await rpc.call('torrent-remove', { ids: [id], 'delete-local-data': false });
  const added = (await rpc.call('torrent-add', { metainfo })) as {
    'torrent-added'?: { id: number };
  };
  expect(added['torrent-added'], JSON.stringify(added)).toBeDefined();
  return added['torrent-added']!.id;
}

/** Fails at once on an error instead of waiting out the timeout. */
function noError(list: TorrentView[]): TorrentView[] {
  for (const t of list) if (t.error) throw new Error(`torrent ${t.id}: ${t.errorString}`);
  return list;
}

describe('shoal daemon: remove then add the same torrent again', () => {
  requirePeers('libtorrent', 'opentracker');

  it('after completion: the new entry verifies the data on disk and seeds, fetching nothing', async () => {
    const swarm = await swarmOf('done.bin', 3 * 1024 * 1024);
    const daemon = await startDaemon();
    await daemon.rpc.call('torrent-add', { metainfo: swarm.metainfo });
    const [done] = await waitForTorrents(
      daemon.rpc,
      (list) => list[0]?.status === SEEDING && list[0].leftUntilDone === 0,
      'downloaded from libtorrent',
    );

    const id = await removeAndAddAgain(daemon.rpc, done.id, swarm.metainfo);
    expect(id).not.toBe(done.id);
    const [again] = await waitForTorrents(
      daemon.rpc,
      (list) => noError(list).length === 1 && list[0].status === SEEDING,
      're-added torrent seeding',
    );
    expect(again).toMatchObject({ id, hashString: swarm.hash, error: 0, errorString: '' });
    expect(again.leftUntilDone).toBe(0);
    expect(countPieces(again.pieces)).toBe(again.pieceCount);
    expect(again.downloadedEver, 'fetched nothing: the data was on disk').toBe(0);
    expect(await sameFile(swarm.data, path.join(daemon.downloadDir, 'done.bin'))).toBe(true);

    swarm.stop();
    daemon.proc.kill('SIGTERM');
    expect((await daemon.proc.wait(60_000)).code, daemon.proc.describe()).toBe(0);
  });

  it('mid-download: the new entry finishes without fetching a verified piece again', async () => {
    const size = 6 * 1024 * 1024;
    const swarm = await swarmOf('half.bin', size, 256 * 1024);
    const daemon = await startDaemon();
    await daemon.rpc.call('torrent-add', { metainfo: swarm.metainfo });
    const [partial] = await waitForTorrents(
      daemon.rpc,
      (list) =>
        list[0]?.pieceCount > 0 &&
        countPieces(list[0].pieces) >= list[0].pieceCount / 5 &&
        list[0].leftUntilDone > 0,
      'a fifth downloaded',
    );
    const missing = size - verifiedBytes(partial, PIECE);

    const id = await removeAndAddAgain(daemon.rpc, partial.id, swarm.metainfo);
    const [finished] = await waitForTorrents(
      daemon.rpc,
      (list) => noError(list).length === 1 && list[0].leftUntilDone === 0 && list[0].totalSize > 0,
      're-added torrent complete',
      240_000,
    );
    expect(finished).toMatchObject({ id, error: 0, errorString: '' });
    expect(await sameFile(swarm.data, path.join(daemon.downloadDir, 'half.bin'))).toBe(true);
    expect(
      finished.downloadedEver,
      `downloaded ${finished.downloadedEver} after the re-add, ${missing} were missing`,
    ).toBeLessThanOrEqual(missing);

    swarm.stop();
    daemon.proc.kill('SIGTERM');
    expect((await daemon.proc.wait(60_000)).code, daemon.proc.describe()).toBe(0);
  });
});
