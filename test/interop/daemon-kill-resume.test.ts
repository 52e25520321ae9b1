/**
 * `kill -9` of a daemon in the middle of three downloads (one added as a
 * magnet link, its metadata fetched before the kill), then a restart on the
 * same state directory: all three come back downloading, finish with data
 * identical to the seeders', and the restarted daemon downloads no more than
 * what was still missing, so no piece verified before the kill is fetched
 * again. Peers come from a real tracker (opentracker); the seeders are
 * python3-libtorrent, slowed down so the kill lands mid-download.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { parseTorrent, toHex } from '../../src/core/metainfo/index.ts';
import { trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs, sameFile, tempDir } from '../helpers/files.ts';
import { requirePeers, startOpentracker } from '../helpers/peers.ts';
import {
  countPieces,
  daemonFolders,
  dataWithTorrent,
  makeTorrent,
  startDaemon,
  startSeeder,
  torrents,
  waitForTorrents,
  type TorrentView,
} from '../core/daemon/daemon-fixtures.ts';

trackProcesses();
cleanupTempDirs();
vi.setConfig({ testTimeout: 400_000, hookTimeout: 60_000 });

const SIZE = 6 * 1024 * 1024;
const PIECE_EXP = 15;
const PIECE = 2 ** PIECE_EXP;
/** Bytes per second each seeder sends: about 25 s per torrent. */
const SEED_RATE = 256 * 1024;

/** Bytes of the pieces set in `pieces` (the last piece may be short). */
function verifiedBytes(view: TorrentView): number {
  const bits = Buffer.from(view.pieces, 'base64');
  let bytes = 0;
  for (let i = 0; i < view.pieceCount; i++) {
    if (bits[i >> 3] & (0x80 >> (i & 7))) bytes += Math.min(PIECE, view.totalSize - i * PIECE);
  }
  return bytes;
}

describe('shoal daemon after kill -9', () => {
  requirePeers('libtorrent', 'opentracker');

  it('resumes three downloads (one from a magnet) without fetching a verified piece again', async () => {
    const seedDir = tempDir('shoal-daemon-seed-');
    const made = await Promise.all(
      ['one.bin', 'two.bin', 'three.bin'].map((name) =>
        dataWithTorrent(seedDir, name, SIZE, { pieceExp: PIECE_EXP }),
      ),
    );
    const hashes = await Promise.all(
      made.map(async ({ torrent }) => toHex(parseTorrent(await readFile(torrent)).infoHash!)),
    );
    const tracker = await startOpentracker(hashes);
    // The same info dictionaries (same info-hashes), announcing to the tracker.
    const torrentFiles = made.map(({ data }) =>
      makeTorrent(data, { pieceExp: PIECE_EXP, announce: tracker.url }),
    );
    const seeders = [];
    for (const torrent of torrentFiles) {
      seeders.push(
        await startSeeder({ torrent, save: seedDir, peers: [], uploadLimit: SEED_RATE }),
      );
    }

    const folders = daemonFolders();
    const first = await startDaemon(folders);
    for (const torrent of torrentFiles.slice(0, 2)) {
      await first.rpc.call('torrent-add', {
        metainfo: (await readFile(torrent)).toString('base64'),
      });
    }
    const magnet = `magnet:?xt=urn:btih:${hashes[2]}&dn=three.bin&tr=${encodeURIComponent(tracker.url)}`;
    await first.rpc.call('torrent-add', { filename: magnet });

    const before = await waitForTorrents(
      first.rpc,
      (list) =>
        list.length === 3 &&
        list.every((t) => t.pieceCount > 0 && countPieces(t.pieces) >= t.pieceCount / 5) &&
        list.every((t) => t.leftUntilDone > 0),
      'all three a fifth done',
      180_000,
    );
    // The pieces reported verified get time to reach the resume journal; more may verify
    // meanwhile, which only makes the bound below looser.
    await new Promise((resolve) => setTimeout(resolve, 500));
    first.proc.kill('SIGKILL');
    await first.proc.wait(30_000);
    const missing = before.reduce((sum, t) => sum + t.totalSize - verifiedBytes(t), 0);
    expect(
      before.every((t) => t.leftUntilDone > 0),
      'killed before any completed',
    ).toBe(true);

    const second = await startDaemon(folders, [], { peerPort: first.peerPort });
    const resumed = await torrents(second.rpc);
    expect(resumed.map((t) => t.hashString).sort()).toEqual([...hashes].sort());
    expect(
      resumed.every((t) => t.pieceCount > 0),
      'the magnet kept its metadata',
    ).toBe(true);
    await waitForTorrents(
      second.rpc,
      (list) => list.length === 3 && list.every((t) => t.leftUntilDone === 0 && t.totalSize > 0),
      'all three complete after the restart',
      240_000,
    );
    for (const { data } of made) {
      expect(await sameFile(data, path.join(folders.downloadDir, path.basename(data)))).toBe(true);
    }
    const stats = (await second.rpc.call('session-stats')) as {
      'current-stats': { downloadedBytes: number };
    };
    const fetchedAgain = stats['current-stats'].downloadedBytes;
    expect(fetchedAgain).toBeGreaterThan(0);
    expect(
      fetchedAgain,
      `downloaded ${fetchedAgain} after the restart, ${missing} were missing`,
    ).toBeLessThanOrEqual(missing);

    for (const seeder of seeders) seeder.proc.kill();
    tracker.proc.kill();
    second.proc.kill('SIGTERM');
    expect((await second.proc.wait(60_000)).code, second.proc.describe()).toBe(0);
  });
});
