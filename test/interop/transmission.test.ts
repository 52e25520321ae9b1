/**
 * Interop with Transmission 3.00 (transmission-cli, a third client others
 * wrote): shoal downloads from a transmission seeder and `shoal seed` serves a
 * transmission downloader, for a multi-file torrent with pieces spanning files
 * and empty files, a single-file torrent (both made by `shoal create --v1`),
 * and a torrent made by transmission-create. The metainfo is read the same
 * way by both sides. Results are compared byte for byte.
 *
 * transmission-cli cannot be told to dial a peer and ignores 127.x peers from
 * trackers, so shoal always dials it (`download --peer`, `seed --peer`).
 * Transmission 3.00 unchokes new peers at its next 10-second rechoke, so the
 * first bytes come late: bounds are generous.
 *
 * Transmission 3.00 never creates zero-length files (neither when downloading
 * nor in transmission-create's torrents): those are the only differences
 * allowed, and only where Transmission wrote the tree or made the torrent.
 */
import { writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { runShoal, show, trackProcesses } from '../helpers/cli.ts';
import {
  cleanupTempDirs,
  diffTrees,
  sameFile,
  spanningPayload,
  spanningTree,
} from '../helpers/files.ts';
import { createTorrent, peerArg, startShoalSeeder } from '../helpers/swarm.ts';
import {
  requireTransmission,
  startTransmissionLeecher,
  startTransmissionSeeder,
  transmissionCreate,
  transmissionShow,
} from '../helpers/transmission.ts';

trackProcesses();
// Whole processes on a shared 2-core machine: generous bounds, never timing assertions.
// A test waits at most ~60 s for a peer to start, then 100 s for the transfer.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 120_000 });
cleanupTempDirs();

/** The `missing:` lines diffTrees reports for the spanning tree's empty files. */
const EMPTY_FILES_MISSING = spanningTree()
  .filter((file) => file.size === 0)
  .map((file) => `missing: ${file.path}`);

/** A label as a directory name. */
const slug = (label: string) => label.replace(/[^a-z0-9]+/gi, '-');

interface TorrentCase {
  label: string;
  torrent: string;
  /** The torrent's top-level entry, under the seed directory and under a download directory. */
  entry: string;
  singleFile: boolean;
  /** Made by transmission-create: its file list leaves the empty files out. */
  madeByTransmission: boolean;
}

describe('transmission-cli 3.00', () => {
  requireTransmission();
  let work: string;
  let seedParent: string;
  let payload: string;
  const cases: TorrentCase[] = [];

  beforeAll(async () => {
    ({ work, seedParent, payload } = await spanningPayload('shoal-transmission-'));
    // A single file of a size no piece length divides, beside the multi-file payload.
    const single = path.join(seedParent, 'single.bin');
    await writeFile(single, randomBytes(1_234_567));
    const multi = await createTorrent(
      payload,
      path.join(work, 'multi.torrent'),
      ['--v1', '--piece-length', '16KiB'],
      { cwd: work },
    );
    const one = await createTorrent(
      single,
      path.join(work, 'single.torrent'),
      ['--v1', '--piece-length', '32KiB'],
      { cwd: work },
    );
    const byTransmission = path.join(work, 'transmission-create.torrent');
    transmissionCreate(payload, byTransmission);
    cases.push(
      {
        label: 'multi-file (shoal create)',
        torrent: multi.torrent,
        entry: 'payload',
        singleFile: false,
        madeByTransmission: false,
      },
      {
        label: 'single-file (shoal create)',
        torrent: one.torrent,
        entry: 'single.bin',
        singleFile: true,
        madeByTransmission: false,
      },
      {
        label: 'multi-file (transmission-create)',
        torrent: byTransmission,
        entry: 'payload',
        singleFile: false,
        madeByTransmission: true,
      },
    );
  });

  /** Differences between the seeded data and `outDir`'s copy, beyond the allowed empty files. */
  async function differences(
    item: TorrentCase,
    outDir: string,
    writtenByTransmission: boolean,
  ): Promise<string[]> {
    const expected = path.join(seedParent, item.entry);
    const actual = path.join(outDir, item.entry);
    if (item.singleFile)
      return (await sameFile(expected, actual)) ? [] : [`differs: ${item.entry}`];
    const allowed = new Set(
      writtenByTransmission || item.madeByTransmission ? EMPTY_FILES_MISSING : [],
    );
    return (await diffTrees(expected, actual)).filter((problem) => !allowed.has(problem));
  }

  const labels = [
    'multi-file (shoal create)',
    'single-file (shoal create)',
    'multi-file (transmission-create)',
  ];
  const byLabel = (label: string) => cases.find((item) => item.label === label)!;

  it.each(labels)('shoal downloads a %s torrent from a transmission seeder', async (label) => {
    const item = byLabel(label);
    const seeder = await startTransmissionSeeder(item.torrent, seedParent);
    const out = path.join(work, `from-transmission-${slug(label)}`);
    const result = await runShoal(
      ['download', item.torrent, '-o', out, ...peerArg(seeder.port), '--timeout', '60s', '--json'],
      { cwd: work, timeoutMs: 100_000 },
    );
    expect(result.code, `${show(result)}\n${seeder.proc.describe()}`).toBe(0);
    expect(await differences(item, out, false)).toEqual([]);
    expect((JSON.parse(result.stdout) as { peers: number }).peers).toBe(1);
  });

  it.each(labels)('a transmission downloader gets a %s torrent from shoal seed', async (label) => {
    const item = byLabel(label);
    const out = path.join(work, `to-transmission-${slug(label)}`);
    const leecher = await startTransmissionLeecher(item.torrent, out);
    const seeder = await startShoalSeeder(item.torrent, seedParent, peerArg(leecher.port), {
      cwd: work,
    });
    await leecher.finished(100_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${seeder.proc.describe()}`);
    });
    expect(await differences(item, out, true)).toEqual([]);
    expect(seeder.proc.running, seeder.proc.describe()).toBe(true);
  });

  it.each(labels)('shoal and transmission-show read the %s torrent alike', async (label) => {
    const item = byLabel(label);
    const result = await runShoal(['inspect', item.torrent, '--json'], { cwd: work });
    expect(result.code, show(result)).toBe(0);
    const doc = JSON.parse(result.stdout) as {
      infoHash: string;
      pieceCount: number;
      files: { path: string; padding: boolean }[];
    };
    const seen = transmissionShow(item.torrent);
    expect(seen.infoHash).toBe(doc.infoHash);
    expect(seen.pieceCount).toBe(doc.pieceCount);
    expect([...seen.files].sort()).toEqual(doc.files.map((file) => file.path).sort());
  });
});
