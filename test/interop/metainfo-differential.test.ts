/**
 * Differential test of shoal's .torrent parser against python3-libtorrent's
 * (the reference implementation; issue 17): for every .torrent kept in
 * test/fixtures and every torrent the tests generate (the metainfo corner
 * cases, and what `shoal create` makes in each format), both must reach the
 * same verdict (accept or refuse) and, when both accept, agree on the name,
 * total size, piece length, files (path, length, offset, BEP 47 x/h/l and
 * symlink target) and info-hashes.
 *
 * Where shoal differs on purpose the case is listed in `knownDisagreements`
 * with the reason. The list is asserted exactly: a new disagreement fails, and
 * so does a listed one that went away (the list must not rot).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { encodeBencode } from '../../src/core/bencode/index.ts';
import { createTorrent } from '../../src/core/create/build-torrent.ts';
import { InputError } from '../../src/core/errors.ts';
import { HashPool } from '../../src/core/hashing/pool.ts';
import { parseTorrent, toHex, type Metainfo } from '../../src/core/metainfo/index.ts';
import { runShoal, show, trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs, diffTrees, makeTree, tempDir } from '../helpers/files.ts';
import { fixturesDir } from '../helpers/fixtures.ts';
import { cornerCases } from '../helpers/metainfo-corners.ts';
import { SYSTEM_PYTHON, requirePeers, startLibtorrent } from '../helpers/peers.ts';
import { peerArg } from '../helpers/swarm.ts';

requirePeers('libtorrent');
trackProcesses();
// The download test runs whole processes on a shared 2-core machine: generous bounds.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 180_000 });
cleanupTempDirs();

const DUMP_SCRIPT = path.resolve(import.meta.dirname, '../core/metainfo/libtorrent-dump.py');

/**
 * Torrent id (file name without `.torrent`) -> why shoal reads it differently from
 * libtorrent 2.0.8, and in what (`verdict`: one accepts, the other refuses; `files`:
 * both accept but list a file differently).
 */
const knownDisagreements: Record<string, { in: 'verdict' | 'files'; reason: string }> = {
  'dup-pieces-key': {
    in: 'verdict',
    reason:
      'two `pieces` keys: libtorrent takes one; shoal refuses duplicate keys, since which value counts (and so what the torrent means) is ambiguous',
  },
  'dup-files': {
    in: 'files',
    reason:
      'two files of one name: libtorrent renames the second "file1.1.txt", shoal "file1 (1).txt" as file managers do; both keep the files apart',
  },
  'v1-only-padding': {
    in: 'verdict',
    reason:
      'nothing but padding: libtorrent counts padding in the total size and accepts; shoal refuses a torrent with no data to download',
  },
  'v1-symlink-target-escapes': {
    in: 'files',
    reason:
      'a symlink target with `..`: libtorrent points the link at itself; shoal sanitizes the target (etc/passwd under the torrent) and, as it is no file of the torrent, skips the link with a warning when applying attributes',
  },
};

interface LibtorrentFile {
  path: string;
  size: number;
  offset: number;
  pad: boolean;
  hidden: boolean;
  executable: boolean;
  symlink: string | null;
}

interface LibtorrentView {
  path: string;
  error?: string;
  v1: string | null;
  v2: string | null;
  name: string;
  pieceLength: number;
  files: LibtorrentFile[];
}

/** What libtorrent makes of each file, one JSON line per file from libtorrent-dump.py. */
function libtorrentViews(paths: string[]): Map<string, LibtorrentView> {
  const output = execFileSync(SYSTEM_PYTHON, [DUMP_SCRIPT, ...paths], {
    timeout: 120_000,
    killSignal: 'SIGKILL',
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  const views = output
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as LibtorrentView);
  return new Map(views.map((view) => [view.path, view]));
}

function shoalView(file: string): Metainfo | InputError {
  try {
    return parseTorrent(readFileSync(file));
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
}

/** A file as both parsers can describe it, for a like-for-like comparison. */
interface Comparable {
  path: string;
  length: number;
  offset: number;
  executable: boolean;
  hidden: boolean;
  symlink: string | null;
}

/**
 * The real (non-padding) files: libtorrent lists the alignment gaps of v2 as
 * `.pad/N` files, shoal leaves them implicit; padding is never written, so its
 * name does not matter (libtorrent names a pad without a path `.pad/N` outside
 * the torrent's directory, shoal inside it).
 */
function ours(meta: Metainfo): Comparable[] {
  return meta.files
    .filter((file) => !file.padding)
    .map((file) => ({
      path: file.path.join('/'),
      length: file.length,
      offset: file.offset,
      executable: file.attr.includes('x'),
      hidden: file.attr.includes('h'),
      // BEP 47 targets are relative to the torrent's root; libtorrent reports them from the
      // download directory, i.e. with the name of a multi-file torrent in front.
      symlink: file.symlinkPath
        ? [...(meta.multiFile ? [meta.name] : []), ...file.symlinkPath].join('/')
        : null,
    }));
}

function theirs(view: LibtorrentView): Comparable[] {
  return view.files
    .filter((file) => !file.pad)
    .map((file) => ({
      path: file.path,
      length: file.size,
      offset: file.offset,
      executable: file.executable,
      hidden: file.hidden,
      symlink: file.symlink,
    }));
}

/** Where the two disagree on one torrent, in words; null when they agree. */
function disagreement(
  file: string,
  view: LibtorrentView,
): { in: 'verdict' | 'files'; what: string } | null {
  const meta = shoalView(file);
  if (meta instanceof InputError || view.error !== undefined) {
    if (meta instanceof InputError && view.error !== undefined) return null;
    return {
      in: 'verdict',
      what:
        meta instanceof InputError
          ? `shoal refuses (${meta.message}), libtorrent accepts`
          : `shoal accepts, libtorrent refuses (${view.error})`,
    };
  }
  const summary = (m: {
    v1: string | null;
    v2: string | null;
    name: string;
    pieceLength: number;
    totalSize: number;
  }) => JSON.stringify(m);
  const ourSummary = summary({
    v1: meta.infoHash ? toHex(meta.infoHash) : null,
    v2: meta.infoHashV2 ? toHex(meta.infoHashV2) : null,
    name: meta.name,
    pieceLength: meta.pieceLength,
    totalSize: meta.totalSize,
  });
  const realFiles = theirs(view);
  const theirSummary = summary({
    v1: view.v1,
    v2: view.v2,
    name: view.name,
    pieceLength: view.pieceLength,
    totalSize: realFiles.reduce((sum, f) => sum + f.length, 0),
  });
  if (ourSummary !== theirSummary) {
    return { in: 'verdict', what: `shoal ${ourSummary} but libtorrent ${theirSummary}` };
  }
  const a = JSON.stringify(ours(meta));
  const b = JSON.stringify(realFiles);
  return a === b ? null : { in: 'files', what: `shoal lists ${a} but libtorrent ${b}` };
}

/** Every .torrent under test/fixtures, recursively. */
function fixtureTorrents(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((entry) => {
      const full = path.join(dir, entry);
      if (statSync(full).isDirectory()) return fixtureTorrents(full);
      return entry.endsWith('.torrent') ? [full] : [];
    });
}

/** Writes the generated torrents (corner cases and `create` output) to `dir`; returns their paths. */
async function generatedTorrents(dir: string): Promise<string[]> {
  const written: string[] = [];
  for (const corner of cornerCases()) {
    const file = path.join(dir, `${corner.id}.torrent`);
    await writeFile(file, corner.bytes);
    written.push(file);
  }
  // What shoal create makes, in each format, from a tree with an empty file, an executable and
  // sizes that do not fill a piece; and from a single file.
  const tree = path.join(dir, 'payload');
  await makeTree(tree, [
    { path: 'a.bin', size: 40_000 },
    { path: 'empty', size: 0 },
    { path: 'sub/run.sh', size: 700 },
    { path: 'sub/z.txt', size: 16_384 },
  ]);
  await chmod(path.join(tree, 'sub/run.sh'), 0o755);
  await mkdir(path.join(dir, 'single'));
  await makeTree(path.join(dir, 'single'), [{ path: 'one.iso', size: 70_000 }]);
  const pool = new HashPool({ threads: 1 });
  try {
    for (const version of ['v1', 'v2', 'hybrid'] as const) {
      for (const [label, source] of [
        ['tree', tree],
        ['single', path.join(dir, 'single', 'one.iso')],
      ]) {
        const created = await createTorrent({
          path: source,
          version,
          pieceLength: 16384,
          creationDate: null,
          pool,
        });
        const file = path.join(dir, `created-${version}-${label}.torrent`);
        await writeFile(file, created.torrentBytes);
        written.push(file);
      }
    }
  } finally {
    await pool.destroy();
  }
  return written;
}

const idOf = (file: string) => path.basename(file, '.torrent');

describe('shoal and python3-libtorrent read every torrent alike, or the difference is listed', () => {
  const fixtures = fixtureTorrents(fixturesDir);
  let generated: string[] = [];
  let views = new Map<string, LibtorrentView>();
  const found = new Map<string, { in: 'verdict' | 'files'; what: string }>();

  beforeAll(async () => {
    generated = await generatedTorrents(tempDir('shoal-differential-'));
    views = libtorrentViews([...fixtures, ...generated]);
    for (const file of [...fixtures, ...generated]) {
      const view = views.get(file);
      if (!view) throw new Error(`libtorrent-dump.py said nothing about ${file}`);
      const difference = disagreement(file, view);
      if (difference) found.set(idOf(file), difference);
    }
  }, 180_000);
  afterAll(() => found.clear());

  it('covers the fixtures, the corner cases and the created torrents', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(30);
    expect(generated.length).toBe(cornerCases().length + 6);
    // Both verdicts occur, so the comparison is not vacuous.
    const errors = [...views.values()].filter((view) => view.error !== undefined).length;
    expect(errors).toBeGreaterThan(10);
    expect(views.size - errors).toBeGreaterThan(30);
  });

  it('the only disagreements are the listed ones, each of the kind listed', () => {
    const actual = Object.fromEntries([...found].map(([id, d]) => [id, d.in]));
    const expected = Object.fromEntries(
      Object.entries(knownDisagreements).map(([id, d]) => [id, d.in]),
    );
    // On failure the message shows what each new disagreement is.
    expect(actual, JSON.stringify(Object.fromEntries(found), null, 1)).toEqual(expected);
  });

  it('every listed disagreement says why', () => {
    for (const entry of Object.values(knownDisagreements)) {
      expect(entry.reason.length).toBeGreaterThan(40);
    }
  });
});

describe('piece lengths that are no multiple of the 16 KiB block work, not only parse', () => {
  // shoal accepts any v1 piece length libtorrent accepts; this shows such torrents download
  // (each piece ends with a short block) from libtorrent, so accepting them is not a promise
  // the engine breaks.
  it.each([20_000, 49_157, 1000])(
    'piece length %d: downloaded from libtorrent',
    async (pieceLength) => {
      const work = tempDir('shoal-odd-pieces-');
      const files = [
        { path: 'a.bin', size: 300_007 },
        { path: 'sub/b.bin', size: 77_777 },
      ];
      const payload = path.join(work, 'seed', 'odd');
      await makeTree(payload, files);
      const data = Buffer.concat(
        await Promise.all(files.map((file) => readFile(path.join(payload, file.path)))),
      );
      const pieces: Buffer[] = [];
      for (let at = 0; at < data.length; at += pieceLength) {
        pieces.push(
          createHash('sha1')
            .update(data.subarray(at, at + pieceLength))
            .digest(),
        );
      }
      const torrent = path.join(work, 'odd.torrent');
      await writeFile(
        torrent,
        encodeBencode({
          info: {
            name: Buffer.from('odd'),
            'piece length': pieceLength,
            pieces: Buffer.concat(pieces),
            files: files.map((file) => ({
              length: file.size,
              path: file.path.split('/').map((part) => Buffer.from(part)),
            })),
          },
        }),
      );
      const seeder = await startLibtorrent({
        mode: 'seed',
        torrent,
        save: path.join(work, 'seed'),
      });
      const out = path.join(work, 'out');
      const result = await runShoal(
        ['download', torrent, '-o', out, ...peerArg(seeder.port), '--no-dht', '--timeout', '30s'],
        { cwd: work },
      );
      expect(result.code, `${show(result)}\n${seeder.proc.describe()}`).toBe(0);
      expect(await diffTrees(payload, path.join(out, 'odd'))).toEqual([]);
    },
  );
});
