/**
 * The DHT against python3-libtorrent's (issue #13): on a private DHT of
 * libtorrent nodes on 127.0.0.1, with no tracker and no peer given,
 * (a) shoal resolves a bare info-hash to a libtorrent seeder that announced
 * itself and downloads the data; (b) shoal seeds with only the DHT, announces
 * to libtorrent's nodes (one of them reports the announce_peer it stored),
 * and a libtorrent downloader that knows nothing but the info-hash finds
 * shoal there and completes. Both compare the data byte for byte.
 */
import path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { runShoal, show, trackProcesses } from '../helpers/cli.ts';
import { requirePeers } from '../helpers/peers.ts';
import { cleanupTempDirs, diffTrees, spanningPayload, tempDir } from '../helpers/files.ts';
import { createTorrent, startShoalSeeder } from '../helpers/swarm.ts';
import { describeAll, startLt, startLtDht } from './libtorrent-swarm.ts';

trackProcesses();
vi.setConfig({ testTimeout: 90_000, hookTimeout: 60_000 });
cleanupTempDirs();
requirePeers('libtorrent');

describe('DHT interop with python3-libtorrent', () => {
  let work: string;
  let seedParent: string;
  let payload: string;
  let torrent: string;
  let infoHash: string;

  beforeAll(async () => {
    ({ work, seedParent, payload } = await spanningPayload('shoal-lt-dht-'));
    const made = await createTorrent(payload, path.join(work, 'payload.torrent'), [
      '--piece-length',
      '16KiB',
    ]);
    torrent = made.torrent;
    infoHash = made.infoHash!;
  });

  it('shoal downloads a bare info-hash from a libtorrent seeder it finds through the DHT', async () => {
    const dht = await startLtDht();
    const seeder = await startLt([
      'seed',
      '--torrent',
      torrent,
      '--save',
      seedParent,
      '--dht-bootstrap',
      dht.entry,
    ]);
    await seeder.proc.waitFor(/SEEDING/, 30_000, 'stdout');
    // Start shoal once a node holds the seeder's announce: before that there is nothing to find.
    const announced = new RegExp(`DHT_ANNOUNCE ${infoHash} 127\\.0\\.0\\.1:${seeder.port}\\b`);
    await Promise.any(dht.nodes.map((node) => node.proc.waitFor(announced, 40_000, 'stdout')));

    const out = path.join(work, 'from-lt');
    const result = await runShoal(
      ['download', infoHash, '-o', out, '--dht-bootstrap', dht.entry, '--timeout', '40s', '--json'],
      // A fresh routing-table cache: nodes of earlier runs must not help or hinder.
      { cwd: work, env: { XDG_CACHE_HOME: tempDir('shoal-dht-cache-') }, timeoutMs: 60_000 },
    );
    expect(result.code, `${show(result)}\n${describeAll(seeder, ...dht.nodes)}`).toBe(0);
    expect(await diffTrees(payload, path.join(out, 'payload'))).toEqual([]);
    const doc = JSON.parse(result.stdout) as { peers: number; downloaded: number };
    expect(doc.peers).toBeGreaterThanOrEqual(1);
    expect(doc.downloaded).toBeGreaterThan(0);
  });

  it('a libtorrent downloader with only the info-hash finds shoal seed through the DHT', async () => {
    const dht = await startLtDht();
    const seeder = await startShoalSeeder(torrent, seedParent, ['--dht-bootstrap', dht.entry], {
      cwd: work,
      env: { XDG_CACHE_HOME: tempDir('shoal-dht-cache-') },
    });
    // A libtorrent node stored shoal's announce_peer: shoal speaks libtorrent's DHT.
    const announced = new RegExp(`DHT_ANNOUNCE ${infoHash} 127\\.0\\.0\\.1:${seeder.port}\\b`);
    await Promise.any(dht.nodes.map((node) => node.proc.waitFor(announced, 40_000, 'stdout')));

    const out = tempDir('shoal-lt-dht-out-');
    const leecher = await startLt(
      [
        'download',
        '--info-hash',
        infoHash,
        '--save',
        out,
        '--dht-bootstrap',
        dht.entry,
        '--show-peers',
      ],
      50,
    );
    const result = await leecher.proc.wait(60_000);
    expect(result.code, describeAll(leecher, seeder, ...dht.nodes)).toBe(0);
    // The only peer with the data is shoal, and the only way to it was the DHT.
    expect(result.stdout).toContain(`PEER 127.0.0.1:${seeder.port}`);
    expect(await diffTrees(payload, path.join(out, 'payload'))).toEqual([]);
    expect(seeder.proc.running, seeder.proc.describe()).toBe(true);
  });
});
