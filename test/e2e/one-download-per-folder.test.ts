/**
 * Two `shoal download` runs of one torrent into one folder would race on its
 * resume state: the second must refuse at once (exit 2, one line naming the
 * running process), leaving the first to finish; a lock left behind by
 * `kill -9` must not block the next run.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runShoal, show, spawnShoal, trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs, diffTrees, makeTree, tempDir } from '../helpers/files.ts';
import { createTorrent, peerArg, startShoalSeeder } from '../helpers/swarm.ts';

trackProcesses();
cleanupTempDirs();

let work: string;
let dataParent: string;
let torrent: string;
let infoHash: string;

beforeAll(async () => {
  work = tempDir('shoal-lock-e2e-');
  dataParent = path.join(work, 'src');
  await makeTree(path.join(dataParent, 'payload'), [{ path: 'one.bin', size: 3_000_000 }]);
  ({ torrent, infoHash } = (await createTorrent(
    path.join(dataParent, 'payload'),
    path.join(work, 'p.torrent'),
    ['--piece-length', '64KiB'],
  )) as { torrent: string; infoHash: string });
}, 60_000);

describe('one download of a torrent per folder', () => {
  it('refuses a second run while the first is downloading, and the first completes', async () => {
    const seeder = await startShoalSeeder(torrent, dataParent);
    const out = path.join(work, 'out-twice');
    const args = ['download', torrent, '-o', out, ...peerArg(seeder.port), '--timeout', '60s'];
    const first = spawnShoal([...args, '--download-limit', '512KiB']);
    await first.waitFor(/: downloading/, 30_000, 'stderr');
    const lock = path.join(out, '.shoal', `${infoHash}.lock`);
    expect(JSON.parse(readFileSync(lock, 'utf8')).pid).toBe(first.pid);

    const second = await runShoal(args, { timeoutMs: 30_000 });
    expect(second.code, show(second)).toBe(2);
    const lines = second.stderr.trim().split('\n');
    expect(lines.at(-1)).toMatch(
      new RegExp(`^shoal: error: .* is in use by another shoal \\(process ${first.pid}\\)`),
    );

    const done = await first.wait(90_000);
    expect(done.code, first.describe()).toBe(0);
    expect(await diffTrees(path.join(dataParent, 'payload'), path.join(out, 'payload'))).toEqual(
      [],
    );
    expect(existsSync(path.join(out, '.shoal'))).toBe(false); // lock gone with the state
    seeder.proc.kill('SIGTERM');
  }, 180_000);

  it('takes over the lock a killed run left behind', async () => {
    const seeder = await startShoalSeeder(torrent, dataParent);
    const out = path.join(work, 'out-killed');
    const args = ['download', torrent, '-o', out, ...peerArg(seeder.port), '--timeout', '60s'];
    const killed = spawnShoal([...args, '--download-limit', '512KiB']);
    await killed.waitFor(/: downloading/, 30_000, 'stderr');
    killed.kill('SIGKILL');
    await killed.wait(10_000);
    expect(existsSync(path.join(out, '.shoal', `${infoHash}.lock`))).toBe(true);

    const rerun = await runShoal(args, { timeoutMs: 90_000 });
    expect(rerun.code, show(rerun)).toBe(0);
    expect(await diffTrees(path.join(dataParent, 'payload'), path.join(out, 'payload'))).toEqual(
      [],
    );
    seeder.proc.kill('SIGTERM');
  }, 180_000);
});
