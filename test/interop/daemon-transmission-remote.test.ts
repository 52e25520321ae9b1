/**
 * The real transmission-remote (Debian's transmission-cli) drives a real
 * `shoal daemon`: adds a .torrent, lists it, watches it complete from a
 * python3-libtorrent seeder that dials the daemon, stops, starts, verifies
 * and removes it. The data must arrive byte for byte.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs, sameFile, tempDir } from '../helpers/files.ts';
import { requirePeers } from '../helpers/peers.ts';
import { requireTransmissionRpcTools, transmissionRemote } from '../helpers/transmission-daemon.ts';
import {
  dataWithTorrent,
  startDaemon,
  startSeeder,
  waitForTorrents,
} from '../core/daemon/daemon-fixtures.ts';

/** Transmission's status codes (transmission-remote shows both "Idle" and "Finished" for several). */
const STOPPED = 0;
const SEEDING = 6;

trackProcesses();
cleanupTempDirs();
vi.setConfig({ testTimeout: 300_000, hookTimeout: 60_000 });
requireTransmissionRpcTools();

const AUTH = ['-n', 'alice:s3cret'];

/** transmission-remote -t ID -i, as `Key: value` pairs. */
async function info(port: number, id: string): Promise<Record<string, string>> {
  const { stdout } = await transmissionRemote(port, [...AUTH, '-t', id, '-i']);
  return Object.fromEntries(
    [...stdout.matchAll(/^\s+([A-Za-z ]+): (.*)$/gm)].map((m) => [m[1].trim(), m[2].trim()]),
  );
}

async function waitForInfo(
  port: number,
  id: string,
  done: (fields: Record<string, string>) => boolean,
  what: string,
  timeoutMs = 120_000,
): Promise<Record<string, string>> {
  const deadline = Date.now() + timeoutMs;
  let fields: Record<string, string> = {};
  while (Date.now() < deadline) {
    fields = await info(port, id);
    if (done(fields)) return fields;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`${what} not within ${timeoutMs} ms: ${JSON.stringify(fields)}`);
}

describe('transmission-remote against shoal daemon', () => {
  requirePeers('libtorrent');

  it('adds, lists, downloads from libtorrent, stops, starts, verifies and removes a torrent', async () => {
    const seedDir = tempDir('shoal-daemon-seed-');
    const { data, torrent } = await dataWithTorrent(seedDir, 'payload.bin', 3 * 1024 * 1024);
    const daemon = await startDaemon(undefined, [], { auth: 'alice:s3cret' });
    const port = daemon.rpcPort;

    const added = await transmissionRemote(port, [...AUTH, '-a', torrent]);
    expect(added.stdout + added.stderr).toContain('responded: "success"');
    const listed = await transmissionRemote(port, [...AUTH, '-l']);
    expect(listed.stdout).toMatch(/^\s+1\s.*payload\.bin$/m);

    const seeder = await startSeeder({
      torrent,
      save: seedDir,
      peers: [`127.0.0.1:${daemon.peerPort}`],
    });
    const done = await waitForInfo(
      port,
      '1',
      (f) => f['Percent Done'] === '100%',
      'download complete',
    );
    expect(done.Location).toBe(daemon.downloadDir);
    const downloaded = path.join(daemon.downloadDir, 'payload.bin');
    expect(await sameFile(data, downloaded)).toBe(true);
    // transmission-remote shows a seed with no traffic as "Idle": the status code says seeding.
    await waitForTorrents(daemon.rpc, ([t]) => t?.status === SEEDING, 'seeding after completion');

    const stopped = await transmissionRemote(port, [...AUTH, '-t', '1', '-S']);
    expect(stopped.stdout).toContain('success');
    await waitForTorrents(daemon.rpc, ([t]) => t?.status === STOPPED, 'stopped');

    await transmissionRemote(port, [...AUTH, '-t', '1', '-s']);
    await waitForTorrents(daemon.rpc, ([t]) => t?.status === SEEDING, 'seeding after start');

    // Damage the data while stopped: the verify must notice, then the torrent heals from the seeder.
    await transmissionRemote(port, [...AUTH, '-t', '1', '-S']);
    await waitForTorrents(daemon.rpc, ([t]) => t?.status === STOPPED, 'stopped for the verify');
    const bytes = await readFile(downloaded);
    bytes.fill(0, 0, 100_000);
    await writeFile(downloaded, bytes);
    const verify = await transmissionRemote(port, [...AUTH, '-t', '1', '-v']);
    expect(verify.stdout).toContain('success');
    const checked = await waitForInfo(
      port,
      '1',
      (f) =>
        f.State === 'Stopped' && f['Percent Done'] !== '100%' && f['Percent Done'] !== undefined,
      'verify finds the damage',
    );
    expect(Number.parseFloat(checked['Percent Done'])).toBeLessThan(100);
    await transmissionRemote(port, [...AUTH, '-t', '1', '-s']);
    await waitForInfo(port, '1', (f) => f['Percent Done'] === '100%', 'healed after start');
    expect(await sameFile(data, downloaded)).toBe(true);

    const removed = await transmissionRemote(port, [...AUTH, '-t', '1', '-r']);
    expect(removed.stdout).toContain('success');
    const after = await transmissionRemote(port, [...AUTH, '-l']);
    expect(after.stdout).not.toMatch(/payload\.bin/);
    // Removed without --delete: the data stays.
    expect(await sameFile(data, downloaded)).toBe(true);

    seeder.proc.kill();
    daemon.proc.kill('SIGTERM');
    const exit = await daemon.proc.wait(60_000);
    expect(exit.code, daemon.proc.describe()).toBe(0);
  });
});
