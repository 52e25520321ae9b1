/**
 * Local Service Discovery from the command line: a `shoal seed` and a
 * `shoal download` in two network namespaces joined by a veth pair (a LAN
 * segment of their own) find each other with no tracker, no DHT and no
 * --peer; with --no-lsd the same download finds nobody.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNetnsPair, type NetnsPair } from '../core/discovery/lsd-netns.ts';
import { shoalCommand, show, spawnTracked, trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs, diffTrees, makeTree, spanningTree, tempDir } from '../helpers/files.ts';
import { createTorrent } from '../helpers/swarm.ts';

trackProcesses();
cleanupTempDirs();

let work: string;
let seedParent: string;
let torrent: string;
let pair: NetnsPair;

/** shoal inside namespace `ns` (`ip netns exec` execs it: the PID is shoal's). */
function shoalIn(ns: string, args: string[], timeoutMs = 60_000) {
  const { file, prefix } = shoalCommand();
  return spawnTracked(
    `shoal ${args[0]} in ${ns}`,
    'ip',
    ['netns', 'exec', ns, file, ...prefix, ...args],
    {
      timeoutMs,
      env: {
        NO_COLOR: '1',
        SHOAL_PROGRESS_INTERVAL: '1',
        SHOAL_NO_DHT: '1',
        SHOAL_NO_LSD: undefined,
      },
    },
  );
}

beforeAll(async () => {
  work = tempDir('shoal-e2e-lsd-');
  seedParent = path.join(work, 'seed');
  await makeTree(path.join(seedParent, 'payload'), spanningTree());
  // No announce URL: LSD is the only way the two can meet.
  ({ torrent } = await createTorrent(
    path.join(seedParent, 'payload'),
    path.join(work, 'p.torrent'),
  ));
  pair = createNetnsPair();
}, 60_000);
afterAll(() => pair?.remove());

describe('LSD between two shoal processes on one LAN segment', () => {
  it('the download finds the seeder by LSD alone; --no-lsd finds nobody', async () => {
    const seeder = shoalIn(
      pair.names[0],
      ['seed', torrent, '-d', seedParent, '--port', '0'],
      120_000,
    );
    try {
      await seeder.waitFor(/: seeding/, 30_000, 'stderr');
      const without = await shoalIn(pair.names[1], [
        'download',
        torrent,
        '-o',
        path.join(work, 'out-none'),
        '--no-lsd',
        '--timeout',
        '3s',
      ]).exited;
      expect(without.code, show(without)).toBe(4);

      const out = path.join(work, 'out');
      const result = await shoalIn(pair.names[1], [
        'download',
        torrent,
        '-o',
        out,
        '--timeout',
        '30s',
        '--json',
      ]).exited;
      expect(result.code, show(result)).toBe(0);
      expect(await diffTrees(path.join(seedParent, 'payload'), path.join(out, 'payload'))).toEqual(
        [],
      );
      expect(JSON.parse(result.stdout).peers).toBe(1);
    } finally {
      seeder.kill('SIGTERM');
    }
  }, 150_000);
});
