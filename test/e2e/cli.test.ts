/**
 * The command-line contract (DESIGN.md §1) seen from outside: exit codes,
 * one-line errors without stack traces, JSON shapes, help with examples,
 * `create` in every format and `inspect --verify` on good and damaged data.
 * Runs in a temporary directory outside the repository, like a user would.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile, open } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { runShoal, show, trackProcesses, type RunResult } from '../helpers/cli.ts';
import { cleanupTempDirs, makeTree, spanningTree, tempDir } from '../helpers/files.ts';
import { corpusPath } from '../helpers/fixtures.ts';
import { assertInstalled, SYSTEM_PYTHON } from '../helpers/peers.ts';

trackProcesses({ concurrent: true });
// Whole processes on a shared 2-core machine: generous bounds, never timing assertions.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });
cleanupTempDirs();

const corpus = corpusPath;

const VALID = [
  'ubuntu-20.04.4-desktop-amd64.iso.torrent', // v1 single file
  'alice_in_wonderland_librivox_archive.torrent', // v1 multi-file, web seeds
  'bittorrent-v2-test.torrent', // v2
  'bittorrent-v2-hybrid-test.torrent', // hybrid with padding files
  'hybrid-single-ubuntu-20.04.3-desktop-amd64.iso.torrent',
  'webseed-getright-string.torrent',
];
const INVALID = [
  'bad-pieces-key.torrent',
  'dup-pieces-key.torrent',
  'empty-pieces-key.torrent',
  'invalid-pieces-length.torrent',
  'missing-pieces-key.torrent',
  'too-few-pieces.torrent',
  'too-many-pieces.torrent',
  'gimp-2.10.32-1-arm64.dmg.torrent',
];

let cwd: string;
beforeAll(() => {
  cwd = tempDir('shoal-cli-');
});

/** Progress lines may come first, but the error is the last line, alone, with no stack trace. */
function expectErrorLast(stderr: string): void {
  const lines = stderr.split('\n').filter((line) => line.trim() !== '');
  expect(
    lines.filter((line) => line.startsWith('shoal: error: ')),
    stderr,
  ).toHaveLength(1);
  expect(lines.at(-1)).toMatch(/^shoal: error: /);
  expect(stderr).not.toMatch(/\n\s+at /);
}

/** Exactly one line on stderr, naming the problem, and no stack trace. */
function expectOneLineError(stderr: string): void {
  const lines = stderr.split('\n').filter((line) => line.trim() !== '');
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^shoal: error: /);
  expect(stderr).not.toMatch(/\n\s+at /);
}

const INSPECT_KEYS = [
  'comment',
  'createdBy',
  'creationDate',
  'files',
  'infoHash',
  'infoHashV2',
  'magnet',
  'name',
  'pieceCount',
  'pieceLength',
  'private',
  'source',
  'totalSize',
  'trackers',
  'version',
  'webSeeds',
];

interface InspectJson {
  name: string;
  infoHash: string | null;
  infoHashV2: string | null;
  version: 'v1' | 'v2' | 'hybrid';
  pieceLength: number;
  pieceCount: number;
  totalSize: number;
  private: boolean;
  files: { path: string; length: number; padding: boolean }[];
  trackers: string[][];
  webSeeds: string[];
  comment: string | null;
  createdBy: string | null;
  creationDate: string | null;
  source: string | null;
  magnet: string;
}

function expectInspectShape(doc: InspectJson): void {
  for (const key of INSPECT_KEYS) expect(doc, key).toHaveProperty(key);
  expect(typeof doc.name).toBe('string');
  if (doc.infoHash !== null) expect(doc.infoHash).toMatch(/^[0-9a-f]{40}$/);
  if (doc.infoHashV2 !== null) expect(doc.infoHashV2).toMatch(/^[0-9a-f]{64}$/);
  expect(['v1', 'v2', 'hybrid']).toContain(doc.version);
  expect(doc.infoHash === null).toBe(doc.version === 'v2');
  expect(doc.infoHashV2 === null).toBe(doc.version === 'v1');
  expect(Number.isInteger(doc.pieceLength) && doc.pieceLength > 0).toBe(true);
  expect(Number.isInteger(doc.pieceCount) && doc.pieceCount > 0).toBe(true);
  expect(typeof doc.private).toBe('boolean');
  for (const file of doc.files) {
    expect(Object.keys(file).sort()).toEqual(expect.arrayContaining(['length', 'padding', 'path']));
    expect(typeof file.path).toBe('string');
    expect(file.path).not.toMatch(/^\/|\\|(^|\/)\.\.?(\/|$)/);
    expect(typeof file.padding).toBe('boolean');
  }
  expect(doc.files.reduce((sum, f) => sum + (f.padding ? 0 : f.length), 0)).toBe(doc.totalSize);
  expect(Array.isArray(doc.trackers) && doc.trackers.every(Array.isArray)).toBe(true);
  expect(Array.isArray(doc.webSeeds)).toBe(true);
  if (doc.creationDate !== null)
    expect(new Date(doc.creationDate).toISOString()).toBe(doc.creationDate);
  expect(doc.magnet).toMatch(/^magnet:\?xt=urn:bt(ih|mh):/);
}

/** `inspect --json` of a corpus file, run once and shared by the tests that need it. */
const jsonRuns = new Map<string, Promise<RunResult>>();
function inspectJson(name: string): Promise<RunResult> {
  let run = jsonRuns.get(name);
  if (!run) {
    run = runShoal(['inspect', corpus(name), '--json'], { cwd });
    jsonRuns.set(name, run);
  }
  return run;
}

describe.concurrent('inspect on the corpus', () => {
  it.each(VALID)('%s: human output and --json', async (name) => {
    const [human, json] = await Promise.all([
      runShoal(['inspect', corpus(name), '--files'], { cwd }),
      inspectJson(name),
    ]);
    expect(human.code, show(human)).toBe(0);
    expect(json.code, show(json)).toBe(0);
    expect(json.stderr).toBe('');
    const doc = JSON.parse(json.stdout) as InspectJson;
    expectInspectShape(doc);
    expect(human.stdout).toContain(doc.name);
    expect(human.stdout).toContain(doc.magnet);
    if (doc.infoHash) expect(human.stdout).toContain(doc.infoHash);
    if (doc.infoHashV2) expect(human.stdout).toContain(doc.infoHashV2);
    expect(human.stdout).toMatch(/\bhybrid\b|\bv1\b|\bv2\b/);
    const multi = doc.files.length > 1;
    for (const file of doc.files.filter((f) => !f.padding)) {
      if (multi) expect(file.path.startsWith(`${doc.name}/`), file.path).toBe(true);
      expect(human.stdout).toContain(file.path);
    }
  });

  it('agrees with python3-libtorrent on hashes, sizes and files', async () => {
    assertInstalled('libtorrent');
    const script = `
import json, sys, libtorrent as lt
out = {}
for path in sys.argv[1:]:
    ti = lt.torrent_info(path)
    h = ti.info_hashes()
    fs = ti.files()
    out[path] = {
        "v1": str(h.v1) if h.has_v1() else None,
        "v2": str(h.v2) if h.has_v2() else None,
        "name": ti.name(), "totalSize": ti.total_size(), "pieceLength": ti.piece_length(),
        "pieceCount": ti.num_pieces(),
        "files": [[fs.file_path(i).replace("\\\\", "/"), fs.file_size(i), bool(fs.file_flags(i) & 1)] for i in range(fs.num_files())],
    }
print(json.dumps(out))`;
    const files = VALID.map(corpus);
    const expected = JSON.parse(
      execFileSync(SYSTEM_PYTHON, ['-c', script, ...files], { encoding: 'utf8' }),
    ) as Record<
      string,
      {
        v1: string | null;
        v2: string | null;
        name: string;
        totalSize: number;
        pieceLength: number;
        pieceCount: number;
        files: [string, number, boolean][];
      }
    >;
    const results = await Promise.all(VALID.map(inspectJson));
    files.forEach((file, i) => {
      const doc = JSON.parse(results[i].stdout) as InspectJson;
      const lt = expected[file];
      expect(doc.infoHash, file).toBe(lt.v1);
      expect(doc.infoHashV2, file).toBe(lt.v2);
      expect(doc.name).toBe(lt.name);
      expect(doc.pieceLength).toBe(lt.pieceLength);
      expect(doc.pieceCount).toBe(lt.pieceCount);
      // libtorrent's total_size counts padding (and the implicit alignment of v2 files).
      expect(doc.totalSize).toBe(lt.files.filter((f) => !f[2]).reduce((sum, f) => sum + f[1], 0));
      expect(doc.files.filter((f) => !f.padding).map((f) => [f.path, f.length])).toEqual(
        lt.files.filter((f) => !f[2]).map((f) => [f[0], f[1]]),
      );
    });
  });

  it.each(INVALID)('%s: exit 3 with one line on stderr', async (name) => {
    const result = await runShoal(['inspect', corpus(name)], { cwd });
    expect(result.code, show(result)).toBe(3);
    expect(result.stdout).toBe('');
    expectOneLineError(result.stderr);
  });

  it('a file that is not a torrent at all: exit 3, one line', async () => {
    const junk = path.join(cwd, 'junk.torrent');
    await writeFile(junk, 'this is not bencode\n');
    const result = await runShoal(['inspect', junk], { cwd });
    expect(result.code, show(result)).toBe(3);
    expectOneLineError(result.stderr);
  });
});

describe.concurrent('usage errors', () => {
  it('unknown flag: exit 2, one line', async () => {
    const result = await runShoal(['inspect', corpus(VALID[0]), '--no-such-flag'], { cwd });
    expect(result.code, show(result)).toBe(2);
    expectOneLineError(result.stderr);
    expect(result.stderr).toContain('--no-such-flag');
  });

  it('missing file: exit 3, names it', async () => {
    const result = await runShoal(['inspect', 'does-not-exist.torrent'], { cwd });
    expect(result.code, show(result)).toBe(3);
    expectOneLineError(result.stderr);
    expect(result.stderr).toContain('does-not-exist.torrent');
  });

  it('malformed flag values: exit 2, one line that names the flag once', async () => {
    const cases: [string[], string][] = [
      [['download', corpus(VALID[0]), '--timeout', 'soon'], '--timeout: invalid duration "soon"'],
      [['download', corpus(VALID[0]), '--seed-ratio', '-1'], 'invalid --seed-ratio "-1"'],
      [['download', corpus(VALID[0]), '--peer', 'nohost'], 'invalid --peer "nohost"'],
      [['create', cwd, '--piece-length', 'huge'], 'invalid piece length "huge"'],
      [['create', cwd, '--web-seed', 'udp://x/'], 'invalid --web-seed URL "udp://x/"'],
    ];
    const results = await Promise.all(cases.map(([args]) => runShoal(args, { cwd })));
    results.forEach((result, i) => {
      expect(result.code, show(result)).toBe(2);
      expectOneLineError(result.stderr);
      expect(result.stderr).toContain(`shoal: error: ${cases[i]![1]}`);
    });
  });

  it.each(['download', 'create', 'inspect', 'seed'])('%s --help shows examples', async (cmd) => {
    const result = await runShoal([cmd, '--help'], { cwd });
    expect(result.code, show(result)).toBe(0);
    expect(result.stdout).toMatch(/EXAMPLES/);
    expect(result.stdout).toMatch(new RegExp(`shoal ${cmd} `));
    expect(result.stdout).toMatch(/[Ee]xit codes?/);
  });
});

describe.concurrent('create', () => {
  let data: string;
  beforeAll(async () => {
    data = path.join(tempDir('shoal-create-'), 'payload');
    await makeTree(data, spanningTree());
  });

  it.each([
    ['--v1', 'v1'],
    ['--v2', 'v2'],
    ['--hybrid', 'hybrid'],
  ])('%s makes a %s torrent that inspect reads back', async (flag, version) => {
    const out = path.join(cwd, `payload-${version}.torrent`);
    const created = await runShoal(
      ['create', data, flag, '--piece-length', '16KiB', '-o', out, '--json'],
      { cwd },
    );
    expect(created.code, show(created)).toBe(0);
    const summary = JSON.parse(created.stdout) as Record<string, unknown>;
    const inspected = await runShoal(['inspect', out, '--json'], { cwd });
    expect(inspected.code, show(inspected)).toBe(0);
    const doc = JSON.parse(inspected.stdout) as InspectJson;
    expectInspectShape(doc);
    expect(doc.version).toBe(version);
    expect(doc.name).toBe('payload');
    expect(doc.infoHash).toBe(summary.infoHash);
    expect(doc.infoHashV2).toBe(summary.infoHashV2);
    expect(doc.totalSize).toBe(spanningTree().reduce((sum, f) => sum + f.size, 0));
    const paths = doc.files.filter((f) => !f.padding).map((f) => f.path);
    expect(paths.sort()).toEqual(
      spanningTree()
        .map((f) => `payload/${f.path}`)
        .sort(),
    );
  });

  it('--json has the documented shape', async () => {
    const out = path.join(cwd, 'shape.torrent');
    const result = await runShoal(['create', data, '-o', out, '--hybrid', '--json'], { cwd });
    expect(result.code, show(result)).toBe(0);
    const doc = JSON.parse(result.stdout) as Record<string, unknown>;
    for (const key of [
      'torrent',
      'name',
      'infoHash',
      'infoHashV2',
      'magnet',
      'pieceLength',
      'pieceCount',
      'totalSize',
      'fileCount',
      'seconds',
    ])
      expect(doc, key).toHaveProperty(key);
    expect(doc.torrent).toBe(out);
    expect(doc.name).toBe('payload');
    expect(doc.infoHash).toMatch(/^[0-9a-f]{40}$/);
    expect(doc.infoHashV2).toMatch(/^[0-9a-f]{64}$/);
    expect(doc.magnet).toMatch(/^magnet:\?/);
    expect(doc.fileCount).toBe(spanningTree().length);
    expect(doc.totalSize).toBe(spanningTree().reduce((sum, f) => sum + f.size, 0));
    expect(typeof doc.seconds).toBe('number');
    expect(existsSync(out)).toBe(true);
  });

  it('--no-date is byte-identical twice, and -o - writes the same bytes to stdout', async () => {
    const [a, b] = [path.join(cwd, 'nd-a.torrent'), path.join(cwd, 'nd-b.torrent')];
    const runs = await Promise.all([
      runShoal(['create', data, '--no-date', '--hybrid', '-o', a], { cwd }),
      runShoal(['create', data, '--no-date', '--hybrid', '-o', b], { cwd }),
      runShoal(['create', data, '--no-date', '--hybrid', '-o', '-'], { cwd }),
    ]);
    for (const run of runs) expect(run.code, show(run)).toBe(0);
    const [bytesA, bytesB] = await Promise.all([readFile(a), readFile(b)]);
    expect(bytesA.equals(bytesB)).toBe(true);
    expect(runs[2].stdoutBytes.equals(bytesA)).toBe(true);
    expect(bytesA.includes('creation date')).toBe(false);
  });

  it('refuses to overwrite an existing file without --force', async () => {
    const out = path.join(cwd, 'exists.torrent');
    await writeFile(out, 'keep me');
    const refused = await runShoal(['create', data, '-o', out], { cwd });
    expect(refused.code, show(refused)).not.toBe(0);
    expectOneLineError(refused.stderr);
    expect(refused.stderr).toContain('--force');
    expect(await readFile(out, 'utf8')).toBe('keep me');
    const forced = await runShoal(['create', data, '-o', out, '--force'], { cwd });
    expect(forced.code, show(forced)).toBe(0);
    expect((await readFile(out)).subarray(0, 1).toString()).toBe('d');
  });

  it('an empty directory or a missing path is an error with one line', async () => {
    const empty = tempDir('shoal-empty-');
    const results = await Promise.all([
      runShoal(['create', empty, '-o', path.join(cwd, 'empty.torrent')], { cwd }),
      runShoal(['create', path.join(cwd, 'nope'), '-o', path.join(cwd, 'nope.torrent')], { cwd }),
    ]);
    // An empty directory is bad input (3); a path that cannot be read is a disk error (5).
    expect(results[0].code, show(results[0])).toBe(3);
    expect(results[1].code, show(results[1])).toBe(5);
    for (const result of results) expectOneLineError(result.stderr);
    expect(results[1].stderr).toContain('nope');
    expect(existsSync(path.join(cwd, 'empty.torrent'))).toBe(false);
  });
});

describe('inspect --verify', () => {
  let parent: string;
  let torrent: string;
  beforeAll(async () => {
    parent = tempDir('shoal-verify-');
    await makeTree(path.join(parent, 'payload'), spanningTree());
    torrent = path.join(parent, 'payload.torrent');
    const created = await runShoal(
      ['create', path.join(parent, 'payload'), '--piece-length', '16KiB', '-o', torrent],
      { cwd },
    );
    expect(created.code, show(created)).toBe(0);
  });

  it('exit 0 on good data', async () => {
    const result = await runShoal(['inspect', torrent, '--verify', parent], { cwd });
    expect(result.code, show(result)).toBe(0);
    const json = await runShoal(['inspect', torrent, '--verify', parent, '--json'], { cwd });
    expect(json.code, show(json)).toBe(0);
    expect((JSON.parse(json.stdout) as { verify: { ok: boolean } }).verify.ok).toBe(true);
  });

  it('exit 6 after one flipped byte, naming the file', async () => {
    const victim = path.join(parent, 'payload', 'docs', 'deep', 'er', 'c.bin');
    const original = await readFile(victim);
    const handle = await open(victim, 'r+');
    try {
      await handle.write(Buffer.from([original[20_000] ^ 0xff]), 0, 1, 20_000);
    } finally {
      await handle.close();
    }
    try {
      const result = await runShoal(['inspect', torrent, '--verify', parent], { cwd });
      expect(result.code, show(result)).toBe(6);
      expect(result.stdout).toContain('payload/docs/deep/er/c.bin');
      expect(result.stdout).not.toContain('payload/media/b.bin');
      expectErrorLast(result.stderr);
    } finally {
      await writeFile(victim, original);
    }
  });

  it('exit 6 after deleting a file, naming it', async () => {
    const victim = path.join(parent, 'payload', 'media', 'small.bin');
    const original = await readFile(victim);
    await rm(victim);
    try {
      const result = await runShoal(['inspect', torrent, '--verify', parent], { cwd });
      expect(result.code, show(result)).toBe(6);
      expect(result.stdout).toContain('payload/media/small.bin');
    } finally {
      await writeFile(victim, original);
    }
  });
});
