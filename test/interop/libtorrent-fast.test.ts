/**
 * The fast extension (BEP 6) against python3-libtorrent (issue #13), read
 * from libtorrent's own per-peer wire log (`--peer-log`: `==>` what it sent,
 * `<==` what it received):
 * - shoal downloading from a libtorrent seeder: libtorrent sends have-all
 *   (never a bitfield) and allowed-fast, shoal opens with have-none, and the
 *   download completes (shoal learns the seeder has every piece from have-all
 *   alone: misreading it, shoal would want nothing from it and stall);
 * - libtorrent downloading from shoal seed: shoal sends have-all, no bitfield;
 * - reject: libtorrent chokes shoal mid-download (as its choker does to make
 *   room for others) and rejects the requests it had queued; shoal asks for
 *   every rejected block again once unchoked and completes.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { runShoal, show, trackProcesses } from '../helpers/cli.ts';
import { requirePeers } from '../helpers/peers.ts';
import { cleanupTempDirs, sameFile, tempDir } from '../helpers/files.ts';
import { createTorrent, startShoalSeeder } from '../helpers/swarm.ts';
import { describeAll, startLt } from './libtorrent-swarm.ts';

trackProcesses();
vi.setConfig({ testTimeout: 90_000, hookTimeout: 60_000 });
cleanupTempDirs();
requirePeers('libtorrent');

/** libtorrent's wire log lines `==> NAME [ ... ]` / `<== NAME [ ... ]`, in order. */
function wireLog(stderr: string): { dir: '==>' | '<=='; name: string; args: string }[] {
  return [...stderr.matchAll(/^peerlog \S+ \S+ (==>|<==) (\w+) \[(.*)\]$/gm)].map((m) => ({
    dir: m[1] as '==>' | '<==',
    name: m[2]!,
    args: m[3]!,
  }));
}

describe('fast extension interop with python3-libtorrent', () => {
  let work: string;
  let seedDir: string;
  let data: string;
  let torrent: string;

  beforeAll(async () => {
    work = tempDir('shoal-lt-fast-');
    seedDir = path.join(work, 'seed');
    data = path.join(seedDir, 'data.bin');
    await mkdir(seedDir);
    await writeFile(data, randomBytes(2 * 1024 * 1024));
    ({ torrent } = await createTorrent(data, path.join(work, 'data.torrent'), [
      '--piece-length',
      '16KiB',
    ]));
  });

  it('a libtorrent seeder sends shoal have-all and allowed-fast; shoal sends have-none and completes', async () => {
    const seeder = await startLt(['seed', '--torrent', torrent, '--save', seedDir, '--peer-log']);
    await seeder.proc.waitFor(/SEEDING/, 30_000, 'stdout');
    const out = tempDir('shoal-lt-fast-out-');
    const result = await runShoal(
      ['download', torrent, '-o', out, '--peer', seeder.address, '--timeout', '30s'],
      { cwd: work },
    );
    expect(result.code, `${show(result)}\n${seeder.proc.describe()}`).toBe(0);
    expect(await sameFile(data, path.join(out, 'data.bin'))).toBe(true);

    const log = wireLog(seeder.proc.stderr);
    const sent = log.filter((l) => l.dir === '==>').map((l) => l.name);
    const received = log.filter((l) => l.dir === '<==').map((l) => l.name);
    expect(sent, seeder.proc.describe()).toContain('HAVE_ALL');
    expect(sent).not.toContain('BITFIELD');
    expect(sent).toContain('ALLOWED_FAST');
    expect(received).toContain('HAVE_NONE');
    expect(received).not.toContain('BITFIELD');
    expect(received).toContain('REQUEST');
  });

  it('shoal seed sends a libtorrent downloader have-all, not a bitfield', async () => {
    const seeder = await startShoalSeeder(torrent, seedDir, [], { cwd: work });
    const out = tempDir('shoal-lt-fast-lt-');
    const leecher = await startLt(
      [
        'download',
        '--torrent',
        torrent,
        '--save',
        out,
        '--peer',
        `127.0.0.1:${seeder.port}`,
        '--peer-log',
      ],
      40,
    );
    const result = await leecher.proc.wait(60_000);
    expect(result.code, describeAll(leecher, seeder)).toBe(0);
    expect(await sameFile(data, path.join(out, 'data.bin'))).toBe(true);
    const received = wireLog(leecher.proc.stderr)
      .filter((l) => l.dir === '<==')
      .map((l) => l.name);
    expect(received, leecher.proc.describe()).toContain('HAVE_ALL');
    expect(received).not.toContain('BITFIELD');
  });

  it('libtorrent rejects queued requests when it chokes shoal; shoal asks for them again and completes', async () => {
    const seeder = await startLt([
      'seed',
      '--torrent',
      torrent,
      '--save',
      seedDir,
      '--peer-log',
      // Slow enough that shoal always has requests queued at the seeder.
      '--upload-limit',
      '300000',
      '--choke-after',
      '300000',
      '--choke-for',
      '2',
    ]);
    await seeder.proc.waitFor(/SEEDING/, 30_000, 'stdout');
    const out = tempDir('shoal-lt-fast-reject-');
    const result = await runShoal(
      ['download', torrent, '-o', out, '--peer', seeder.address, '--timeout', '30s'],
      { cwd: work, timeoutMs: 70_000 },
    );
    const context = `${show(result)}\n${seeder.proc.describe()}`;
    expect(result.code, context).toBe(0);
    expect(await sameFile(data, path.join(out, 'data.bin'))).toBe(true);
    expect(seeder.proc.stdout, context).toMatch(/CHOKED\nUNCHOKED/);

    // REJECT_PIECE prints decimal `piece: 5 | s: 0 | l: 16384`; REQUEST `piece: 5 s: 0 l: 4000` (s, l hex).
    const block = (args: string, radix: number) => {
      const [, piece, start] = /piece: (\d+)\D+?s: ([0-9a-f]+)/.exec(args) ?? [];
      return `${piece}/${parseInt(start ?? '', radix)}`;
    };
    const log = wireLog(seeder.proc.stderr);
    const rejected = new Map<string, number>();
    log.forEach((line, at) => {
      if (line.dir === '==>' && line.name === 'REJECT_PIECE')
        rejected.set(block(line.args, 10), at);
    });
    expect(rejected.size, context).toBeGreaterThan(0);
    const askedAgain = [...rejected].filter(([key, at]) =>
      log.some(
        (line, later) =>
          later > at &&
          line.dir === '<==' &&
          line.name === 'REQUEST' &&
          block(line.args, 16) === key,
      ),
    );
    expect(askedAgain.length, `rejected: ${[...rejected.keys()].join(' ')}`).toBe(rejected.size);
  });
});
