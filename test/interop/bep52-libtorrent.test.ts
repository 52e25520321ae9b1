/**
 * BEP 52 hash requests against python3-libtorrent 2.0: v2-only torrents made
 * by libtorrent itself (create_torrent with v2_only), whose piece layers shoal
 * must fetch from the peer because it does not have them:
 * - a v2-only magnet link (`urn:btmh:`) downloaded from a libtorrent seeder;
 * - the same torrent as a .torrent with its `piece layers` stripped;
 * - and the other way: libtorrent downloading the v2-only magnet from
 *   `shoal seed`, which answers its hash requests.
 * big.bin has more than 512 pieces of 16 KiB, so the layer takes two
 * requests and the answers carry uncle hashes; the last file ends inside a
 * piece (libtorrent asks for that piece whole). Results are compared byte
 * for byte.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { runShoal, show, trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs, diffTrees, tempDir } from '../helpers/files.ts';
import { requirePeers } from '../helpers/peers.ts';
import { peerArg, startShoalSeeder } from '../helpers/swarm.ts';
import {
  libtorrentSeeder as seederOf,
  makeV2Payload,
  python,
  withoutPieceLayers,
} from './bep52-fixture.ts';

trackProcesses();
// Whole processes on a shared 2-core machine: generous bounds, never timing assertions.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });
cleanupTempDirs();

describe('BEP 52 hash requests with python3-libtorrent', () => {
  requirePeers('libtorrent');
  let work: string;
  let seedParent: string;
  let payload: string;
  let torrent: string;
  let magnet: string;

  beforeAll(async () => {
    work = tempDir('shoal-bep52-');
    ({ seedParent, payload, torrent, magnet } = await makeV2Payload(work));
  });

  const libtorrentSeeder = (torrentFile: string) => seederOf(torrentFile, seedParent);

  it('shoal downloads a v2-only magnet link from a libtorrent seeder', async () => {
    const seeder = await libtorrentSeeder(torrent);
    const out = path.join(work, 'from-magnet');
    const result = await runShoal(
      ['download', magnet, '-o', out, ...peerArg(seeder.port), '--timeout', '30s'],
      { cwd: work, timeoutMs: 90_000 },
    );
    expect(result.code, `${show(result)}\n${seeder.proc.describe()}`).toBe(0);
    expect(await diffTrees(payload, path.join(out, 'payload'))).toEqual([]);
  });

  it('shoal downloads a v2 .torrent without piece layers from a libtorrent seeder', async () => {
    const stripped = path.join(work, 'stripped.torrent');
    await writeFile(stripped, await withoutPieceLayers(torrent));
    const seeder = await libtorrentSeeder(torrent);
    const out = path.join(work, 'from-stripped');
    const result = await runShoal(
      ['download', stripped, '-o', out, ...peerArg(seeder.port), '--timeout', '30s'],
      { cwd: work, timeoutMs: 90_000 },
    );
    expect(result.code, `${show(result)}\n${seeder.proc.describe()}`).toBe(0);
    expect(await diffTrees(payload, path.join(out, 'payload'))).toEqual([]);
  });

  it('libtorrent downloads the v2-only magnet link from shoal seed', async () => {
    const seeder = await startShoalSeeder(torrent, seedParent, [], { cwd: work });
    const out = path.join(work, 'to-libtorrent');
    const leecher = python('libtorrent download', [
      'download',
      '--magnet',
      magnet,
      '--save',
      out,
      // Any port: libtorrent dials the seeder; nothing dials it.
      '--port',
      '0',
      '--peer',
      `127.0.0.1:${seeder.port}`,
    ]);
    const result = await leecher.exited;
    expect(result.code, `${leecher.describe()}\n${seeder.proc.describe()}`).toBe(0);
    expect(result.stdout).toContain('COMPLETE');
    expect(await diffTrees(payload, path.join(out, 'payload'))).toEqual([]);
  });
});
