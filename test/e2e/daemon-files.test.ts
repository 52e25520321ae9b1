/**
 * File selection on a complete torrent, over RPC against a real `shoal daemon`:
 * unwanting a file keeps its bytes on disk, so `files[i].bytesCompleted` and
 * `fileStats[i].bytesCompleted` keep counting them (Transmission reports the
 * bytes that are there, wanted or not), also after a restart of the daemon
 * and after a torrent-verify of the running torrent (which checks them too,
 * reading each piece once: the daemon's own read counter in /proc shows it).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { RpcClient } from '../../src/core/rpc/client.ts';
import { trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs } from '../helpers/files.ts';
import {
  daemonFolders,
  makeTorrent,
  startDaemon,
  waitForTorrents,
} from '../core/daemon/daemon-fixtures.ts';

trackProcesses();
cleanupTempDirs();
vi.setConfig({ testTimeout: 180_000, hookTimeout: 60_000 });

const SEEDING = 6;
/** Sizes that are not piece multiples (pieces of 32 KiB), so one piece spans both files. */
const SIZES = [200_000, 150_000];
const PIECE_LENGTH = 32 * 1024;

interface FileAnswer {
  files: { name: string; length: number; bytesCompleted: number }[];
  fileStats: { bytesCompleted: number; wanted: boolean }[];
  wanted: number[];
  status: number;
}

async function fileAnswer(rpc: RpcClient): Promise<FileAnswer> {
  const answer = (await rpc.call('torrent-get', {
    fields: ['files', 'fileStats', 'wanted', 'status'],
  })) as { torrents: FileAnswer[] };
  return answer.torrents[0];
}

function expectAllBytesReported(answer: FileAnswer, wanted: boolean[], sizes = SIZES): void {
  expect(answer.files.map((f) => f.length)).toEqual(sizes);
  expect(answer.files.map((f) => f.bytesCompleted)).toEqual(sizes);
  expect(answer.fileStats.map((f) => f.bytesCompleted)).toEqual(sizes);
  expect(answer.fileStats.map((f) => f.wanted)).toEqual(wanted);
}

/** Bytes the process has read by read(2) and its kin, page cache included (/proc/PID/io). */
function bytesRead(pid: number): number {
  return Number(/^rchar: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))![1]);
}

/** A daemon seeding a complete two-file torrent whose first file is then unwanted. */
async function seedingWithFirstFileUnwanted(sizes = SIZES) {
  const folders = daemonFolders();
  // The data is already in the download folder: the daemon verifies it and seeds.
  const folder = path.join(folders.downloadDir, 'pair');
  await mkdir(folder);
  for (const [i, size] of sizes.entries()) {
    await writeFile(path.join(folder, `f${i}.bin`), randomBytes(size));
  }
  const metainfo = (await readFile(makeTorrent(folder))).toString('base64');
  const daemon = await startDaemon(folders);
  await daemon.rpc.call('torrent-add', { metainfo });
  await waitForTorrents(
    daemon.rpc,
    (list) => list[0]?.status === SEEDING && list[0].leftUntilDone === 0,
    'pre-placed data verified',
  );
  expectAllBytesReported(await fileAnswer(daemon.rpc), [true, true], sizes);

  await daemon.rpc.call('torrent-set', { ids: [1], 'files-unwanted': [0] });
  // torrent-set restarts the run: wait until it is seeding again with the new selection.
  await waitForTorrents(
    daemon.rpc,
    (list) => list[0]?.status === SEEDING,
    'seeding again after files-unwanted',
  );
  const after = await fileAnswer(daemon.rpc);
  expect(after.wanted).toEqual([0, 1]);
  expectAllBytesReported(after, [false, true], sizes);
  return { folders, folder, daemon };
}

describe('shoal daemon: unwanting a file of a complete torrent', () => {
  it('keeps reporting the bytes on disk (files, fileStats), before and after a restart', async () => {
    const started = await seedingWithFirstFileUnwanted();
    const { folders } = started;
    let { daemon } = started;

    daemon.proc.kill('SIGTERM');
    expect((await daemon.proc.wait(60_000)).code, daemon.proc.describe()).toBe(0);
    daemon = await startDaemon(folders);
    await waitForTorrents(
      daemon.rpc,
      (list) => list[0]?.status === SEEDING,
      'seeding after restart',
    );
    expectAllBytesReported(await fileAnswer(daemon.rpc), [false, true]);
    daemon.proc.kill('SIGTERM');
    expect((await daemon.proc.wait(60_000)).code, daemon.proc.describe()).toBe(0);
  });

  it('torrent-verify of the running torrent checks the unwanted file too, and keeps what is good', async () => {
    const { folder, daemon } = await seedingWithFirstFileUnwanted();
    // Damage the first block of the unwanted file: its first piece is bad, the rest still good.
    const unwantedFile = path.join(folder, 'f0.bin');
    const bytes = await readFile(unwantedFile);
    bytes[0] ^= 0xff;
    await writeFile(unwantedFile, bytes);

    await daemon.rpc.call('torrent-verify', { ids: [1] });
    await waitForTorrents(
      daemon.rpc,
      (list) => list[0]?.status === SEEDING,
      'seeding again after torrent-verify',
    );
    const after = await fileAnswer(daemon.rpc);
    expect(after.files.map((f) => f.bytesCompleted)).toEqual([SIZES[0] - PIECE_LENGTH, SIZES[1]]);
    expect(after.fileStats.map((f) => f.wanted)).toEqual([false, true]);
    daemon.proc.kill('SIGTERM');
    expect((await daemon.proc.wait(60_000)).code, daemon.proc.describe()).toBe(0);
  });

  it('torrent-verify of the running torrent reads each piece once', async () => {
    // A small unwanted file, a large wanted one: reading the wanted one twice shows.
    const sizes = [100_000, 16 * 1024 * 1024];
    const { daemon } = await seedingWithFirstFileUnwanted(sizes);
    const before = bytesRead(daemon.proc.pid);
    await daemon.rpc.call('torrent-verify', { ids: [1] });
    await waitForTorrents(
      daemon.rpc,
      (list) => list[0]?.status === SEEDING,
      'seeding again after torrent-verify',
    );
    const read = bytesRead(daemon.proc.pid) - before;
    const total = sizes[0]! + sizes[1]!;
    // Everything once (the check did happen), and far from the wanted file twice.
    expect(read).toBeGreaterThanOrEqual(total);
    expect(read).toBeLessThan(total + sizes[1]! / 2);
    expectAllBytesReported(await fileAnswer(daemon.rpc), [false, true], sizes);
    daemon.proc.kill('SIGTERM');
    expect((await daemon.proc.wait(60_000)).code, daemon.proc.describe()).toBe(0);
  });
});
