/**
 * Loopback swarms of shoal processes only: `shoal seed` serving `shoal
 * download`, several leechers and several seeders, pieces spanning files and
 * empty files, --select, interruption (kill -9, SIGINT) and resume, a peer
 * vanishing in the middle of a piece, --timeout, and the --json summary.
 * Every result is compared byte for byte with the original data.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { runShoal, show, spawnShoal, trackProcesses } from '../helpers/cli.ts';
import {
  cleanupTempDirs,
  diffTrees,
  listFiles,
  makeTree,
  sameFile,
  spanningPayload,
  spanningTree,
  tempDir,
} from '../helpers/files.ts';
import {
  createTorrent,
  cuttingProxy,
  lastPercent,
  peerArg,
  startShoalSeeder,
  waitForPercent,
} from '../helpers/swarm.ts';

trackProcesses();
// Whole processes on a shared 2-core machine: generous bounds, never timing assertions.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });
cleanupTempDirs();

/** shoal's own state directory in a download directory (parts file of unselected files). */
const STATE = /^\.shoal(\/|$)/;

interface DownloadJson {
  name: string;
  infoHash: string;
  out: string;
  files: { path: string; length: number; selected: boolean }[];
  downloaded: number;
  uploaded: number;
  seconds: number;
  peers: number;
  status: string;
}

let work: string;
/** Parent directory of the multi-file payload (what `shoal seed -d` takes). */
let seedParent: string;
let payload: string;
let multi: { torrent: string; infoHash: string | null; totalSize: number };
let single: { torrent: string; totalSize: number };
let singleFile: string;

beforeAll(async () => {
  ({ work, seedParent, payload } = await spanningPayload('shoal-swarm-'));
  singleFile = path.join(seedParent, 'single.bin');
  await makeTree(seedParent, [{ path: 'single.bin', size: 4 * 1024 * 1024 + 12_345 }]);
  [multi, single] = await Promise.all([
    createTorrent(payload, path.join(work, 'payload.torrent'), ['--piece-length', '16KiB'], {
      cwd: work,
    }),
    createTorrent(singleFile, path.join(work, 'single.torrent'), ['--piece-length', '16KiB'], {
      cwd: work,
    }),
  ]);
});

describe('one seeder, three leechers', () => {
  it('all three get every byte, and --json has the documented shape', async () => {
    const seeder = await startShoalSeeder(multi.torrent, seedParent, [], { cwd: work });
    const outs = [1, 2, 3].map((n) => path.join(work, `leech-${n}`));
    const results = await Promise.all(
      outs.map((out) =>
        runShoal(
          [
            'download',
            multi.torrent,
            '-o',
            out,
            ...peerArg(seeder.port),
            '--timeout',
            '20s',
            '--json',
          ],
          {
            cwd: work,
            timeoutMs: 60_000,
          },
        ),
      ),
    );
    for (const [i, result] of results.entries()) {
      expect(result.code, show(result)).toBe(0);
      expect(await diffTrees(payload, path.join(outs[i], 'payload'))).toEqual([]);
      // Nothing but the torrent's own directory is written (no parts file: every file is selected).
      expect((await readdir(outs[i])).filter((name) => name !== '.shoal')).toEqual(['payload']);
      const doc = JSON.parse(result.stdout) as DownloadJson;
      expect(Object.keys(doc)).toEqual(
        expect.arrayContaining([
          'name',
          'infoHash',
          'out',
          'files',
          'downloaded',
          'uploaded',
          'seconds',
          'peers',
          'status',
        ]),
      );
      expect(doc.name).toBe('payload');
      expect(doc.infoHash).toBe(multi.infoHash);
      expect(doc.out).toBe(outs[i]);
      expect(doc.status).toBe('complete');
      expect(doc.downloaded).toBeGreaterThanOrEqual(multi.totalSize);
      expect(doc.peers).toBeGreaterThanOrEqual(1);
      expect(typeof doc.uploaded).toBe('number');
      expect(typeof doc.seconds).toBe('number');
      expect(doc.files.map((f) => [f.path, f.length, f.selected])).toEqual(
        spanningTree()
          .map((f) => [`payload/${f.path}`, f.size, true])
          .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
      );
    }
    expect(seeder.proc.running, seeder.proc.describe()).toBe(true);
  });
});

describe('several seeders', () => {
  it('a leecher downloads from two seeders at once', async () => {
    const [a, b] = await Promise.all([
      startShoalSeeder(multi.torrent, seedParent, [], { cwd: work }),
      startShoalSeeder(multi.torrent, seedParent, [], { cwd: work }),
    ]);
    const out = path.join(work, 'two-seeders');
    const result = await runShoal(
      [
        'download',
        multi.torrent,
        '-o',
        out,
        ...peerArg(a.port),
        ...peerArg(b.port),
        '--timeout',
        '20s',
        '--json',
      ],
      { cwd: work },
    );
    expect(result.code, show(result)).toBe(0);
    expect(await diffTrees(payload, path.join(out, 'payload'))).toEqual([]);
    expect((JSON.parse(result.stdout) as DownloadJson).peers).toBe(2);
  });

  it('one seeder killed mid-download: the other one finishes it', async () => {
    const [a, b] = await Promise.all([
      startShoalSeeder(single.torrent, seedParent, [], { cwd: work }),
      startShoalSeeder(single.torrent, seedParent, [], { cwd: work }),
    ]);
    const out = path.join(work, 'seeder-dies');
    const leecher = spawnShoal(
      [
        'download',
        single.torrent,
        '-o',
        out,
        ...peerArg(a.port),
        ...peerArg(b.port),
        '--download-limit',
        '1MiB',
        '--timeout',
        '20s',
      ],
      { cwd: work },
    );
    await waitForPercent(leecher, 15);
    a.proc.kill('SIGKILL');
    const result = await leecher.wait(60_000);
    expect(result.code, show(result)).toBe(0);
    expect(await sameFile(singleFile, path.join(out, 'single.bin'))).toBe(true);
  });
});

describe('peer failures', () => {
  it('a peer that vanishes in the middle of a piece: the piece is fetched again and the data is right', async () => {
    const seeder = await startShoalSeeder(single.torrent, seedParent, [], { cwd: work });
    // 1 MiB and a bit: well inside a piece message, some pieces done, some half-received.
    const proxy = await cuttingProxy(seeder.port, 1024 * 1024 + 7_777);
    try {
      const out = path.join(work, 'cut');
      const result = await runShoal(
        [
          'download',
          single.torrent,
          '-o',
          out,
          ...peerArg(proxy.port),
          '--timeout',
          '30s',
          '--json',
        ],
        { cwd: work, timeoutMs: 60_000 },
      );
      expect(result.code, show(result)).toBe(0);
      // Cut mid-piece, and still complete: the half-received piece came again over a new
      // connection, the leecher's through the proxy or the seeder's to the listen port the
      // leecher gave in its extension handshake (a peer that dialled in is dialled back).
      expect(proxy.cutAt).toBe(1024 * 1024 + 7_777);
      expect(await sameFile(singleFile, path.join(out, 'single.bin'))).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  it('--timeout with no peers at all: exit 4 with one line', async () => {
    const out = path.join(work, 'nobody');
    const result = await runShoal(['download', single.torrent, '-o', out, '--timeout', '2s'], {
      cwd: work,
    });
    expect(result.code, show(result)).toBe(4);
    const errors = result.stderr.split('\n').filter((line) => line.startsWith('shoal: error:'));
    expect(errors, result.stderr).toHaveLength(1);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('--timeout with a peer address where nobody listens: exit 4', async () => {
    const out = path.join(work, 'refused');
    // A port just freed by a seeder that is gone now.
    const gone = await startShoalSeeder(single.torrent, seedParent, [], { cwd: work });
    gone.proc.kill('SIGKILL');
    await gone.proc.wait();
    const result = await runShoal(
      ['download', single.torrent, '-o', out, ...peerArg(gone.port), '--timeout', '3s'],
      { cwd: work },
    );
    expect(result.code, show(result)).toBe(4);
  });
});

describe('interrupt and resume', () => {
  it('kill -9 mid-download, rerun: resumes from what was verified and completes', async () => {
    const seeder = await startShoalSeeder(single.torrent, seedParent, [], { cwd: work });
    const out = path.join(work, 'resume-kill');
    const first = spawnShoal(
      [
        'download',
        single.torrent,
        '-o',
        out,
        ...peerArg(seeder.port),
        '--download-limit',
        '1MiB',
        '--timeout',
        '20s',
      ],
      { cwd: work },
    );
    await waitForPercent(first, 30);
    first.kill('SIGKILL');
    await first.wait();
    const result = await runShoal(
      [
        'download',
        single.torrent,
        '-o',
        out,
        ...peerArg(seeder.port),
        '--timeout',
        '20s',
        '--json',
      ],
      { cwd: work },
    );
    expect(result.code, show(result)).toBe(0);
    expect(await sameFile(singleFile, path.join(out, 'single.bin'))).toBe(true);
    // What was verified before the kill is not fetched again.
    expect((JSON.parse(result.stdout) as DownloadJson).downloaded).toBeLessThan(single.totalSize);
  });

  it('SIGINT: exit 130 with a clean message; a rerun completes', async () => {
    const seeder = await startShoalSeeder(multi.torrent, seedParent, [], { cwd: work });
    const out = path.join(work, 'resume-int');
    const first = spawnShoal(
      [
        'download',
        multi.torrent,
        '-o',
        out,
        ...peerArg(seeder.port),
        '--download-limit',
        '512KiB',
        '--timeout',
        '20s',
      ],
      { cwd: work },
    );
    await waitForPercent(first, 20);
    const before = lastPercent(first);
    first.kill('SIGINT');
    const stopped = await first.wait(20_000);
    expect(stopped.code, show(stopped)).toBe(130);
    expect(stopped.stderr).toMatch(/shoal: error: interrupted/);
    expect(stopped.stderr).not.toMatch(/\n\s+at /);
    const result = await runShoal(
      ['download', multi.torrent, '-o', out, ...peerArg(seeder.port), '--timeout', '20s'],
      { cwd: work },
    );
    expect(result.code, show(result)).toBe(0);
    expect(await diffTrees(payload, path.join(out, 'payload'))).toEqual([]);
    const found = /(\d+)\/(\d+) pieces already on disk/.exec(result.stderr);
    expect(found, result.stderr).not.toBeNull();
    expect(Number(found![1]) / Number(found![2])).toBeGreaterThanOrEqual((before - 5) / 100);
  });
});

describe('--select', () => {
  it('writes only the chosen files (plus shoal state under .shoal/), each byte-exact', async () => {
    const seeder = await startShoalSeeder(multi.torrent, seedParent, [], { cwd: work });
    const inspected = await runShoal(['inspect', multi.torrent, '--json'], { cwd: work });
    const files = (JSON.parse(inspected.stdout) as { files: { path: string }[] }).files;
    // A file sharing its pieces with neighbours on both sides, a big one, and an empty one.
    const wanted = ['payload/docs/readme.txt', 'payload/media/b.bin', 'payload/docs/empty.txt'];
    const indexes = wanted.map((p) => files.findIndex((f) => f.path === p));
    expect(indexes).not.toContain(-1);
    const out = path.join(work, 'selected');
    const result = await runShoal(
      [
        'download',
        multi.torrent,
        '-o',
        out,
        '--select',
        indexes.join(','),
        ...peerArg(seeder.port),
        '--timeout',
        '20s',
        '--json',
      ],
      { cwd: work },
    );
    expect(result.code, show(result)).toBe(0);
    const doc = JSON.parse(result.stdout) as DownloadJson;
    expect(
      doc.files
        .filter((f) => f.selected)
        .map((f) => f.path)
        .sort(),
    ).toEqual([...wanted].sort());

    const onDisk = await listFiles(out);
    expect(onDisk.filter((p) => !STATE.test(p)).sort()).toEqual([...wanted].sort());
    // Documented: bytes of unselected files that share a piece with selected ones go to one
    // sparse parts file, .shoal/<infohash>.parts; nothing else is written.
    expect(onDisk.filter((p) => STATE.test(p))).toEqual([`.shoal/${multi.infoHash}.parts`]);
    for (const rel of wanted)
      expect(await sameFile(path.join(seedParent, rel), path.join(out, rel)), rel).toBe(true);

    // Selecting more later: the rest arrives, and the tree is complete and exact.
    const rest = await runShoal(
      ['download', multi.torrent, '-o', out, ...peerArg(seeder.port), '--timeout', '20s'],
      { cwd: work },
    );
    expect(rest.code, show(rest)).toBe(0);
    expect(await diffTrees(payload, path.join(out, 'payload'))).toEqual([]);
  });

  it('an index out of range is bad usage', async () => {
    const result = await runShoal(
      ['download', multi.torrent, '-o', path.join(work, 'x'), '--select', '99'],
      { cwd: work },
    );
    expect(result.code, show(result)).toBe(2);
    expect(existsSync(path.join(work, 'x', 'payload'))).toBe(false);
  });
});

describe('v2 and hybrid torrents between shoal peers', () => {
  it.each(['--v2', '--hybrid'])('%s: multi-file download is byte-exact', async (flag) => {
    const made = await createTorrent(
      payload,
      path.join(work, `payload${flag}.torrent`),
      [flag, '--piece-length', '16KiB'],
      { cwd: work },
    );
    const seeder = await startShoalSeeder(made.torrent, seedParent, [], { cwd: work });
    const out = path.join(work, `leech${flag}`);
    const result = await runShoal(
      ['download', made.torrent, '-o', out, ...peerArg(seeder.port), '--timeout', '20s'],
      { cwd: work },
    );
    expect(result.code, show(result)).toBe(0);
    expect(await diffTrees(payload, path.join(out, 'payload'))).toEqual([]);
  });
});

describe('more ways in and out', () => {
  it('seed PATH hashes in memory, prints the magnet and writes -o; a leecher uses that torrent', async () => {
    const torrent = path.join(work, 'from-path.torrent');
    const seeder = spawnShoal(['seed', payload, '-o', torrent, '--port', '0'], { cwd: work });
    const port = Number((await seeder.waitFor(/listening on port (\d+)/, 30_000, 'stderr'))[1]);
    const magnet = await seeder.waitFor(/^magnet:\?xt=urn:btih:([0-9a-f]{40})/m, 5_000, 'stdout');
    expect(seeder.stdout).toContain(torrent);
    expect(existsSync(torrent)).toBe(true);
    const out = path.join(work, 'from-path');
    const result = await runShoal(
      ['download', torrent, '-o', out, ...peerArg(port), '--timeout', '20s', '--json'],
      {
        cwd: work,
      },
    );
    expect(result.code, show(result)).toBe(0);
    expect((JSON.parse(result.stdout) as DownloadJson).infoHash).toBe(magnet[1]);
    expect(await diffTrees(payload, path.join(out, 'payload'))).toEqual([]);
  });

  it('download - reads the torrent from stdin; --verify re-reads it all; a rerun with no peers is done at once', async () => {
    const seeder = await startShoalSeeder(single.torrent, seedParent, [], { cwd: work });
    const out = path.join(work, 'stdin');
    const result = await runShoal(
      ['download', '-', '-o', out, ...peerArg(seeder.port), '--timeout', '20s', '--verify'],
      {
        cwd: work,
        stdin: await readFile(single.torrent),
      },
    );
    expect(result.code, show(result)).toBe(0);
    // Not --json: stdout is the path of what was downloaded.
    expect(result.stdout.trim()).toBe(path.join(out, 'single.bin'));
    expect(await sameFile(singleFile, path.join(out, 'single.bin'))).toBe(true);
    seeder.proc.kill('SIGKILL');
    const again = await runShoal(
      ['download', single.torrent, '-o', out, '--timeout', '5s', '--json'],
      { cwd: work },
    );
    expect(again.code, show(again)).toBe(0);
    const doc = JSON.parse(again.stdout) as DownloadJson;
    expect(doc.downloaded).toBe(0);
    expect(doc.status).toBe('complete');
  });

  it('seed refuses incomplete data with exit 6', async () => {
    const partial = tempDir('shoal-partial-');
    await makeTree(partial, [{ path: 'single.bin', size: 1000 }]);
    const result = await runShoal(['seed', single.torrent, '-d', partial, '--port', '0'], {
      cwd: work,
    });
    expect(result.code, show(result)).toBe(6);
    expect(result.stderr.split('\n').filter((l) => l.startsWith('shoal: error:'))).toHaveLength(1);
    expect(result.stderr, 'refused before it listens for peers').not.toMatch(/listening on port/);
  });

  it('download --seed-time keeps serving: a second leecher gets everything from the first', async () => {
    const seeder = await startShoalSeeder(multi.torrent, seedParent, [], { cwd: work });
    const first = spawnShoal(
      [
        'download',
        multi.torrent,
        '-o',
        path.join(work, 'relay'),
        ...peerArg(seeder.port),
        '--seed-time',
        '60s',
        '--timeout',
        '20s',
      ],
      { cwd: work },
    );
    const port = Number((await first.waitFor(/listening on port (\d+)/, 30_000, 'stderr'))[1]);
    await first.waitFor(/: seeding/, 30_000, 'stderr');
    // The original seeder leaves: the relay is the only source.
    seeder.proc.kill('SIGKILL');
    const out = path.join(work, 'after-relay');
    const result = await runShoal(
      ['download', multi.torrent, '-o', out, ...peerArg(port), '--timeout', '20s'],
      {
        cwd: work,
      },
    );
    expect(result.code, `${show(result)}\n${first.describe()}`).toBe(0);
    expect(await diffTrees(payload, path.join(out, 'payload'))).toEqual([]);
    expect(first.running, first.describe()).toBe(true);
    first.kill('SIGINT');
    expect((await first.wait(20_000)).code).toBe(130);
  });
});
