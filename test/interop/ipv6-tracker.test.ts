/**
 * A whole swarm over IPv6 through a tracker: `shoal tracker` bound to ::1, a
 * python3-libtorrent seeder on [::1] that announces to it, and a shoal
 * download given nothing but the torrent (no --peer, no DHT, no LSD). shoal
 * can only find the seeder in the tracker's IPv6 answer: `peers6` over HTTP
 * (BEP 7), 18-byte entries over UDP (BEP 15).
 *
 * opentracker is not used here: Debian's build is IPv4 only (`opentracker -i
 * ::1` exits with "V4 Tracker is V4 only!").
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { httpGet } from '../../src/core/tracker/http-tracker.ts';
import { runShoal, spawnShoal, spawnTracked, trackProcesses, type Proc } from '../helpers/cli.ts';
import { cleanupTempDirs, sameFile, tempDir } from '../helpers/files.ts';
import { requirePeers, SYSTEM_PYTHON } from '../helpers/peers.ts';
import { createTorrent } from '../helpers/swarm.ts';
import { describeAll } from './libtorrent-swarm.ts';

trackProcesses();
vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 });
cleanupTempDirs();
requirePeers('libtorrent');

const script = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'helpers',
  'libtorrent_peer.py',
);

describe('a swarm on ::1 found through shoal tracker', () => {
  let work: string;
  let seedDir: string;
  let tracker: Proc;
  let port: number;

  beforeAll(async () => {
    work = tempDir('shoal-tracker6-');
    seedDir = path.join(work, 'seed');
    await mkdir(seedDir);
  });

  /** `shoal tracker` on ::1 only (a process per test: trackProcesses ends each test's). */
  const startTracker = async (): Promise<void> => {
    tracker = spawnShoal(['tracker', '--port', '0', '--bind', '::1', '--open', '--json'], {
      timeoutMs: 120_000,
    });
    const line = await tracker.waitFor(/\{"type":"listening".*\}/, 30_000, 'stdout');
    port = (JSON.parse(line[0]) as { port: number }).port;
  };

  /** Peers the tracker holds now, from its /stats over IPv6. */
  const trackedPeers = async (): Promise<number> => {
    const stats = await httpGet(`http://[::1]:${port}/stats`);
    return (JSON.parse(Buffer.from(stats.body).toString()) as { peers: number }).peers;
  };

  for (const scheme of ['http', 'udp'] as const) {
    it(`${scheme}: shoal finds a libtorrent seeder on [::1] only through the tracker`, async () => {
      await startTracker();
      const announce = `${scheme}://[::1]:${port}/announce`;
      const data = path.join(seedDir, `data-${scheme}.bin`);
      await writeFile(data, randomBytes(1024 * 1024));
      const { torrent } = await createTorrent(data, path.join(work, `${scheme}.torrent`), [
        '--piece-length',
        '16KiB',
        '-a',
        announce,
      ]);
      const seeder = spawnTracked(
        `libtorrent seed [::1] ${scheme}`,
        SYSTEM_PYTHON,
        [
          script,
          'seed',
          '--torrent',
          torrent,
          '--save',
          seedDir,
          '--listen-host',
          '::1',
          '--port',
          '0',
          '--timeout',
          '90',
        ],
        { timeoutMs: 100_000 },
      );
      const listening = await seeder.waitFor(/LISTENING (\d+)/, 20_000, 'stdout');
      await seeder.waitFor(/SEEDING/, 30_000, 'stdout');
      // The seeder announced over IPv6: the tracker holds it.
      const deadline = Date.now() + 30_000;
      while ((await trackedPeers()) === 0) {
        if (Date.now() > deadline)
          throw new Error(`seeder never announced\n${describeAll(seeder, tracker)}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }

      const out = tempDir(`shoal-tracker6-${scheme}-`);
      const result = await runShoal(
        ['download', torrent, '-o', out, '--no-dht', '--timeout', '40s', '--events'],
        { cwd: work, timeoutMs: 80_000 },
      );
      const context = `${result.stdout}\n${result.stderr}\n${describeAll(seeder, tracker)}`;
      expect(result.code, context).toBe(0);
      expect(await sameFile(data, path.join(out, `data-${scheme}.bin`))).toBe(true);
      expect(result.stdout, context).toContain(`"peer":"[::1]:${listening[1]}"`);
    });
  }
});
