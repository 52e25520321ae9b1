/**
 * `--seed-until` from the command line, with shoal's own tracker on
 * 127.0.0.1: a publisher seeding with `--seed-until 'completed>=2'` serves
 * two downloads (each tells the tracker `completed` as it leaves), learns
 * the count from a scrape and exits 0 saying which condition ended it; `download
 * --seed-until 'time>=1s'` seeds after completing and stops by itself; a
 * mistake in the expression is exit 2 before any work.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runShoal, show, spawnShoal, trackProcesses, type Proc } from '../helpers/cli.ts';
import { cleanupTempDirs, diffTrees, spanningPayload } from '../helpers/files.ts';
import { createTorrent, peerArg, startShoalSeeder } from '../helpers/swarm.ts';

trackProcesses();
cleanupTempDirs();

let work: string;
let seedParent: string;
let payload: string;
let torrent: string;
let tracker: Proc;

beforeAll(async () => {
  ({ work, seedParent, payload } = await spanningPayload('shoal-seed-until-'));
  tracker = spawnShoal(['tracker', '--port', '0', '--bind', '127.0.0.1', '--open', '--json'], {
    timeoutMs: 170_000,
  });
  const match = await tracker.waitFor(/\{"type":"listening".*\}/, 30_000, 'stdout');
  const { port } = JSON.parse(match[0]) as { port: number };
  ({ torrent } = await createTorrent(payload, path.join(work, 'p.torrent'), [
    '--announce',
    `http://127.0.0.1:${port}/announce`,
  ]));
}, 60_000);
afterAll(() => tracker?.kill('SIGTERM'));

describe('--seed-until', () => {
  it('a publisher leaves once the trackers count N completed downloads, and says so', async () => {
    // The publisher is the only seeder; each runner tells the tracker `completed` as it leaves.
    const publisher = spawnShoal(
      ['seed', torrent, '-d', seedParent, '--port', '0', '--seed-until', 'completed>=2 | time>=2m'],
      { timeoutMs: 150_000 },
    );
    await publisher.waitFor(/: seeding/, 30_000, 'stderr');
    for (const name of ['runner-1', 'runner-2']) {
      const out = path.join(work, name);
      const result = await runShoal(['download', torrent, '-o', out, '--timeout', '30s'], {
        timeoutMs: 60_000,
      });
      expect(result.code, show(result)).toBe(0);
      expect(await diffTrees(payload, path.join(out, 'payload'))).toEqual([]);
    }
    const ended = await publisher.exited;
    expect(ended.code, show(ended)).toBe(0);
    expect(ended.stderr).toMatch(/seeding ended: completed>=2 \(2 completed\)/);
  }, 150_000);

  it('download --seed-until seeds after completing, then stops by itself', async () => {
    const seeder = await startShoalSeeder(torrent, seedParent);
    try {
      const result = await runShoal(
        [
          'download',
          torrent,
          '-o',
          path.join(work, 'runner-3'),
          ...peerArg(seeder.port),
          '--seed-until',
          'time>=1s',
          '--json',
        ],
        { timeoutMs: 60_000 },
      );
      expect(result.code, show(result)).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({
        status: 'seeded',
        endedBy: expect.stringMatching(/^time>=1s/),
      });
    } finally {
      seeder.proc.kill('SIGTERM');
    }
  }, 90_000);

  it('a mistake in the expression, or with --seed-time, is bad usage (exit 2), one line', async () => {
    const typo = await runShoal(['seed', torrent, '-d', seedParent, '--seed-until', 'complted>=2']);
    expect(typo.code, show(typo)).toBe(2);
    expect(typo.stderr.trim().split('\n')).toHaveLength(1);
    expect(typo.stderr).toMatch(/invalid --seed-until "complted>=2"/);
    const both = await runShoal([
      'download',
      torrent,
      '--seed-until',
      'time>=1s',
      '--seed-time',
      '1s',
    ]);
    expect(both.code, show(both)).toBe(2);
  });
});
