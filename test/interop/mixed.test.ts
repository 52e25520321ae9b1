/**
 * Mixed swarms on 127.0.0.1: shoal next to clients others wrote, all at once.
 * shoal downloads from a libtorrent seeder and an aria2c seeder together, and
 * `shoal seed` serves libtorrent, aria2c and shoal downloaders at the same
 * time. Every peer shares the IP address, so they are told apart by port.
 */
import path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { runShoal, show, spawnShoal, trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs, diffTrees, spanningPayload } from '../helpers/files.ts';
import {
  requirePeers,
  startAria2Leecher,
  startAria2Seeder,
  startLibtorrent,
} from '../helpers/peers.ts';
import { createTorrent, peerArg, startShoalSeeder } from '../helpers/swarm.ts';

trackProcesses();
// Whole processes on a shared 2-core machine: generous bounds, never timing assertions.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });
cleanupTempDirs();

describe('mixed swarms', () => {
  requirePeers('libtorrent', 'aria2c');
  let work: string;
  let seedParent: string;
  let payload: string;
  let torrent: string;

  beforeAll(async () => {
    ({ work, seedParent, payload } = await spanningPayload('shoal-mixed-'));
    ({ torrent } = await createTorrent(
      payload,
      path.join(work, 'payload.torrent'),
      ['--piece-length', '16KiB'],
      { cwd: work },
    ));
  });

  it('shoal downloads from a libtorrent and an aria2c seeder at once, and both supply data', async () => {
    const [lt, aria] = await Promise.all([
      startLibtorrent({ mode: 'seed', torrent, save: seedParent }),
      startAria2Seeder(torrent, seedParent),
    ]);
    const out = path.join(work, 'from-both');
    const result = await runShoal(
      [
        'download',
        torrent,
        '-o',
        out,
        ...peerArg(lt.port),
        ...peerArg(aria.port),
        // ~3 s for the 3 MB payload: long enough that neither seeder can be left out by
        // answering its handshake a little later than the other.
        '--download-limit',
        '1MiB',
        '--timeout',
        '20s',
        '--json',
      ],
      { cwd: work },
    );
    const context = `${show(result)}\n${lt.proc.describe()}\n${aria.proc.describe()}`;
    expect(result.code, context).toBe(0);
    expect(await diffTrees(payload, path.join(out, 'payload'))).toEqual([]);
    // Each seeder reports what it uploaded: libtorrent every second (`up=BYTES`), aria2c in
    // its periodic readout (`UL:rate(total)`). Both must have sent payload.
    await lt.proc.waitFor(/ up=[1-9]\d*/, 10_000, 'stderr');
    await aria.proc.waitFor(/UL:[^(\s]*\((?!0B\))[\d.]+[KMG]?i?B\)/, 10_000, 'stdout');
  });

  it('shoal seed serves libtorrent, aria2c and shoal downloaders at the same time', async () => {
    const outs = {
      lt: path.join(work, 'mix-lt'),
      aria: path.join(work, 'mix-aria'),
      shoal: path.join(work, 'mix-shoal'),
    };
    const aria = await startAria2Leecher(torrent, outs.aria);
    const seeder = await startShoalSeeder(torrent, seedParent, peerArg(aria.port), { cwd: work });
    const lt = await startLibtorrent({
      mode: 'download',
      torrent,
      save: outs.lt,
      peers: [`127.0.0.1:${seeder.port}`],
      timeoutS: 40,
    });
    const shoal = spawnShoal(
      ['download', torrent, '-o', outs.shoal, ...peerArg(seeder.port), '--timeout', '20s'],
      { cwd: work },
    );
    const [ltDone, ariaDone, shoalDone] = await Promise.all([
      lt.proc.wait(60_000),
      aria.proc.wait(60_000),
      shoal.wait(60_000),
    ]);
    const context = `${lt.proc.describe()}\n${aria.proc.describe()}\n${shoal.describe()}\n${seeder.proc.describe()}`;
    expect(ltDone.code, context).toBe(0);
    expect(ariaDone.code, context).toBe(0);
    expect(shoalDone.code, context).toBe(0);
    for (const out of Object.values(outs))
      expect(await diffTrees(payload, path.join(out, 'payload')), out).toEqual([]);
    expect(seeder.proc.running, seeder.proc.describe()).toBe(true);
  });
});
