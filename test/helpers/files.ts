/**
 * Test data on disk: temporary directories removed after the tests, random
 * file trees shaped to stress the piece/file mapping (nested directories,
 * empty files, files smaller than a piece so that pieces span several files),
 * and byte-for-byte comparison of two trees.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, realpathSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

const made: string[] = [];

/** A fresh directory under the system temp dir (real path: no symlinked /tmp surprises). */
export function tempDir(prefix = 'shoal-e2e-'): string {
  const dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), prefix)));
  made.push(dir);
  return dir;
}

/**
 * A fresh work directory holding `seed/payload`, a `spanningTree()`: seeders
 * serve it from `seedParent`, torrents are made from `payload`.
 */
export async function spanningPayload(
  prefix: string,
): Promise<{ work: string; seedParent: string; payload: string }> {
  const work = tempDir(prefix);
  const seedParent = path.join(work, 'seed');
  const payload = path.join(seedParent, 'payload');
  await makeTree(payload, spanningTree());
  return { work, seedParent, payload };
}

/** Removes every directory `tempDir` made in this file, after its tests (kept with KEEP_TEST_DIRS=1). */
export function cleanupTempDirs(): void {
  afterAll(async () => {
    if (process.env.KEEP_TEST_DIRS) return;
    await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });
}

export interface FileSpec {
  /** `/`-separated, relative to the tree's root. */
  path: string;
  size: number;
}

/** Writes random content for each spec under `root`; returns the specs. */
export async function makeTree(root: string, files: FileSpec[]): Promise<FileSpec[]> {
  for (const file of files) {
    const target = path.join(root, ...file.path.split('/'));
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, randomBytes(file.size));
  }
  return files;
}

/**
 * A multi-file tree of about 3 MiB meant for 16 KiB pieces: sizes that are
 * not multiples of the piece length, several files inside one piece, empty
 * files at the start, middle and end, nested directories.
 */
export function spanningTree(): FileSpec[] {
  return [
    { path: '0-empty-first', size: 0 },
    { path: 'a.bin', size: 1_000_003 },
    { path: 'docs/readme.txt', size: 5_000 },
    { path: 'docs/empty.txt', size: 0 },
    { path: 'docs/tiny', size: 1 },
    { path: 'docs/deep/er/c.bin', size: 40_000 },
    { path: 'docs/deep/er/d.bin', size: 3_333 },
    { path: 'media/b.bin', size: 1_500_000 },
    { path: 'media/small.bin', size: 16_385 },
    { path: 'z/last.bin', size: 600_001 },
    { path: 'z/zz-empty-last', size: 0 },
  ];
}

/** Every regular file under `root`, as sorted `/`-joined relative paths. */
export async function listFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string, prefix: string) => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await walk(path.join(dir, entry.name), rel);
      else out.push(rel);
    }
  };
  await walk(root, '');
  return out.sort();
}

async function digest(file: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(file))
    .digest('hex');
}

/**
 * Differences between two trees: files missing on either side and files whose
 * bytes differ. An empty list means byte-for-byte identical. Paths matching
 * `ignore` (e.g. shoal's `.shoal/` state directory) are left out of both sides.
 */
export async function diffTrees(
  expected: string,
  actual: string,
  ignore?: RegExp,
): Promise<string[]> {
  const keep = (p: string) => !ignore || !ignore.test(p);
  const [a, b] = [(await listFiles(expected)).filter(keep), (await listFiles(actual)).filter(keep)];
  const problems: string[] = [];
  const inB = new Set(b);
  for (const file of a) {
    if (!inB.has(file)) problems.push(`missing: ${file}`);
    else if ((await digest(path.join(expected, file))) !== (await digest(path.join(actual, file))))
      problems.push(`differs: ${file}`);
  }
  const inA = new Set(a);
  for (const file of b) if (!inA.has(file)) problems.push(`unexpected: ${file}`);
  return problems;
}

/** True when the two files hold the same bytes. */
export async function sameFile(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([stat(a), stat(b)]);
  return x.size === y.size && (await digest(a)) === (await digest(b));
}
