/**
 * The daemon's `encryption` session setting (Transmission's "required",
 * "preferred", "tolerated") drives the client's MSE policy: against a
 * `shoal seed --encryption off` (plaintext only, refuses MSE), the daemon set
 * to "required" gets nothing (it dials with MSE only), and set to
 * "tolerated" (plaintext) it fetches the metadata and the data. The default
 * is "preferred" (the CLI's default, prefer); `--encryption require` at start
 * shows as "required"; a value Transmission does not have is refused.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { parseTorrent, toHex } from '../../src/core/metainfo/index.ts';
import { spawnShoal, trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs, sameFile, tempDir } from '../helpers/files.ts';
import {
  daemonFolders,
  dataWithTorrent,
  startDaemon,
  torrents,
  waitForTorrents,
} from '../core/daemon/daemon-fixtures.ts';

trackProcesses();
cleanupTempDirs();
vi.setConfig({ testTimeout: 180_000, hookTimeout: 60_000 });

describe('shoal daemon: the encryption setting', () => {
  it('"required" gets nothing from a plaintext-only seeder, "tolerated" downloads from it', async () => {
    const seedDir = tempDir('shoal-daemon-enc-seed-');
    const { data, torrent } = await dataWithTorrent(seedDir, 'plain.bin', 1024 * 1024);
    const hash = toHex(parseTorrent(await readFile(torrent)).infoHash!);
    // Port 0 and the port the seeder names: a port found free first could be taken before it binds.
    const seeder = spawnShoal(
      ['seed', torrent, '-d', seedDir, '--port', '0', '--encryption', 'off'],
      { timeoutMs: 170_000 },
    );
    const seedPort = Number((await seeder.waitFor(/listening on port (\d+)/, 30_000, 'stderr'))[1]);

    const daemon = await startDaemon();
    const session = await daemon.rpc.call('session-get', { fields: ['encryption'] });
    expect(session.encryption).toBe('preferred');
    await expect(daemon.rpc.call('session-set', { encryption: 'sometimes' })).rejects.toThrow(
      /encryption must be/,
    );

    await daemon.rpc.call('session-set', { encryption: 'required' });
    expect((await daemon.rpc.call('session-get', {})).encryption).toBe('required');
    await daemon.rpc.call('torrent-add', {
      filename: `magnet:?xt=urn:btih:${hash}&dn=plain.bin&x.pe=127.0.0.1:${seedPort}`,
    });
    // Long enough for a dial and a metadata fetch from a seeder on loopback (a plaintext
    // daemon does both in well under a second); the seeder refuses every MSE opening.
    await new Promise((resolve) => setTimeout(resolve, 8000));
    const [held] = await torrents(daemon.rpc);
    expect(held.pieceCount, 'no metadata over a refused MSE connection').toBe(0);
    expect(held.haveValid).toBe(0);

    await daemon.rpc.call('session-set', { encryption: 'tolerated' });
    await waitForTorrents(
      daemon.rpc,
      (list) => list[0]?.totalSize > 0 && list[0].leftUntilDone === 0,
      'downloaded in plaintext',
    );
    expect(await sameFile(data, path.join(daemon.downloadDir, 'plain.bin'))).toBe(true);
    daemon.proc.kill('SIGTERM');
    expect((await daemon.proc.wait(60_000)).code, daemon.proc.describe()).toBe(0);
    seeder.kill();
  });

  it('--encryption at start replaces the saved setting', async () => {
    const folders = daemonFolders();
    const daemon = await startDaemon(folders, ['--encryption', 'require']);
    expect((await daemon.rpc.call('session-get', {})).encryption).toBe('required');
    daemon.proc.kill('SIGTERM');
    expect((await daemon.proc.wait(60_000)).code, daemon.proc.describe()).toBe(0);
  });
});
