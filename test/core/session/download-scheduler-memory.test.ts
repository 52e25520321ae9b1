/**
 * How much piece memory a download holds (issue #18: peak RSS of a 1 GiB
 * download). Peers need 8 MiB of pieces in progress to stay at full speed;
 * web seeds fetch runs of whole pieces and keep the larger 16 MiB.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HashPool } from '../../../src/core/hashing/pool.ts';
import type { Metainfo } from '../../../src/core/metainfo/types.ts';
import { DownloadScheduler } from '../../../src/core/session/download-scheduler.ts';
import { DiskStorage } from '../../../src/core/storage/disk-storage.ts';
import { PiecePicker } from '../../../src/core/swarm/piece-picker.ts';
import { metainfoOf } from '../../helpers/metainfo.ts';

const MiB = 1024 * 1024;
const PIECE = MiB;

let root: string;
let pool: HashPool;
let meta: Metainfo;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'shoal-scheduler-memory-'));
  writeFileSync(join(root, 'data.bin'), Buffer.alloc(40 * PIECE, 7));
  pool = new HashPool({ threads: 1 });
  meta = await metainfoOf(join(root, 'data.bin'), { version: 'v1', pieceLength: PIECE, pool });
});

afterAll(async () => {
  await pool.destroy();
  rmSync(root, { recursive: true, force: true });
});

function scheduler(webSeeds: boolean): DownloadScheduler {
  return new DownloadScheduler({
    meta,
    webSeeds,
    picker: new PiecePicker({
      pieceCount: meta.pieceCount,
      pieceLength: meta.pieceLength,
      totalLength: meta.spaceSize,
      random: Math.random,
    }),
    storage: new DiskStorage(
      { ...meta, infoHashHex: Buffer.from(meta.infoHash!).toString('hex') },
      { outDir: join(root, 'out') },
    ),
    hashPool: pool,
    active: () => false,
    peers: () => [],
    peer: () => undefined,
    identity: () => undefined,
    verified: async () => undefined,
    failed: () => undefined,
    ban: () => undefined,
    fatal: (error) => {
      throw error;
    },
    stopping: () => false,
  });
}

describe('DownloadScheduler piece memory', () => {
  it('starts at most 8 MiB of pieces at once when only peers serve the torrent', () => {
    expect(scheduler(false).freeBuffers()).toBe((8 * MiB) / PIECE);
  });

  it('keeps 16 MiB of pieces for a torrent with web seeds (their runs hold whole pieces)', () => {
    expect(scheduler(true).freeBuffers()).toBe((16 * MiB) / PIECE);
  });
});
