/**
 * The daemon as a service: a .torrent dropped in --watch is added and renamed
 * `.added`; a second daemon on the same state directory refuses (exit 2, one
 * line); SIGHUP reloads settings.json; SIGTERM exits 0 with the torrent list
 * saved, and a restart brings it back. Binding RPC beyond loopback without
 * credentials refuses to start (exit 2).
 */
import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { runShoal, show, trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs, tempDir } from '../helpers/files.ts';
import {
  daemonFolders,
  dataWithTorrent,
  startDaemon,
  torrents,
  waitForTorrents,
} from '../core/daemon/daemon-fixtures.ts';

trackProcesses();
cleanupTempDirs();
vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 });

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('shoal daemon lifecycle', () => {
  it('watches a folder, refuses a second daemon, reloads on SIGHUP, saves on SIGTERM', async () => {
    const folders = daemonFolders();
    const watch = tempDir('shoal-daemon-watch-');
    const { torrent } = await dataWithTorrent(tempDir('shoal-daemon-src-'), 'w.bin', 100_000);
    const daemon = await startDaemon(folders, ['--watch', watch]);

    // Written under another name first, then renamed in: the watcher sees it whole.
    await writeFile(path.join(watch, 'x.part'), await readFile(torrent));
    await rename(path.join(watch, 'x.part'), path.join(watch, 'x.torrent'));
    await waitForTorrents(daemon.rpc, (list) => list.length === 1, 'watched torrent added', 30_000);
    await until(() => existsSync(path.join(watch, 'x.torrent.added')), 'renamed .added');
    await writeFile(path.join(watch, 'junk.torrent'), 'not a torrent');
    await until(
      () => existsSync(path.join(watch, 'junk.torrent.invalid')),
      'junk renamed .invalid',
    );

    const second = await runShoal(
      ['daemon', '--state-dir', folders.stateDir, '--rpc-port', '0', '--port', '0'],
      { timeoutMs: 30_000 },
    );
    expect(second.code, show(second)).toBe(2);
    expect(second.stderr.trim().split('\n')).toHaveLength(1);
    expect(second.stderr).toMatch(/state directory/);

    const settings = path.join(folders.stateDir, 'settings.json');
    const saved = JSON.parse(await readFile(settings, 'utf8').catch(() => '{}')) as object;
    await writeFile(settings, JSON.stringify({ ...saved, 'download-queue-size': 17 }));
    daemon.proc.kill('SIGHUP');
    await until(async () => {
      const session = await daemon.rpc.call('session-get', { fields: ['download-queue-size'] });
      return session['download-queue-size'] === 17;
    }, 'settings reloaded');

    daemon.proc.kill('SIGTERM');
    const exit = await daemon.proc.wait(60_000);
    expect(exit.code, daemon.proc.describe()).toBe(0);
    const list = JSON.parse(await readFile(path.join(folders.stateDir, 'torrents.json'), 'utf8'));
    expect(list.torrents).toHaveLength(1);

    const again = await startDaemon(folders);
    const [back] = await torrents(again.rpc);
    expect(back.name).toBe('w.bin');
    again.proc.kill('SIGTERM');
    expect((await again.proc.wait(60_000)).code).toBe(0);
  });

  it('--detach returns once the daemon serves, with its PID in --pid-file; SIGTERM stops it', async () => {
    const folders = daemonFolders();
    const pidFile = path.join(folders.stateDir, '..', `${path.basename(folders.stateDir)}.pid`);
    const log = path.join(folders.downloadDir, '..', `${path.basename(folders.downloadDir)}.log`);
    const result = await runShoal(
      [
        'daemon',
        '--state-dir',
        folders.stateDir,
        '--download-dir',
        folders.downloadDir,
        '--rpc-port',
        '0',
        '--port',
        '0',
        '--detach',
        '--pid-file',
        pidFile,
        '--log',
        log,
      ],
      { timeoutMs: 60_000 },
    );
    expect(result.code, show(result)).toBe(0);
    const pid = Number(result.stdout.trim());
    expect(Number(await readFile(pidFile, 'utf8'))).toBe(pid);
    expect(await readFile(log, 'utf8')).toMatch(/RPC on http/);
    try {
      process.kill(pid, 'SIGTERM');
      await until(() => !existsSync(pidFile), 'pid file removed at the stop');
      await until(() => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      }, 'detached daemon gone');
    } finally {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    expect(await readFile(log, 'utf8')).toMatch(/stopped/);
  });

  it.each([
    ['--download-dir', (file: string) => ['--download-dir', file]],
    ['--download-dir below a file', (file: string) => ['--download-dir', path.join(file, 'sub')]],
    ['--watch', (file: string) => ['--watch', file]],
  ])('refuses %s that is a file in one line (exit 5), leaving the file', async (_name, args) => {
    const folders = daemonFolders();
    const file = path.join(folders.downloadDir, 'a-file');
    await writeFile(file, 'not a directory');
    const result = await runShoal(
      ['daemon', '--state-dir', folders.stateDir, '--rpc-port', '0', '--no-dht', ...args(file)],
      { timeoutMs: 30_000 },
    );
    expect(result.code, show(result)).toBe(5);
    expect(result.stderr, show(result)).toMatch(/^shoal: error: .*a-file is not a directory\n$/);
    expect(await readFile(file, 'utf8')).toBe('not a directory');
  });

  it('refuses to serve RPC beyond loopback without credentials (exit 2, one line)', async () => {
    const folders = daemonFolders();
    const result = await runShoal(
      ['daemon', '--state-dir', folders.stateDir, '--rpc-bind', '0.0.0.0', '--rpc-port', '0'],
      { timeoutMs: 30_000 },
    );
    expect(result.code, show(result)).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/without credentials/);
  });
});
