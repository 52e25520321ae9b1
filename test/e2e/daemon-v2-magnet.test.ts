/**
 * A v2-only magnet link in a real `shoal daemon`: the piece layers it fetched
 * from the seeder (BEP 52) are kept with the torrent's stored metadata, so
 * after the download and a restart of the daemon with the seeder gone, the
 * data is still verified and seeded. (The resume state that held the layers
 * meanwhile is removed once a download completes; a restart then had nothing
 * to check the pieces with and no peer to ask.) A hybrid's magnet gets no
 * layers from peers (its pieces are checked by SHA-1): they are built from
 * the downloaded data and kept the same way.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { decodeBencode } from '../../src/core/bencode/index.ts';
import { trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs, tempDir } from '../helpers/files.ts';
import { createTorrent, startShoalSeeder, until } from '../helpers/swarm.ts';
import { daemonFolders, startDaemon, waitForTorrents } from '../core/daemon/daemon-fixtures.ts';

trackProcesses();
cleanupTempDirs();
vi.setConfig({ testTimeout: 240_000, hookTimeout: 60_000 });

const SEEDING = 6;

describe('shoal daemon: magnet links with v2 hashes', () => {
  it('keeps the fetched piece layers, and seeds after a restart with no peer left', async () => {
    const seedDir = tempDir('shoal-v2-magnet-seed-');
    const payload = path.join(seedDir, 'payload');
    await mkdir(payload);
    // Two files of several pieces each: two piece layers to fetch.
    await writeFile(path.join(payload, 'a.bin'), randomBytes(700_000));
    await writeFile(path.join(payload, 'b.bin'), randomBytes(300_000));
    const made = await createTorrent(payload, path.join(seedDir, 'payload.torrent'), [
      '--v2',
      '--piece-length',
      '32KiB',
    ]);
    const seeder = await startShoalSeeder(made.torrent, seedDir);
    const magnet = `magnet:?xt=urn:btmh:1220${made.infoHashV2}&dn=payload&x.pe=127.0.0.1:${seeder.port}`;

    const folders = daemonFolders();
    let daemon = await startDaemon(folders);
    await daemon.rpc.call('torrent-add', { filename: magnet });
    const [done] = await waitForTorrents(
      daemon.rpc,
      (list) => list[0]?.status === SEEDING && list[0].leftUntilDone === 0,
      'magnet downloaded',
    );
    expect(await readFile(path.join(folders.downloadDir, 'payload', 'a.bin'))).toEqual(
      await readFile(path.join(payload, 'a.bin')),
    );

    // The stored metadata now carries `piece layers`.
    const stored = await readFile(
      path.join(folders.stateDir, 'torrents', `${done!.hashString}.torrent`),
    );
    expect(decodeBencode(stored).topLevelRanges.has('piece layers')).toBe(true);

    seeder.proc.kill('SIGTERM');
    await seeder.proc.wait(30_000);
    daemon.proc.kill('SIGTERM');
    expect((await daemon.proc.wait(60_000)).code, daemon.proc.describe()).toBe(0);

    daemon = await startDaemon(folders);
    const [again] = await waitForTorrents(
      daemon.rpc,
      (list) => list[0]?.status === SEEDING && list[0].leftUntilDone === 0,
      'verified and seeding after the restart, with no peer to fetch layers from',
      60_000,
    );
    expect(again!.haveValid).toBe(1_000_000);
    daemon.proc.kill('SIGTERM');
    expect((await daemon.proc.wait(60_000)).code, daemon.proc.describe()).toBe(0);
  });

  it('a hybrid magnet: keeps the piece layers built from the downloaded data', async () => {
    const seedDir = tempDir('shoal-hybrid-magnet-seed-');
    const payload = path.join(seedDir, 'payload');
    await mkdir(payload);
    await writeFile(path.join(payload, 'a.bin'), randomBytes(700_000));
    await writeFile(path.join(payload, 'b.bin'), randomBytes(300_000));
    const made = await createTorrent(payload, path.join(seedDir, 'payload.torrent'), [
      '--hybrid',
      '--piece-length',
      '32KiB',
    ]);
    const seeder = await startShoalSeeder(made.torrent, seedDir);
    const magnet = `magnet:?xt=urn:btih:${made.infoHash}&dn=payload&x.pe=127.0.0.1:${seeder.port}`;

    const folders = daemonFolders();
    const daemon = await startDaemon(folders);
    await daemon.rpc.call('torrent-add', { filename: magnet });
    const [done] = await waitForTorrents(
      daemon.rpc,
      (list) => list[0]?.status === SEEDING && list[0].leftUntilDone === 0,
      'magnet downloaded',
    );
    const storedPath = path.join(folders.stateDir, 'torrents', `${done!.hashString}.torrent`);
    const layersOf = (torrent: Uint8Array) => {
      const range = decodeBencode(torrent).topLevelRanges.get('piece layers');
      return range ? Buffer.from(torrent.subarray(...range)).toString('hex') : null;
    };
    // Built after the download completed, in the daemon's hash workers.
    let stored: string | null = null;
    await until(
      () => (stored = layersOf(readFileSync(storedPath))) !== null,
      60_000,
      () => daemon.proc.describe(),
    );
    expect(stored).toBe(layersOf(await readFile(made.torrent)));
    seeder.proc.kill('SIGTERM');
    await seeder.proc.wait(30_000);
    daemon.proc.kill('SIGTERM');
    expect((await daemon.proc.wait(60_000)).code, daemon.proc.describe()).toBe(0);
  });
});
