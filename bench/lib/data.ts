/**
 * Reproducible benchmark data: every byte comes from AES-256-CTR keyed by the
 * seed and the data set's name, file sizes from a seeded PRNG. A data set is
 * written once per scratch directory (a manifest marks it complete) and read
 * once before timing so the page cache is warm.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

const CHUNK = 8 << 20;
const zeros = Buffer.alloc(CHUNK);

export const MiB = 1 << 20;
export const GiB = 1 << 30;

export interface DataFile {
  /** Path relative to the data set's root. */
  path: string;
  length: number;
}

export interface DataSet {
  name: string;
  /** The file (single) or directory (tree) a torrent is made of. */
  root: string;
  /** The directory holding `root`: what a client's output/save directory is. */
  parent: string;
  files: DataFile[];
  totalSize: number;
  single: boolean;
}

/** mulberry32: a small seeded PRNG for sizes and layout. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function writeRandomFile(file: string, length: number, key: string): Promise<void> {
  const digest = createHash('sha256').update(key).digest();
  const cipher = createCipheriv('aes-256-ctr', digest, Buffer.alloc(16));
  await mkdir(path.dirname(file), { recursive: true });
  const handle = await open(file, 'w');
  try {
    let left = length;
    while (left > 0) {
      const n = Math.min(left, CHUNK);
      const bytes = cipher.update(n === CHUNK ? zeros : zeros.subarray(0, n));
      await handle.write(bytes, 0, bytes.length);
      left -= n;
    }
  } finally {
    await handle.close();
  }
}

async function ready(dir: string, name: string, expect: DataSet): Promise<boolean> {
  const manifest = await readFile(path.join(dir, `${name}.manifest.json`), 'utf8').catch(
    () => null,
  );
  return manifest === JSON.stringify(expect.files);
}

/** One file of `length` bytes at `<scratch>/<name>/<name>.bin`. */
export async function singleFile(
  scratch: string,
  name: string,
  length: number,
  seed: number,
): Promise<DataSet> {
  const parent = path.join(scratch, name);
  const fileName = `${name}.bin`;
  const set: DataSet = {
    name,
    root: path.join(parent, fileName),
    parent,
    files: [{ path: fileName, length }],
    totalSize: length,
    single: true,
  };
  if (!(await ready(scratch, name, set))) {
    await rm(parent, { recursive: true, force: true });
    await writeRandomFile(set.root, length, `${seed}:${name}`);
    await writeFile(path.join(scratch, `${name}.manifest.json`), JSON.stringify(set.files));
  }
  return set;
}

/**
 * About `count` files totalling about `totalSize` bytes in nested directories,
 * sizes log-uniform from 1 byte to 64x the mean (mixed small and large files).
 */
export async function tree(
  scratch: string,
  name: string,
  count: number,
  totalSize: number,
  seed: number,
): Promise<DataSet> {
  const random = prng(seed ^ 0x5eed);
  const mean = totalSize / count;
  const raw = Array.from({ length: count }, () => Math.exp(random() * Math.log(mean * 64)));
  const scale = totalSize / raw.reduce((a, b) => a + b, 0);
  const dirs = Math.max(1, Math.round(count / 50));
  const files: DataFile[] = raw.map((size, i) => {
    const d = Math.floor(random() * dirs);
    const sub = Math.floor(random() * 4);
    return {
      path: path.join(
        `d${String(d).padStart(3, '0')}`,
        `s${sub}`,
        `f${String(i).padStart(5, '0')}.dat`,
      ),
      length: Math.max(1, Math.round(size * scale)),
    };
  });
  files.sort((a, b) => (a.path < b.path ? -1 : 1));
  const parent = path.join(scratch, name);
  const set: DataSet = {
    name,
    root: path.join(parent, name),
    parent,
    files,
    totalSize: files.reduce((a, f) => a + f.length, 0),
    single: false,
  };
  if (!(await ready(scratch, name, set))) {
    await rm(parent, { recursive: true, force: true });
    for (const file of files) {
      await writeRandomFile(
        path.join(set.root, file.path),
        file.length,
        `${seed}:${name}:${file.path}`,
      );
    }
    await writeFile(path.join(scratch, `${name}.manifest.json`), JSON.stringify(set.files));
  }
  return set;
}

/** The data set's files, absolute. */
export function absoluteFiles(set: DataSet): string[] {
  return set.single ? [set.root] : set.files.map((f) => path.join(set.root, f.path));
}

/** Read every byte once so timed runs start with a warm page cache. */
export async function warm(set: DataSet): Promise<void> {
  for (const file of absoluteFiles(set)) {
    await new Promise<void>((resolve, reject) => {
      const stream = createReadStream(file, { highWaterMark: CHUNK });
      stream.on('data', () => {});
      stream.on('end', resolve);
      stream.on('error', reject);
    });
  }
}
