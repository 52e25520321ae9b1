/**
 * A hybrid (v1 + v2) torrent is in two swarms: a peer that knows it only by
 * its v2 info-hash (a magnet with `xt=urn:btmh:` alone) reaches a shoal
 * seeding it. python3-libtorrent downloads the btmh-only magnet from
 * `shoal seed`: it says the truncated v2 hash in its handshake, and drops a
 * connection answered with another hash. The torrent is made by `shoal
 * create --hybrid` (16 KiB pieces, a file of more than 512 pieces).
 */
import path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs, diffTrees, makeTree, tempDir } from '../helpers/files.ts';
import { createHybrid } from '../helpers/hybrid.ts';
import { requirePeers } from '../helpers/peers.ts';
import { freePort } from '../helpers/ports.ts';
import { startShoalSeeder } from '../helpers/swarm.ts';
import { python } from './bep52-fixture.ts';

trackProcesses();
// Whole processes on a shared 2-core machine: generous bounds, never timing assertions.
vi.setConfig({ testTimeout: 150_000, hookTimeout: 120_000 });
cleanupTempDirs();

describe('a hybrid reached by its v2 hash', () => {
  requirePeers('libtorrent');
  let work: string;
  let seedParent: string;
  let payload: string;
  let torrent: string;
  let v2Magnet: string;

  beforeAll(async () => {
    work = tempDir('shoal-hybrid-swarms-');
    seedParent = path.join(work, 'seed');
    payload = path.join(seedParent, 'payload');
    await makeTree(payload, [
      { path: 'big.bin', size: 600 * 16384 + 5000 },
      { path: 'c.txt', size: 3 },
    ]);
    torrent = path.join(work, 'payload.torrent');
    const { btmh } = await createHybrid(payload, torrent, work);
    v2Magnet = `magnet:?xt=urn:btmh:${btmh}&dn=payload`;
  });

  it('libtorrent downloads the btmh-only magnet from shoal seed', async () => {
    const seeder = await startShoalSeeder(torrent, seedParent, [], { cwd: work });
    const out = path.join(work, 'to-libtorrent');
    const leecher = python(
      'libtorrent download',
      [
        'download',
        '--magnet',
        v2Magnet,
        '--save',
        out,
        '--port',
        String(await freePort()),
        '--peer',
        `127.0.0.1:${seeder.port}`,
      ],
      60,
    );
    const result = await leecher.exited;
    seeder.proc.kill();
    expect(result.code, `${leecher.describe()}\n${seeder.proc.describe()}`).toBe(0);
    expect(result.stdout).toContain('COMPLETE');
    expect(await diffTrees(payload, path.join(out, 'payload'))).toEqual([]);
  });
});
