/**
 * `shoal remote` against a real transmission-daemon 3.00: the same protocol
 * shoal's daemon speaks, from a server nobody here wrote. The data is placed
 * in the daemon's download directory first (transmission ignores 127.x
 * peers), so the torrent verifies and seeds on its own.
 */
import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runShoal, show, trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs, tempDir } from '../helpers/files.ts';
import { freePort } from '../helpers/ports.ts';
import {
  requireTransmissionRpcTools,
  startTransmissionDaemon,
} from '../helpers/transmission-daemon.ts';
import { torrentWithData } from '../core/rpc/rpc-fixtures.ts';

requireTransmissionRpcTools();
trackProcesses();
cleanupTempDirs();

type Torrent = Record<string, unknown>;

async function remote(rpc: string, ...args: string[]) {
  return runShoal(['remote', ...args, '--rpc', rpc], { timeoutMs: 60_000 });
}

async function infoJson(rpc: string, id: string): Promise<Torrent> {
  const result = await remote(rpc, 'info', id, '--json');
  expect(result.code, show(result)).toBe(0);
  return JSON.parse(result.stdout) as Torrent;
}

/** Polls `remote info` until `done(torrent)`, at most 60 s. */
async function waitForTorrent(
  rpc: string,
  id: string,
  done: (t: Torrent) => boolean,
): Promise<Torrent> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const torrent = await infoJson(rpc, id);
    if (done(torrent)) return torrent;
    if (Date.now() > deadline)
      throw new Error(`torrent never reached the state: ${JSON.stringify(torrent)}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

describe('shoal remote against transmission-daemon', () => {
  it('add, ls, info, stop, start, verify, rm', async () => {
    const daemon = await startTransmissionDaemon();
    const source = tempDir('shoal-remote-src-');
    const { data, torrent } = await torrentWithData(source, 'remote-payload.bin', 700_000);
    await copyFile(data, path.join(daemon.downloadDir, 'remote-payload.bin'));
    const rpc = daemon.url;

    const added = await remote(rpc, 'add', torrent);
    expect(added.code, show(added)).toBe(0);
    const [id, hash, name] = added.stdout.trim().split(' ');
    expect(id).toMatch(/^\d+$/);
    expect(hash).toMatch(/^[0-9a-f]{40}$/);
    expect(name).toBe('remote-payload.bin');

    const seeding = await waitForTorrent(rpc, id, (t) => t.percentDone === 1);
    expect(seeding).toMatchObject({ name, hashString: hash, downloadDir: daemon.downloadDir });
    expect((seeding.files as Torrent[])[0]).toMatchObject({ name, length: 700_000 });

    const listed = await runShoal(['remote', 'ls', '--rpc', rpc], {
      env: { COLUMNS: '60' },
    });
    expect(listed.code, show(listed)).toBe(0);
    const lines = listed.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+Done\s+Size/);
    expect(lines[1]).toMatch(new RegExp(`^\\s*${id}\\s+100%`));
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(60);

    const info = await remote(rpc, 'info', hash);
    expect(info.code, show(info)).toBe(0);
    expect(info.stdout).toContain(`Hash: ${hash}`);
    expect(info.stdout).toContain(`Location: ${daemon.downloadDir}`);
    expect(info.stdout).toMatch(/Files \(1\):\n {2}0: remote-payload\.bin/);

    const set = await remote(rpc, 'set', id, '--download-limit', '2MB', '--seed-ratio', '1.5');
    expect(set.code, show(set)).toBe(0);
    expect(await infoJson(rpc, id)).toMatchObject({
      downloadLimit: 2000,
      downloadLimited: true,
      seedRatioLimit: 1.5,
      seedRatioMode: 1,
    });
    expect((await remote(rpc, 'info', id)).stdout).toContain(
      'Limits: down 1.91 MiB/s, up none, seed ratio 1.5',
    );

    const stopped = await remote(rpc, 'stop', id);
    expect(stopped.code, show(stopped)).toBe(0);
    await waitForTorrent(rpc, id, (t) => t.status === 0);

    const started = await remote(rpc, 'start', id);
    expect(started.code, show(started)).toBe(0);
    await waitForTorrent(rpc, id, (t) => t.status !== 0);

    const verified = await remote(rpc, 'verify', id);
    expect(verified.code, show(verified)).toBe(0);
    // After the verify the data is still all there and good.
    await waitForTorrent(rpc, id, (t) => t.status === 6 && t.percentDone === 1);

    const json = await remote(rpc, 'ls', '--json');
    expect(JSON.parse(json.stdout)).toEqual([expect.objectContaining({ id: Number(id), name })]);

    const removed = await remote(rpc, 'rm', id);
    expect(removed.code, show(removed)).toBe(0);
    const empty = await remote(rpc, 'ls', '--json');
    expect(JSON.parse(empty.stdout)).toEqual([]);
  });

  it('credentials from the URL or --rpc-auth; none or wrong ones exit 2 saying so', async () => {
    const daemon = await startTransmissionDaemon({ auth: { username: 'bob', password: 'pa:ss' } });
    const withUrl = daemon.url.replace('http://', 'http://bob:pa%3Ass@');

    const none = await remote(daemon.url, 'stats');
    expect(none.code, show(none)).toBe(2);
    expect(none.stderr).toMatch(/refused the credentials \(401\)/);
    expect(none.stderr.trim().split('\n')).toHaveLength(1);

    const wrong = await remote(daemon.url, 'stats', '--rpc-auth', 'bob:nope');
    expect(wrong.code, show(wrong)).toBe(2);

    const fromUrl = await remote(withUrl, 'stats');
    expect(fromUrl.code, show(fromUrl)).toBe(0);
    expect(fromUrl.stdout).toMatch(/^Torrents: 0 /);

    const fromFlag = await remote(daemon.url, 'stats', '--rpc-auth', 'bob:pa:ss', '--json');
    expect(fromFlag.code, show(fromFlag)).toBe(0);
    expect(JSON.parse(fromFlag.stdout)).toMatchObject({ torrentCount: 0 });
  });

  it('exits 4 with one line when nothing listens on the RPC port', async () => {
    const port = await freePort();
    const result = await remote(`127.0.0.1:${port}`, 'ls');
    expect(result.code, show(result)).toBe(4);
    expect(result.stderr.trim()).toBe(
      `shoal: error: cannot reach the RPC server at http://127.0.0.1:${port}/transmission/rpc: ECONNREFUSED`,
    );
  });

  it('bad usage exits 2: an unknown verb, a bad id, set without a change', async () => {
    for (const args of [['explode'], ['stop', 'x1'], ['set', '1'], ['info']]) {
      const result = await remote('127.0.0.1:9', ...args);
      expect(result.code, show(result)).toBe(2);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});
