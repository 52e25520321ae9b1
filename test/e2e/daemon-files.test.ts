/**
 * File selection on a complete torrent, over RPC against a real `shoal daemon`:
 * unwanting a file keeps its bytes on disk, so `files[i].bytesCompleted` and
 * `fileStats[i].bytesCompleted` keep counting them (Transmission reports the
 * bytes that are there, wanted or not), also after a restart of the daemon.
 */
import { randomBytes } from 'node:crypto';
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

function expectAllBytesReported(answer: FileAnswer, wanted: boolean[]): void {
  expect(answer.files.map((f) => f.length)).toEqual(SIZES);
  expect(answer.files.map((f) => f.bytesCompleted)).toEqual(SIZES);
  expect(answer.fileStats.map((f) => f.bytesCompleted)).toEqual(SIZES);
  expect(answer.fileStats.map((f) => f.wanted)).toEqual(wanted);
}

describe('shoal daemon: unwanting a file of a complete torrent', () => {
  it('keeps reporting the bytes on disk (files, fileStats), before and after a restart', async () => {
    const folders = daemonFolders();
    // The data is already in the download folder: the daemon verifies it and seeds.
    const folder = path.join(folders.downloadDir, 'pair');
    await mkdir(folder);
    for (const [i, size] of SIZES.entries()) {
      await writeFile(path.join(folder, `f${i}.bin`), randomBytes(size));
    }
    const metainfo = (await readFile(makeTorrent(folder))).toString('base64');
    let daemon = await startDaemon(folders);
    await daemon.rpc.call('torrent-add', { metainfo });
    await waitForTorrents(
      daemon.rpc,
      (list) => list[0]?.status === SEEDING && list[0].leftUntilDone === 0,
      'pre-placed data verified',
    );
    expectAllBytesReported(await fileAnswer(daemon.rpc), [true, true]);

    await daemon.rpc.call('torrent-set', { ids: [1], 'files-unwanted': [0] });
    // torrent-set restarts the run: wait until it is seeding again with the new selection.
    await waitForTorrents(
      daemon.rpc,
      (list) => list[0]?.status === SEEDING,
      'seeding again after files-unwanted',
    );
    const after = await fileAnswer(daemon.rpc);
    expect(after.wanted).toEqual([0, 1]);
    expectAllBytesReported(after, [false, true]);

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
});
