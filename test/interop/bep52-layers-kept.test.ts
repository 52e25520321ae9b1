/**
 * v2 piece layers that shoal fetched from peers (BEP 52 hash requests) are
 * kept, not thrown away with the process:
 * - `download MAGNET --save-torrent X` writes a whole v2 torrent: X carries
 *   `piece layers` (the same bytes as the torrent libtorrent made), and
 *   python3-libtorrent checks data on disk piece by piece with it (without
 *   layers it can only check a whole file against its root: one bad byte
 *   would cost it all of big.bin's 600 pieces, not one);
 * - a download of a .torrent without `piece layers`, interrupted, resumes
 *   with no peer to ask for layers: only a web seed, which serves data but
 *   no hashes. The rerun can verify what is on disk and what the web seed
 *   sends only with the layers saved by the first run.
 * The torrent is made by libtorrent (v2 only, 16 KiB pieces, a file of more
 * than 512 pieces).
 */
import { cp, open, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runShoal, show, spawnShoal, spawnTracked, trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs, diffTrees, tempDir } from '../helpers/files.ts';
import { startHttpFileServer, type HttpFileServer } from '../helpers/http-file-server.ts';
import { requirePeers, SYSTEM_PYTHON } from '../helpers/peers.ts';
import { peerArg, until } from '../helpers/swarm.ts';
import {
  downloadSavingTorrent,
  libtorrentSeeder,
  makeV2Payload,
  topLevel,
  withoutPieceLayers,
} from './bep52-fixture.ts';

trackProcesses();
const CHECK_SCRIPT = path.join(import.meta.dirname, 'bep52_check.py');
// Whole processes on a shared 2-core machine: generous bounds, never timing assertions.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 120_000 });
cleanupTempDirs();

describe('fetched v2 piece layers are kept', () => {
  requirePeers('libtorrent');
  let work: string;
  let seedParent: string;
  let payload: string;
  let torrent: string;
  let magnet: string;
  let mirror: HttpFileServer;

  beforeAll(async () => {
    work = tempDir('shoal-bep52-kept-');
    ({ seedParent, payload, torrent, magnet } = await makeV2Payload(work));
    mirror = await startHttpFileServer(seedParent);
  });

  afterAll(async () => {
    await mirror?.close();
  });

  it('--save-torrent with a v2 magnet writes the piece layers fetched from peers', async () => {
    const { out, saved } = await downloadSavingTorrent(work, magnet, torrent, seedParent);
    const savedBytes = await readFile(saved);
    const layers = topLevel(savedBytes, 'piece layers');
    expect(layers, 'the saved torrent has no piece layers').not.toBeNull();
    expect(layers!.equals(topLevel(await readFile(torrent), 'piece layers')!)).toBe(true);
    // The info dictionary is the magnet's, byte for byte.
    expect(topLevel(savedBytes, 'info')!.equals(topLevel(await readFile(torrent), 'info')!)).toBe(
      true,
    );
    // shoal loads it as a v2 torrent and checks the data against it.
    const inspect = await runShoal(['inspect', saved, '--verify', out], { timeoutMs: 60_000 });
    expect(inspect.code, show(inspect)).toBe(0);
    // libtorrent checks a copy with one bad byte in big.bin's piece 5 by piece.
    const damaged = path.join(work, 'damaged');
    await cp(out, damaged, { recursive: true });
    const big = await open(path.join(damaged, 'payload/big.bin'), 'r+');
    await big.write(Buffer.from([0]), 0, 1, 5 * 16384 + 7);
    await big.close();
    const check = spawnTracked('libtorrent check', SYSTEM_PYTHON, [
      CHECK_SCRIPT,
      '--torrent',
      saved,
      '--save',
      damaged,
    ]);
    const checked = await check.wait(90_000);
    const [, have, of] = /HAVE (\d+) OF (\d+)/.exec(checked.stdout) ?? [];
    expect(Number(have), check.describe()).toBe(Number(of) - 1);
  });

  it('a download of a .torrent without piece layers resumes with no peer to give them', async () => {
    const stripped = path.join(work, 'stripped.torrent');
    await writeFile(stripped, await withoutPieceLayers(torrent));
    const out = path.join(work, 'resumed');
    // First run: layers from the libtorrent seeder, slowly, stopped with Ctrl-C part way.
    const seeder = await libtorrentSeeder(torrent, seedParent);
    const first = spawnShoal(
      [
        'download',
        stripped,
        '-o',
        out,
        ...peerArg(seeder.port),
        '--download-limit',
        '256KiB',
        '--timeout',
        '60s',
      ],
      { cwd: work, timeoutMs: 120_000 },
    );
    // The journal has a record once a piece is verified, and a piece verifies only once
    // the layers are in.
    const stateDir = path.join(out, '.shoal');
    const journalHasRecord = async (): Promise<boolean> => {
      const names = await readdir(stateDir).catch(() => [] as string[]);
      const journal = names.find((name) => name.endsWith('.journal'));
      if (!journal) return false;
      const bytes = await readFile(path.join(stateDir, journal)).catch(() => Buffer.alloc(0));
      return bytes.length > 36;
    };
    let recorded = false;
    await until(
      () => {
        if (!first.running) throw new Error(`first run ended early\n${first.describe()}`);
        void journalHasRecord().then((yes) => (recorded ||= yes));
        return recorded;
      },
      60_000,
      () => first.describe(),
    );
    first.kill('SIGINT');
    const stopped = await first.wait(60_000);
    expect(stopped.code, first.describe()).toBe(130);
    seeder.proc.kill();

    // Second run: no peer at all, only the web seed (data, no hashes).
    const second = await runShoal(
      ['download', stripped, '-o', out, '--web-seed', `${mirror.origin}/`, '--timeout', '30s'],
      { cwd: work, timeoutMs: 120_000 },
    );
    expect(second.code, show(second)).toBe(0);
    expect(await diffTrees(payload, path.join(out, 'payload'))).toEqual([]);
  });
});
