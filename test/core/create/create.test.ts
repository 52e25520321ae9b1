import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTorrent, type CreateOptions } from '../../../src/core/create/build-torrent.ts';
import { HashPool } from '../../../src/core/hashing/pool.ts';
import type { TorrentVersion } from '../../../src/core/metainfo/types.ts';

const run = promisify(execFile);
const checker = join(dirname(fileURLToPath(import.meta.url)), 'libtorrent-check.py');
const KiB = 1024;

interface LibtorrentView {
  v1: string | null;
  v2: string | null;
  name: string;
  num_pieces: number;
  piece_length: number;
  total_size: number;
  files: { path: string; size: number; pad: boolean }[];
  checked: boolean;
  state: string;
  error: string | null;
  alert?: string;
  have_pieces: number;
}

async function libtorrentCheck(torrent: string, savePath: string): Promise<LibtorrentView> {
  // execFile kills the child when the timeout expires.
  const { stdout } = await run('/usr/bin/python3', [checker, torrent, savePath], {
    timeout: 45_000,
    killSignal: 'SIGKILL',
  }).catch((error: { code?: number; signal?: string; stdout?: string; stderr?: string }) => {
    // Say how it ended: a crash of the checker is not a finding about the torrent.
    throw new Error(
      `libtorrent-check exited with code ${error.code} signal ${error.signal}; stdout: ${error.stdout}; stderr: ${error.stderr}`,
    );
  });
  return JSON.parse(stdout) as LibtorrentView;
}

function data(length: number, seed: number): Buffer {
  const buf = Buffer.alloc(length);
  let x = seed * 2654435761;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    buf[i] = x >>> 24;
  }
  return buf;
}

let root: string;
let pool: HashPool;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'shoal-create-'));
  pool = new HashPool({ threads: 2, batchBytes: 256 * KiB });
});

afterAll(async () => {
  await pool.destroy();
  rmSync(root, { recursive: true, force: true });
});

function write(base: string, files: Record<string, number>): void {
  let seed = 1;
  for (const [rel, length] of Object.entries(files)) {
    const full = join(base, rel);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, data(length, seed++));
  }
}

const hex = (b: Uint8Array | null): string | null => (b ? Buffer.from(b).toString('hex') : null);

async function createAndCheck(
  base: string,
  name: string,
  version: TorrentVersion,
  extra: Partial<CreateOptions> = {},
): Promise<{
  view: LibtorrentView;
  result: Awaited<ReturnType<typeof createTorrent>>;
  torrent: string;
}> {
  const result = await createTorrent({
    path: join(base, name),
    version,
    pieceLength: 16 * KiB,
    creationDate: null,
    pool,
    ...extra,
  });
  const torrent = join(base, `${name}.${version}.torrent`);
  writeFileSync(torrent, result.torrentBytes);
  const view = await libtorrentCheck(torrent, base);
  return { view, result, torrent };
}

const versions: TorrentVersion[] = ['v1', 'v2', 'hybrid'];

describe('createTorrent interop with libtorrent 2.0.8', () => {
  it.each(versions)('single file (%s)', async (version) => {
    const base = join(root, `single-${version}`);
    write(base, { 'file.bin': 100_000 });
    const { view, result } = await createAndCheck(base, 'file.bin', version);
    expect(view.error).toBeNull();
    expect(view.checked).toBe(true);
    expect(view.v1).toBe(hex(result.infoHash));
    expect(view.v2).toBe(hex(result.infoHashV2));
    expect(result.infoHash === null).toBe(version === 'v2');
    expect(result.infoHashV2 === null).toBe(version === 'v1');
    expect(view.num_pieces).toBe(result.pieceCount);
    expect(view.have_pieces).toBe(view.num_pieces);
    expect(result).toMatchObject({
      name: 'file.bin',
      totalSize: 100_000,
      fileCount: 1,
      pieceCount: 7,
    });
    // the info-hashes are over the info dictionary exactly as written
    const at = Buffer.from(result.torrentBytes).indexOf(Buffer.from(result.infoBytes));
    expect(at).toBeGreaterThan(0);
    if (result.infoHash) {
      expect(hex(result.infoHash)).toBe(createHash('sha1').update(result.infoBytes).digest('hex'));
    }
  });

  it.each(versions)(
    'nested multi-file tree with empty, tiny, unicode and piece-spanning files (%s)',
    async (version) => {
      const base = join(root, `multi-${version}`);
      write(base, {
        'tree/a.txt': 1000,
        'tree/b/empty': 0,
        'tree/b/c.bin': 40_000,
        'tree/b/d.bin': 16 * KiB,
        'tree/b/e/f.bin': 3,
        'tree/big.bin': 70_001,
        'tree/é.txt': 20_000,
        'tree/\u{E000}.txt': 5,
        'tree/\u{1D11E}.txt': 7,
        'tree/zz-empty-last': 0,
      });
      const { view, result } = await createAndCheck(base, 'tree', version);
      expect(view.error).toBeNull();
      expect(view.alert).toBeUndefined();
      expect(view.checked).toBe(true);
      expect(view.v1).toBe(hex(result.infoHash));
      expect(view.v2).toBe(hex(result.infoHashV2));
      expect(view.num_pieces).toBe(result.pieceCount);
      expect(view.have_pieces).toBe(view.num_pieces);
      expect(result.fileCount).toBe(10);
      expect(result.totalSize).toBe(1000 + 40_000 + 16 * KiB + 3 + 70_001 + 20_000 + 5 + 7);
      // libtorrent's file list (padding included) is the one shoal reports
      const ours = result.files.map((f) => ({
        path: f.path.join('/'),
        size: f.length,
        pad: f.padding,
      }));
      if (version === 'v2') {
        // libtorrent shows v2 alignment gaps as padding files; shoal's v2 file list has none.
        expect(view.files.filter((f) => !f.pad)).toEqual(ours);
      } else {
        expect(view.files).toEqual(ours);
      }
      // byte order: U+E000 (EE 80 80) sorts before U+1D11E (F0 9D 84 9E), though not in UTF-16
      const names = ours.filter((f) => !f.pad).map((f) => f.path);
      expect(names.indexOf('tree/\u{E000}.txt')).toBeLessThan(names.indexOf('tree/\u{1D11E}.txt'));
      if (version === 'hybrid') {
        const pads = ours.filter((f) => f.pad);
        expect(pads.length).toBeGreaterThan(0);
        expect(ours.at(-1)!.pad).toBe(false);
      }
    },
  );

  it('v1 info-hash agrees with transmission-show', async () => {
    const base = join(root, 'transmission');
    write(base, { 'tm/x.bin': 50_000, 'tm/y/z.bin': 12_345 });
    const { result, torrent } = await createAndCheck(base, 'tm', 'v1', {
      announce: [['http://127.0.0.1:1/announce']],
      comment: 'hello',
    });
    const { stdout } = await run('transmission-show', [torrent], {
      timeout: 20_000,
      killSignal: 'SIGKILL',
    });
    expect(stdout).toContain(`Hash: ${hex(result.infoHash)}`);
  });

  it('writes trackers, web seeds, private, source and comment where libtorrent finds them', async () => {
    const base = join(root, 'meta');
    write(base, { 'm.bin': 30_000 });
    const { view, result } = await createAndCheck(base, 'm.bin', 'hybrid', {
      announce: [['http://127.0.0.1:1/a', 'http://127.0.0.1:2/a'], ['udp://127.0.0.1:3']],
      webSeeds: ['http://127.0.0.1:4/files/'],
      private: true,
      source: 'SRC',
      comment: 'a comment',
      createdBy: 'shoal/test',
    });
    expect(view.have_pieces).toBe(view.num_pieces);
    const text = Buffer.from(result.torrentBytes).toString('latin1');
    expect(text).toContain('8:announce20:http://127.0.0.1:1/a');
    expect(text).toContain(
      '13:announce-listll20:http://127.0.0.1:1/a20:http://127.0.0.1:2/ael17:udp://127.0.0.1:3ee',
    );
    expect(text).toContain('7:comment9:a comment');
    expect(text).toContain('10:created by10:shoal/test');
    expect(text).toContain('8:url-list25:http://127.0.0.1:4/files/');
    expect(Buffer.from(result.infoBytes).toString('latin1')).toContain('7:privatei1e6:source3:SRC');
    expect(text).not.toContain('creation date');
  });
});

describe('createTorrent output', () => {
  it('is byte-identical for the same input without a date', async () => {
    const base = join(root, 'repro');
    write(base, { 'r/a': 5000, 'r/b/c': 70_000 });
    const a = await createTorrent({
      path: join(base, 'r'),
      version: 'hybrid',
      pieceLength: 'auto',
      creationDate: null,
      pool,
    });
    const b = await createTorrent({
      path: join(base, 'r'),
      version: 'hybrid',
      pieceLength: 'auto',
      creationDate: null,
      threads: 1,
    });
    expect(Buffer.from(a.torrentBytes).equals(Buffer.from(b.torrentBytes))).toBe(true);
    const dated = await createTorrent({
      path: join(base, 'r'),
      version: 'hybrid',
      pieceLength: 'auto',
      creationDate: new Date(1_700_000_000_000),
      pool,
    });
    expect(Buffer.from(dated.torrentBytes).toString('latin1')).toContain(
      '13:creation datei1700000000e',
    );
    expect(hex(dated.infoHash)).toBe(hex(a.infoHash));
  });

  it('reports progress up to the total size', async () => {
    const base = join(root, 'progress');
    write(base, { 'p/a': 300_000, 'p/b': 200_000 });
    const seen: number[] = [];
    const r = await createTorrent(
      { path: join(base, 'p'), version: 'v1', pieceLength: 16 * KiB, creationDate: null, pool },
      (p) => {
        expect(p.totalBytes).toBe(500_000);
        seen.push(p.bytesHashed);
      },
    );
    expect(seen.at(-1)).toBe(r.totalSize);
    expect(seen).toEqual([...seen].sort((x, y) => x - y));
  });

  it('shares identical files once in piece layers', async () => {
    const base = join(root, 'dupes');
    mkdirSync(join(base, 'd'), { recursive: true });
    writeFileSync(join(base, 'd/one'), data(50_000, 9));
    writeFileSync(join(base, 'd/two'), data(50_000, 9));
    const { view } = await createAndCheck(base, 'd', 'v2');
    expect(view.have_pieces).toBe(view.num_pieces);
  });

  it('skips hidden files, excluded globs and directory symlinks; follows file symlinks', async () => {
    const base = join(root, 'filters');
    write(base, {
      'f/keep.txt': 100,
      'f/.hidden': 100,
      'f/.git/config': 100,
      'f/build/out.o': 100,
      'f/sub/x.log': 100,
      'f/sub/y.txt': 100,
      'outside.bin': 100,
    });
    symlinkSync(join(base, 'outside.bin'), join(base, 'f/link.bin'));
    symlinkSync(join(base, 'f/sub'), join(base, 'f/dirlink'));
    symlinkSync(join(base, 'nowhere'), join(base, 'f/dangling'));
    const r = await createTorrent({
      path: join(base, 'f'),
      version: 'v1',
      pieceLength: 'auto',
      creationDate: null,
      exclude: ['*.log', 'build/'],
      pool,
    });
    expect(r.files.map((f) => f.path.join('/'))).toEqual([
      'f/keep.txt',
      'f/link.bin',
      'f/sub/y.txt',
    ]);
    expect(r.skipped).toEqual([
      { path: 'dangling', reason: 'dangling symlink' },
      { path: 'dirlink', reason: 'directory symlink' },
    ]);
    const all = await createTorrent({
      path: join(base, 'f'),
      version: 'v1',
      pieceLength: 'auto',
      creationDate: null,
      includeHidden: true,
      pool,
    });
    expect(all.files.map((f) => f.path.join('/'))).toEqual([
      'f/.git/config',
      'f/.hidden',
      'f/build/out.o',
      'f/keep.txt',
      'f/link.bin',
      'f/sub/x.log',
      'f/sub/y.txt',
    ]);
  });

  it('keeps file names as their bytes read as UTF-8 and refuses names that are not UTF-8', async () => {
    const base = join(root, 'names');
    // A leading U+FEFF is part of the name (a BOM-stripping decoder lost it) and U+FFFD is a
    // character like any other.
    write(base, { 'n/\uFEFFbom.txt': 10, 'n/r\uFFFDd.txt': 20, 'n/plain.txt': 30 });
    const r = await createTorrent({
      path: join(base, 'n'),
      version: 'v1',
      pieceLength: 'auto',
      creationDate: null,
      pool,
    });
    expect(r.files.map((f) => [f.path.join('/'), f.length])).toEqual([
      ['n/plain.txt', 30],
      ['n/r\uFFFDd.txt', 20],
      ['n/\uFEFFbom.txt', 10],
    ]);
    mkdirSync(join(base, 'bad'));
    writeFileSync(Buffer.from(`${join(base, 'bad')}/x\xffy`, 'latin1'), 'data');
    await expect(
      createTorrent({ path: join(base, 'bad'), version: 'v1', pieceLength: 'auto', pool }),
    ).rejects.toThrow(/x\xffy: file name is not valid UTF-8; rename it/);
  });

  it('rejects an empty directory, all-empty files, a missing path and bad piece lengths', async () => {
    const base = join(root, 'bad');
    mkdirSync(join(base, 'empty'), { recursive: true });
    write(base, { 'zeros/a': 0, 'only-hidden/.x': 10, 'ok/a': 10 });
    const opts = { version: 'v1' as const, pieceLength: 'auto' as const, pool };
    await expect(createTorrent({ ...opts, path: join(base, 'empty') })).rejects.toMatchObject({
      exitCode: 3,
    });
    await expect(createTorrent({ ...opts, path: join(base, 'only-hidden') })).rejects.toThrow(
      /--include-hidden/,
    );
    await expect(createTorrent({ ...opts, path: join(base, 'zeros') })).rejects.toMatchObject({
      exitCode: 3,
    });
    await expect(createTorrent({ ...opts, path: join(base, 'nope') })).rejects.toMatchObject({
      exitCode: 5,
    });
    await expect(
      createTorrent({ ...opts, path: join(base, 'ok'), pieceLength: 1000 }),
    ).rejects.toMatchObject({
      exitCode: 2,
    });
  });
});
