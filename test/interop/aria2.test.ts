/**
 * Interop with aria2c (a client others wrote), v1 multi-file torrents made by
 * shoal with pieces spanning files and empty files: shoal downloads from an
 * aria2c seeder, and aria2c downloads from `shoal seed`. aria2c has no option
 * to dial a peer, so `shoal seed --peer` dials the listening aria2c. Results
 * are compared byte for byte. aria2c opens with an encrypted handshake and
 * retries in plaintext; it reports new pieces with fresh bitfields and a
 * final have-all instead of `have` messages.
 */
import path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { runShoal, show, trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs, diffTrees, spanningPayload } from '../helpers/files.ts';
import { requirePeers, startAria2Leecher, startAria2Seeder } from '../helpers/peers.ts';
import { createTorrent, peerArg, startShoalSeeder } from '../helpers/swarm.ts';

trackProcesses();
// Whole processes on a shared 2-core machine: generous bounds, never timing assertions.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });
cleanupTempDirs();

describe('aria2c', () => {
  requirePeers('aria2c');
  let work: string;
  let seedParent: string;
  let payload: string;
  let torrent: string;

  beforeAll(async () => {
    ({ work, seedParent, payload } = await spanningPayload('shoal-aria2-'));
    ({ torrent } = await createTorrent(
      payload,
      path.join(work, 'payload.torrent'),
      ['--v1', '--piece-length', '16KiB'],
      {
        cwd: work,
      },
    ));
  });

  it('shoal downloads from an aria2c seeder', async () => {
    const seeder = await startAria2Seeder(torrent, seedParent);
    const out = path.join(work, 'from-aria2');
    const result = await runShoal(
      ['download', torrent, '-o', out, ...peerArg(seeder.port), '--timeout', '20s', '--json'],
      {
        cwd: work,
      },
    );
    expect(result.code, `${show(result)}\n${seeder.proc.describe()}`).toBe(0);
    expect(await diffTrees(payload, path.join(out, 'payload'))).toEqual([]);
    expect((JSON.parse(result.stdout) as { peers: number }).peers).toBe(1);
  });

  it('aria2c downloads from shoal seed', async () => {
    const out = path.join(work, 'to-aria2');
    const leecher = await startAria2Leecher(torrent, out);
    const seeder = await startShoalSeeder(torrent, seedParent, peerArg(leecher.port), {
      cwd: work,
    });
    const result = await leecher.proc.wait(60_000);
    expect(result.code, `${leecher.proc.describe()}\n${seeder.proc.describe()}`).toBe(0);
    expect(await diffTrees(payload, path.join(out, 'payload'))).toEqual([]);
    expect(seeder.proc.running, seeder.proc.describe()).toBe(true);
  });
});
