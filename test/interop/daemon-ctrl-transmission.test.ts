/**
 * @ctrl/transmission (the npm client Flood-style web UIs and *arr tools use;
 * nobody here wrote it) against the real shoal daemon: add a .torrent with a
 * label, get it (normalized and raw fields), set limits, remove it. Its
 * default download-dir (/downloads) is outside the daemon's roots: refused.
 */
import { readFile } from 'node:fs/promises';
import { Transmission } from '@ctrl/transmission';
import { describe, expect, it, vi } from 'vitest';
import { trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs, tempDir } from '../helpers/files.ts';
import { dataWithTorrent, startDaemon } from '../core/daemon/daemon-fixtures.ts';

trackProcesses();
cleanupTempDirs();
vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 });

describe('@ctrl/transmission against shoal daemon', () => {
  it('adds, gets, sets and removes a torrent', async () => {
    const { torrent } = await dataWithTorrent(tempDir('shoal-ctrl-src-'), 'ctrl.bin', 200_000);
    const daemon = await startDaemon(undefined, [], { auth: 'bob:hunter2' });
    const client = new Transmission({
      baseUrl: `http://127.0.0.1:${daemon.rpcPort}/`,
      username: 'bob',
      password: 'hunter2',
    });

    const bytes = await readFile(torrent);
    // Its addTorrent defaults to download-dir /downloads: outside the daemon's roots, refused.
    const refused = await client.addTorrent(bytes);
    expect(String(refused.result)).toMatch(/outside the download roots/);

    const result = await client.addTorrent(bytes, {
      'download-dir': daemon.downloadDir,
      paused: true,
    });
    const hash = result.arguments['torrent-added'].hashString;
    await client.setTorrent(hash, { labels: ['linux'] });
    const added = await client.getTorrent(hash);
    expect(added.name).toBe('ctrl.bin');
    expect(added.label).toBe('linux');
    expect(added.totalSize).toBe(200_000);
    expect(added.savePath).toBe(daemon.downloadDir);

    await client.setTorrent(added.id, { downloadLimit: 250, downloadLimited: true });
    const raw = await client.listTorrents(added.id, ['downloadLimit', 'downloadLimited']);
    expect(raw.arguments.torrents[0]).toMatchObject({ downloadLimit: 250, downloadLimited: true });

    const all = await client.getAllData();
    expect(all.torrents.map((t) => t.name)).toEqual(['ctrl.bin']);

    await client.removeTorrent(added.id, false);
    expect((await client.getAllData()).torrents).toEqual([]);

    daemon.proc.kill('SIGTERM');
    expect((await daemon.proc.wait(60_000)).code).toBe(0);
  });
});
