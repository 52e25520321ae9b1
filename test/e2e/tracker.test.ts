/**
 * A real tracker: Debian's opentracker on 127.0.0.1. A shoal seeder and shoal
 * leechers are given no peer addresses at all; they find each other only
 * through announces (HTTP for some, UDP for others: one swarm, since the
 * info-hash is the same). opentracker hands every peer its own address back,
 * which shoal must skip. When everyone has stopped, the swarm is empty: every
 * shoal process announced `stopped` on its way out.
 */
import path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { runShoal, show, spawnShoal, trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs, diffTrees, spanningPayload } from '../helpers/files.ts';
import { requirePeers, startOpentracker } from '../helpers/peers.ts';
import { createTorrent, startShoalSeeder } from '../helpers/swarm.ts';

trackProcesses();
// Whole processes on a shared 2-core machine: generous bounds, never timing assertions.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });
cleanupTempDirs();

const escapeHex = (hex: string) => hex.replace(/../g, (byte) => `%${byte}`);

/** Peers opentracker currently lists for `infoHash` (asked as a throwaway peer that then leaves). */
async function swarmPeers(
  url: string,
  infoHash: string,
): Promise<{ complete: number; incomplete: number; peers: number }> {
  const base = `${url}?info_hash=${escapeHex(infoHash)}&peer_id=${escapeHex('ee'.repeat(20))}&port=7&uploaded=0&downloaded=0&left=1&compact=1&numwant=50`;
  const body = Buffer.from(await (await fetch(base)).arrayBuffer());
  await fetch(`${base}&event=stopped`).then((r) => r.arrayBuffer());
  const text = body.toString('latin1');
  const number = (key: string) => Number(new RegExp(`${key}i(\\d+)e`).exec(text)?.[1] ?? NaN);
  // Compact peers, without our own probe (opentracker hands a peer its own address back).
  const at = body.indexOf('5:peers');
  const length = at < 0 ? 0 : Number(/^5:peers(\d+):/.exec(text.slice(at))![1]);
  const start = at < 0 ? 0 : text.indexOf(':', at + 7) + 1;
  let peers = 0;
  for (let i = start; i < start + length; i += 6) if (body.readUInt16BE(i + 4) !== 7) peers++;
  return {
    complete: number('8:complete'),
    // Our own probe counts as one incomplete peer.
    incomplete: number('10:incomplete') - 1,
    peers,
  };
}

describe('opentracker on 127.0.0.1', () => {
  requirePeers('opentracker');
  let work: string;
  let payload: string;

  beforeAll(async () => {
    ({ work, payload } = await spanningPayload('shoal-tracker-'));
  });

  it('seeder and leechers find each other only through the tracker, then leave the swarm', async () => {
    // The whitelist needs the info-hash before the tracker starts: hash once without trackers.
    const probe = await createTorrent(
      payload,
      path.join(work, 'probe.torrent'),
      ['--piece-length', '16KiB'],
      { cwd: work },
    );
    const tracker = await startOpentracker([probe.infoHash!]);
    const [http, udp] = await Promise.all([
      createTorrent(
        payload,
        path.join(work, 'http.torrent'),
        ['--piece-length', '16KiB', '-a', tracker.url],
        { cwd: work },
      ),
      createTorrent(
        payload,
        path.join(work, 'udp.torrent'),
        ['--piece-length', '16KiB', '-a', tracker.udpUrl],
        { cwd: work },
      ),
    ]);
    // Announce URLs live outside the info dictionary: one swarm for all three files.
    expect(http.infoHash).toBe(probe.infoHash);
    expect(udp.infoHash).toBe(probe.infoHash);

    const seeder = await startShoalSeeder(http.torrent, path.join(work, 'seed'), [], { cwd: work });
    const outs = ['leech-http-1', 'leech-http-2', 'leech-udp'].map((name) => path.join(work, name));
    const torrents = [http.torrent, http.torrent, udp.torrent];
    const leechers = outs.map((out, i) =>
      spawnShoal(['download', torrents[i], '-o', out, '--timeout', '30s', '--json'], { cwd: work }),
    );
    const results = await Promise.all(leechers.map((leecher) => leecher.wait(60_000)));
    for (const [i, result] of results.entries()) {
      expect(result.code, show(result)).toBe(0);
      expect(await diffTrees(payload, path.join(outs[i], 'payload'))).toEqual([]);
      const doc = JSON.parse(result.stdout) as { peers: number; downloaded: number };
      expect(doc.peers).toBeGreaterThanOrEqual(1);
    }

    // The seeder saw them through the tracker; now stop it cleanly.
    seeder.proc.kill('SIGINT');
    const stopped = await seeder.proc.wait(20_000);
    expect(stopped.code, show(stopped)).toBe(130);
    // Every shoal process told the tracker it left.
    const swarm = await swarmPeers(tracker.url, probe.infoHash!);
    expect(swarm, `${seeder.proc.describe()}`).toEqual({ complete: 0, incomplete: 0, peers: 0 });
  });

  it('a downloader whose only tracker has no seeder gives up with exit 4', async () => {
    const probe = await createTorrent(
      payload,
      path.join(work, 'lonely-probe.torrent'),
      ['--piece-length', '32KiB'],
      { cwd: work },
    );
    const tracker = await startOpentracker([probe.infoHash!]);
    const lonely = await createTorrent(
      payload,
      path.join(work, 'lonely.torrent'),
      ['--piece-length', '32KiB', '-a', tracker.url],
      { cwd: work },
    );
    const result = await runShoal(
      ['download', lonely.torrent, '-o', path.join(work, 'lonely'), '--timeout', '3s'],
      {
        cwd: work,
      },
    );
    expect(result.code, show(result)).toBe(4);
    // opentracker answered with the downloader's own address: shoal skipped it, so it knew
    // of no peer at all (a self-dial would read "no data received from 1 known peer(s)").
    expect(result.stderr).toMatch(/no peers found/);
  });
});
