/**
 * Interop with python3-libtorrent 2.0 (a client others wrote): shoal
 * downloads from a libtorrent seeder and seeds to a libtorrent downloader, for
 * v1, v2 and hybrid torrents made by shoal, multi-file with pieces spanning
 * files and empty files. Results are compared byte for byte. libtorrent opens
 * with an encrypted handshake and falls back to plaintext, and dials hybrid
 * torrents with the v1 info-hash (setting bit 0x10 of reserved[7]).
 */
import path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { runShoal, show, trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs, diffTrees, spanningPayload } from '../helpers/files.ts';
import { requirePeers, startLibtorrent } from '../helpers/peers.ts';
import { createTorrent, peerArg, startShoalSeeder } from '../helpers/swarm.ts';

trackProcesses();
// Whole processes on a shared 2-core machine: generous bounds, never timing assertions.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });
cleanupTempDirs();

const FORMATS = ['--v1', '--v2', '--hybrid'] as const;

describe('python3-libtorrent', () => {
  requirePeers('libtorrent');
  let work: string;
  let seedParent: string;
  let payload: string;
  const torrents: Record<string, string> = {};

  beforeAll(async () => {
    ({ work, seedParent, payload } = await spanningPayload('shoal-libtorrent-'));
    await Promise.all(
      FORMATS.map(async (flag) => {
        const made = await createTorrent(
          payload,
          path.join(work, `payload${flag}.torrent`),
          [flag, '--piece-length', '16KiB'],
          {
            cwd: work,
          },
        );
        torrents[flag] = made.torrent;
      }),
    );
  });

  it.each(FORMATS)('shoal downloads a %s torrent from a libtorrent seeder', async (flag) => {
    const seeder = await startLibtorrent({
      mode: 'seed',
      torrent: torrents[flag],
      save: seedParent,
    });
    const out = path.join(work, `from-lt${flag}`);
    const result = await runShoal(
      [
        'download',
        torrents[flag],
        '-o',
        out,
        ...peerArg(seeder.port),
        '--timeout',
        '20s',
        '--json',
      ],
      {
        cwd: work,
      },
    );
    expect(result.code, `${show(result)}\n${seeder.proc.describe()}`).toBe(0);
    expect(await diffTrees(payload, path.join(out, 'payload'))).toEqual([]);
    const doc = JSON.parse(result.stdout) as { peers: number };
    expect(doc.peers).toBe(1);
  });

  it.each(FORMATS)('a libtorrent downloader gets a %s torrent from shoal seed', async (flag) => {
    const seeder = await startShoalSeeder(torrents[flag], seedParent, [], { cwd: work });
    const out = path.join(work, `to-lt${flag}`);
    const leecher = await startLibtorrent({
      mode: 'download',
      torrent: torrents[flag],
      save: out,
      peers: [`127.0.0.1:${seeder.port}`],
      timeoutS: 40,
    });
    const result = await leecher.proc.wait(60_000);
    expect(result.code, `${leecher.proc.describe()}\n${seeder.proc.describe()}`).toBe(0);
    expect(result.stdout).toContain('SEEDING');
    // libtorrent writes the (empty) files it needs; compare the whole tree.
    expect(await diffTrees(payload, path.join(out, 'payload'))).toEqual([]);
    expect(seeder.proc.running, seeder.proc.describe()).toBe(true);
  });
});
