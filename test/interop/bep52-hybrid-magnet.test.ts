/**
 * A hybrid (v1 + v2) torrent downloaded from its magnet link: its pieces are
 * checked by SHA-1, so no piece layer is ever fetched, yet
 * `--save-torrent X` writes a whole torrent: X carries the `piece layers`
 * built from the downloaded data (the same bytes as the .torrent the seeder
 * has), and a second shoal seeding from X with the data checks it.
 * The seeder is python3-libtorrent; the torrent is made by `shoal create
 * --hybrid` (16 KiB pieces, a file of more than 512 pieces).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { runShoal, show, trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs, diffTrees, makeTree, tempDir } from '../helpers/files.ts';
import { requirePeers } from '../helpers/peers.ts';
import { downloadSavingTorrent, topLevel } from './bep52-fixture.ts';

trackProcesses();
// Whole processes on a shared 2-core machine: generous bounds, never timing assertions.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 120_000 });
cleanupTempDirs();

describe('a hybrid downloaded from a magnet link', () => {
  requirePeers('libtorrent');
  let work: string;
  let seedParent: string;
  let payload: string;
  let torrent: string;
  let magnet: string;

  beforeAll(async () => {
    work = tempDir('shoal-bep52-hybrid-');
    seedParent = path.join(work, 'seed');
    payload = path.join(seedParent, 'payload');
    await makeTree(payload, [
      { path: 'big.bin', size: 600 * 16384 + 5000 },
      { path: 'c.txt', size: 3 },
      { path: 'sub/b.bin', size: 100_000 },
    ]);
    torrent = path.join(work, 'payload.torrent');
    const created = await runShoal(
      ['create', payload, '--hybrid', '--piece-length', '16KiB', '-o', torrent, '--json'],
      { cwd: work, timeoutMs: 60_000 },
    );
    expect(created.code, show(created)).toBe(0);
    magnet = (JSON.parse(created.stdout) as { magnet: string }).magnet;
  });

  it('--save-torrent writes the piece layers built from the downloaded data', async () => {
    const { out, saved } = await downloadSavingTorrent(work, magnet, torrent, seedParent);
    expect(await diffTrees(payload, path.join(out, 'payload'))).toEqual([]);
    const original = await readFile(torrent);
    const savedBytes = await readFile(saved);
    const layers = topLevel(savedBytes, 'piece layers');
    expect(layers, 'the saved torrent has no piece layers').not.toBeNull();
    expect(layers!.equals(topLevel(original, 'piece layers')!)).toBe(true);
    expect(topLevel(savedBytes, 'info')!.equals(topLevel(original, 'info')!)).toBe(true);
    // shoal loads it (a layer that did not match its root would be refused) and checks the data.
    const inspect = await runShoal(['inspect', saved, '--verify', out], { timeoutMs: 60_000 });
    expect(inspect.code, show(inspect)).toBe(0);
  });
});
