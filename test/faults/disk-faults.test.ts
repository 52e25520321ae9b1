/**
 * Disk faults: a full disk, a read-only output directory, and data that
 * disappears while seeding. Each must end in a clear DiskError (exit 5) or a
 * warning, never a crash, and never lose pieces already verified on disk: a
 * rerun with space available completes.
 *
 * Uses small tmpfs mounts, so it needs root (CI runs as root).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createTorrent } from '../../src/core/create/build-torrent.ts';
import { HashPool } from '../../src/core/hashing/pool.ts';
import { parseTorrent } from '../../src/core/metainfo/index.ts';
import type { Metainfo } from '../../src/core/metainfo/types.ts';
import { staticPeers } from '../../src/core/discovery/discovery.ts';
import { TorrentSession } from '../../src/core/session/torrent-session.ts';
import { sessionFromPeer } from '../helpers/session.ts';
import { FakePeer, seeder } from '../hostile/fake-peer.ts';

// The resume key (read by this thread and the hash workers, which copy the
// environment when they start) goes to a temporary state dir, not the real home.
process.env.XDG_STATE_HOME = mkdtempSync(join(tmpdir(), 'shoal-state-'));

const PIECE = 64 * 1024;
let root: string;
let meta: Metainfo;
let data: Buffer;
let pool: HashPool;
let source: FakePeer;
const mounts: string[] = [];

function mountTmpfs(options: string): string {
  const dir = mkdtempSync(join(root, 'mnt-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
  mounts.push(dir);
  return dir;
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'shoal-faults-'));
  data = randomBytes(48 * PIECE);
  mkdirSync(join(root, 'src'));
  writeFileSync(join(root, 'src', 'payload.bin'), data);
  pool = new HashPool({ threads: 2 });
  const created = await createTorrent({
    path: join(root, 'src', 'payload.bin'),
    version: 'v1',
    pieceLength: PIECE,
    creationDate: null,
    pool,
  });
  meta = parseTorrent(created.torrentBytes);
  source = await FakePeer.start(meta.infoHash!, seeder(data, PIECE));
});

afterEach(() => {
  for (const dir of mounts.splice(0)) execFileSync('umount', ['-l', dir]);
});

afterAll(async () => {
  await source.stop();
  await pool.destroy();
  rmSync(root, { recursive: true, force: true });
});

function download(outDir: string): TorrentSession {
  return sessionFromPeer(meta, outDir, pool, source.port);
}

describe('disk faults', () => {
  it('stops with a disk error when space runs out, keeps what it verified, and a rerun completes', async () => {
    // Room for about half of the 3 MiB payload.
    const out = mountTmpfs('size=1600k');
    const first = download(out);
    let verified = 0;
    first.on('piece-verified', () => verified++);
    const error = await first.run().catch((e: unknown) => e);
    expect(error).toMatchObject({ exitCode: 5 });
    expect((error as Error).message).toMatch(/no space left on device/);
    expect(verified).toBeGreaterThan(0);

    execFileSync('mount', ['-o', 'remount,size=8m', out]);
    const second = download(out);
    let found = 0;
    second.on('check-done', (piecesFound) => {
      found = piecesFound;
    });
    await second.run();
    expect(readFileSync(join(out, 'payload.bin')).equals(data)).toBe(true);
    // Pieces verified before the disk filled up were kept and not fetched again.
    expect(found).toBeGreaterThan(0);
  });

  it('stops with a disk error on a read-only output directory', async () => {
    const out = mountTmpfs('ro,size=1m');
    const error = await download(join(out, 'sub'))
      .run()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ exitCode: 5 });
    expect((error as Error).message, (error as Error).message).toMatch(/read-only file system/);
  });

  it('refuses an output path that is a file with one error and no warnings', async () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'not a directory');
    const session = download(file);
    const warnings: string[] = [];
    session.on('warning', (message: string) => warnings.push(message));
    const error = await session.run().catch((e: unknown) => e);
    expect(error).toMatchObject({ exitCode: 5, message: `${file} is not a directory` });
    expect(warnings).toEqual([]);
    expect(readFileSync(file, 'utf8')).toBe('not a directory');
  });

  it('stops seeding with a disk error when its data is truncated underneath it', async () => {
    const dir = mkdtempSync(join(root, 'seed-'));
    writeFileSync(join(dir, 'payload.bin'), data);
    const seed = new TorrentSession({
      meta,
      outDir: dir,
      hashPool: pool,
      port: 0,
      seedForever: true,
      readOnly: true,
    });
    const listening = new Promise<number>((resolve) => seed.once('listening', resolve));
    const seeding = seed.run().catch((e: unknown) => e);
    const port = await listening;
    await new Promise<void>((resolve) => {
      if (seed.phase === 'seeding') resolve();
      else seed.on('phase', (phase) => phase === 'seeding' && resolve());
    });
    truncateSync(join(dir, 'payload.bin'), PIECE);

    const out = mkdtempSync(join(root, 'leech-'));
    const leech = new TorrentSession({
      meta,
      outDir: out,
      hashPool: pool,
      port: 0,
      stallTimeoutMs: 3000,
      discoveries: [staticPeers([{ host: '127.0.0.1', port }])],
    });
    await expect(leech.run()).rejects.toMatchObject({ exitCode: 4 });
    const error = await seeding;
    expect(error).toMatchObject({ exitCode: 5 });
    expect((error as Error).message).toMatch(/payload\.bin was deleted or truncated/);
  });
});
