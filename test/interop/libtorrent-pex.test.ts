/**
 * Peer exchange (BEP 11, ut_pex) against python3-libtorrent (issue #13), both
 * ways, with peers nobody was told about:
 * - shoal learns a libtorrent seeder from a libtorrent peer's PEX: shoal is
 *   given only L1, a libtorrent downloader held to 2 kB/s (it could not pass
 *   the data on within the test); L1 is connected to seeder L2. shoal must dial L2 itself
 *   (a `peer-connected` event for L2's listening address) and get the data;
 * - libtorrent learns from shoal's PEX: a libtorrent downloader given only
 *   shoal and the libtorrent seeder shoal is downloading from must connect,
 *   one having dialled the other's listening address learned by PEX (only
 *   shoal knows both). shoal tells both in the same round, so either may dial
 *   first; when both do, libtorrent keeps one connection.
 * libtorrent sends its first PEX message as soon as it has two peers (then one
 * a minute), shoal within 5 s of a connection: no waiting for the minute.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { spawnShoal, trackProcesses } from '../helpers/cli.ts';
import { requirePeers } from '../helpers/peers.ts';
import { cleanupTempDirs, sameFile, tempDir } from '../helpers/files.ts';
import { createTorrent } from '../helpers/swarm.ts';
import { describeAll, startLt } from './libtorrent-swarm.ts';

trackProcesses();
vi.setConfig({ testTimeout: 90_000, hookTimeout: 60_000 });
cleanupTempDirs();
requirePeers('libtorrent');

describe('PEX interop with python3-libtorrent', () => {
  let work: string;
  let seedDir: string;
  let data: string;
  let torrent: string;

  beforeAll(async () => {
    work = tempDir('shoal-lt-pex-');
    seedDir = path.join(work, 'seed');
    data = path.join(seedDir, 'data.bin');
    await mkdir(seedDir);
    await writeFile(data, randomBytes(2 * 1024 * 1024));
    ({ torrent } = await createTorrent(data, path.join(work, 'data.torrent'), [
      '--piece-length',
      '16KiB',
    ]));
  });

  it("shoal finds a seeder it was never given in a libtorrent peer's PEX and downloads from it", async () => {
    const l2 = await startLt(['seed', '--torrent', torrent, '--save', seedDir]);
    await l2.proc.waitFor(/SEEDING/, 30_000, 'stdout');
    const l1 = await startLt([
      'download',
      '--torrent',
      torrent,
      '--save',
      tempDir('shoal-lt-pex-l1-'),
      '--peer',
      l2.address,
      // Enough for the handshakes, far too little to pass on 2 MiB within the test.
      '--download-limit',
      '2000',
      '--show-peers',
    ]);
    // L1 must already hold L2 when shoal arrives: its first PEX message is the one that counts.
    await l1.proc.waitFor(new RegExp(`PEER ${l2.address} `), 30_000, 'stdout');

    const out = tempDir('shoal-lt-pex-out-');
    const shoal = spawnShoal(
      ['download', torrent, '-o', out, '--peer', l1.address, '--timeout', '40s', '--events'],
      { cwd: work, timeoutMs: 70_000 },
    );
    const result = await shoal.exited;
    const context = describeAll(shoal, l1, l2);
    expect(result.code, context).toBe(0);
    expect(await sameFile(data, path.join(out, 'data.bin'))).toBe(true);
    const events = result.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { type: string; peer?: string; peers?: number });
    // L1 told us about L2, and we dialled L2's listening address (nobody else had it).
    expect(
      events.some((e) => e.type === 'pex' && (e.peers ?? 0) >= 1),
      context,
    ).toBe(true);
    expect(
      events.some((e) => e.type === 'peer-connected' && e.peer === l2.address),
      context,
    ).toBe(true);
  });

  it("a libtorrent downloader given only shoal finds shoal's seeder through shoal's PEX", async () => {
    const l2 = await startLt(['seed', '--torrent', torrent, '--save', seedDir, '--show-peers']);
    await l2.proc.waitFor(/SEEDING/, 30_000, 'stdout');
    // shoal downloads slowly from L2, so it is still connected to it when L3 arrives.
    const shoal = spawnShoal(
      [
        'download',
        torrent,
        '-o',
        tempDir('shoal-lt-pex-shoal-'),
        '--peer',
        l2.address,
        '--download-limit',
        '32KiB',
        '--timeout',
        '60s',
        '--events',
      ],
      { cwd: work, timeoutMs: 80_000 },
    );
    const listening = await shoal.waitFor(/"type":"listening".*?"port":(\d+)/, 30_000);
    await shoal.waitFor(new RegExp(`"type":"peer-connected".*?"peer":"${l2.address}"`));

    const l3 = await startLt(
      [
        'download',
        '--torrent',
        torrent,
        '--save',
        tempDir('shoal-lt-pex-l3-'),
        '--peer',
        `127.0.0.1:${listening[1]}`,
        '--exit-when-peer',
        l2.address,
        // Slow, so it is still downloading (and connected) when it sees L2.
        '--download-limit',
        '65536',
      ],
      60,
    );
    const result = await l3.proc.wait(70_000);
    const context = describeAll(l3, shoal, l2);
    expect(result.code, context).toBe(0);
    // L3 dialled L2's listening address or L2 dialled L3's, learned by PEX: shoal was L3's only
    // peer, and the only peer to know both. (When both dial, the kept connection may be either.)
    const l3Dialled = new RegExp(`PEER ${l2.address} pex,outgoing`).test(result.stdout);
    const l2Dialled = new RegExp(`PEER ${l3.address} pex,outgoing`).test(l2.proc.stdout);
    expect(l3Dialled || l2Dialled, context).toBe(true);
  });
});
