/**
 * One DHT node per daemon, shared by its torrents: on a private DHT of
 * python3-libtorrent nodes on 127.0.0.1, three libtorrent seeders announce
 * three torrents; `shoal daemon`, joined through that DHT only (no tracker
 * answers, no peer given), finds each seeder and completes all three, and
 * the daemon process has exactly one UDP socket open (the DHT's; its peers
 * use TCP), where a node per torrent had three.
 */
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { parseTorrent, toHex } from '../../src/core/metainfo/index.ts';
import { trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs, sameFile, tempDir } from '../helpers/files.ts';
import { requirePeers } from '../helpers/peers.ts';
import { describeAll, startLt, startLtDht } from '../interop/libtorrent-swarm.ts';
import { dataWithTorrent, startDaemon, waitForTorrents } from '../core/daemon/daemon-fixtures.ts';

trackProcesses();
cleanupTempDirs();
vi.setConfig({ testTimeout: 300_000, hookTimeout: 60_000 });

/** UDP sockets the process `pid` has open, as `ss` lists them (local address:port). */
function udpSockets(pid: number): string[] {
  const out = execFileSync('/usr/bin/ss', ['-uanp'], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((line) => line.includes(`pid=${pid},`))
    .map((line) => line.trim().split(/\s+/)[3] ?? line);
}

describe('shoal daemon: one DHT node for all its torrents', () => {
  requirePeers('libtorrent');

  it('three torrents find their libtorrent seeders through one DHT socket', async () => {
    const dht = await startLtDht();
    const seedDir = tempDir('shoal-daemon-dht-seed-');
    const made = await Promise.all(
      ['a.bin', 'b.bin', 'c.bin'].map((name) => dataWithTorrent(seedDir, name, 1024 * 1024)),
    );
    const seeders = [];
    for (const { torrent } of made) {
      const seeder = await startLt([
        'seed',
        '--torrent',
        torrent,
        '--save',
        seedDir,
        '--dht-bootstrap',
        dht.entry,
      ]);
      await seeder.proc.waitFor(/SEEDING/, 30_000, 'stdout');
      seeders.push(seeder);
    }
    // Each seeder's announce is stored on a node before the daemon looks: then it is there to find.
    for (const [i, { torrent }] of made.entries()) {
      const hash = toHex(parseTorrent(await readFile(torrent)).infoHash!);
      const announced = new RegExp(`DHT_ANNOUNCE ${hash} 127\\.0\\.0\\.1:${seeders[i].port}\\b`);
      await Promise.any(dht.nodes.map((node) => node.proc.waitFor(announced, 60_000, 'stdout')));
    }

    const daemon = await startDaemon(undefined, [], { dhtBootstrap: dht.entry });
    for (const { torrent } of made) {
      await daemon.rpc.call('torrent-add', {
        metainfo: (await readFile(torrent)).toString('base64'),
      });
    }
    try {
      await waitForTorrents(
        daemon.rpc,
        (list) => list.length === 3 && list.every((t) => t.totalSize > 0 && t.leftUntilDone === 0),
        'all three complete from DHT peers',
        180_000,
      );
    } catch (error) {
      throw new Error(
        `${(error as Error).message}\n${describeAll(daemon.proc, ...seeders, ...dht.nodes)}`,
        { cause: error },
      );
    }
    for (const { data } of made) {
      expect(await sameFile(data, path.join(daemon.downloadDir, path.basename(data)))).toBe(true);
    }
    // The torrents are still running (seeding), each with its DHT discovery: one socket for all.
    expect(udpSockets(daemon.proc.pid)).toHaveLength(1);

    daemon.proc.kill('SIGTERM');
    expect((await daemon.proc.wait(60_000)).code, daemon.proc.describe()).toBe(0);
    for (const peer of [...seeders, ...dht.nodes]) peer.proc.kill();
  });
});
