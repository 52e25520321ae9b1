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
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeBencode } from '../../src/core/bencode/index.ts';
import { runShoal, show, spawnTracked, trackProcesses, type Proc } from '../helpers/cli.ts';
import { cleanupTempDirs, diffTrees, makeTree, tempDir } from '../helpers/files.ts';
import { requirePeers, SYSTEM_PYTHON } from '../helpers/peers.ts';
import { freePort } from '../helpers/ports.ts';
import { peerArg, startShoalSeeder } from '../helpers/swarm.ts';

trackProcesses();
// Whole processes on a shared 2-core machine: generous bounds, never timing assertions.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });
cleanupTempDirs();

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'bep52_libtorrent.py');

function python(name: string, args: string[], timeoutS = 90): Proc {
  return spawnTracked(name, SYSTEM_PYTHON, [SCRIPT, ...args, '--timeout', String(timeoutS)], {
    timeoutMs: (timeoutS + 15) * 1000,
  });
}

/** The .torrent without its top-level `piece layers` (info dictionary untouched, byte for byte). */
function withoutPieceLayers(torrent: Uint8Array): Uint8Array {
  const { topLevelRanges } = decodeBencode(torrent);
  const [start, end] = topLevelRanges.get('piece layers')!;
  const key = Buffer.from('12:piece layers');
  expect(Buffer.from(torrent.subarray(start - key.length, start)).equals(key)).toBe(true);
  return Buffer.concat([torrent.subarray(0, start - key.length), torrent.subarray(end)]);
}

describe('BEP 52 hash requests with python3-libtorrent', () => {
  requirePeers('libtorrent');
  let work: string;
  let seedParent: string;
  let payload: string;
  let torrent: string;
  let magnet: string;

  beforeAll(async () => {
    work = tempDir('shoal-bep52-');
    seedParent = path.join(work, 'seed');
    payload = path.join(seedParent, 'payload');
    await makeTree(payload, [
      { path: 'big.bin', size: 600 * 16384 + 5000 },
      { path: 'c.txt', size: 3 },
      { path: 'sub/b.bin', size: 100_000 },
    ]);
    torrent = path.join(work, 'payload.torrent');
    const made = python('libtorrent make', [
      'make',
      '--data',
      payload,
      '--out',
      torrent,
      '--piece-length',
      '16384',
    ]);
    const result = await made.exited;
    expect(result.code, made.describe()).toBe(0);
    const v2 = /INFOHASH_V2 ([0-9a-f]{64})/.exec(result.stdout)![1];
    magnet = `magnet:?xt=urn:btmh:1220${v2}&dn=payload`;
  });

  async function libtorrentSeeder(torrentFile: string): Promise<{ proc: Proc; port: number }> {
    const port = await freePort();
    const proc = python('libtorrent seed', [
      'seed',
      '--torrent',
      torrentFile,
      '--save',
      seedParent,
      '--port',
      String(port),
    ]);
    await proc.waitFor(/SEEDING/, 30_000, 'stdout');
    return { proc, port };
  }

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
    await writeFile(stripped, withoutPieceLayers(await readFile(torrent)));
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
      '--port',
      String(await freePort()),
      '--peer',
      `127.0.0.1:${seeder.port}`,
    ]);
    const result = await leecher.exited;
    expect(result.code, `${leecher.describe()}\n${seeder.proc.describe()}`).toBe(0);
    expect(result.stdout).toContain('COMPLETE');
    expect(await diffTrees(payload, path.join(out, 'payload'))).toEqual([]);
  });
});
