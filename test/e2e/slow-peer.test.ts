/**
 * A lone slow peer: requests to it time out (its upload limit queues them
 * past our timeout) and are cancelled. The download must ask it again for
 * those blocks once nothing else is left, or it stalls for good with the
 * peer connected (it did: at ~70% of this torrent, exit 4 after --timeout).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runShoal, show, trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs, diffTrees, makeTree, tempDir } from '../helpers/files.ts';
import { createTorrent, peerArg, startShoalSeeder } from '../helpers/swarm.ts';

trackProcesses();
cleanupTempDirs();

describe('a lone slow seeder', () => {
  it('delivers the whole torrent, timed-out blocks included', async () => {
    const work = tempDir('shoal-slow-peer-');
    const parent = path.join(work, 'src');
    await makeTree(path.join(parent, 'payload'), [
      { path: 'a.bin', size: 3_500_000 },
      { path: 'b.bin', size: 2_800_000 },
    ]);
    const { torrent } = await createTorrent(
      path.join(parent, 'payload'),
      path.join(work, 'p.torrent'),
      ['--piece-length', '16KiB'],
    );
    const seeder = await startShoalSeeder(torrent, parent, ['--upload-limit', '256KiB']);
    const out = path.join(work, 'out');
    const result = await runShoal(
      ['download', torrent, '-o', out, ...peerArg(seeder.port), '--timeout', '45s'],
      { timeoutMs: 120_000 },
    );
    expect(result.code, show(result)).toBe(0);
    expect(await diffTrees(path.join(parent, 'payload'), path.join(out, 'payload'))).toEqual([]);
  }, 150_000);
});
