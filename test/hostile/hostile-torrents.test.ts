/**
 * .torrent files built to hurt: names that collide only on case-insensitive
 * or normalising file systems, paths deep or long enough to make sanitizing
 * quadratic, and millions of tiny bencode tokens. Each runs the real CLI on
 * a generated file and checks what a user sees: the exit code, one line on
 * stderr, and the files a download writes.
 *
 * Time and memory are logged for the cost cases, never asserted (the machine
 * is shared); what is asserted is that shoal refuses or accepts.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeBencode } from '../../src/core/bencode/index.ts';
import { runShoal, shoalCommand, show, spawnTracked, trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs, tempDir } from '../helpers/files.ts';
import { requirePeers, startAria2Seeder } from '../helpers/peers.ts';

trackProcesses();
cleanupTempDirs();

const GNU_TIME = '/usr/bin/time';

/** A v1 multi-file torrent (with zeroed piece hashes) whose first file has `components`. */
function v1Torrent(paths: string[][], extraTop: Record<string, unknown> = {}): Uint8Array {
  const files = paths.map((components) => ({ length: 1, path: components }));
  return encodeBencode({
    ...extraTop,
    info: {
      name: 'hostile',
      'piece length': 16384,
      pieces: Buffer.alloc(20),
      files,
    },
  });
}

async function torrentFile(bytes: Uint8Array | Buffer, name = 'x.torrent'): Promise<string> {
  const file = path.join(tempDir('shoal-hostile-torrent-'), name);
  await writeFile(file, bytes);
  return file;
}

/**
 * Runs `shoal inspect` and logs its wall time and peak memory (through GNU
 * time when the machine has it). Returns the run result.
 */
async function inspectMeasured(label: string, file: string, extra: string[] = []) {
  const report = path.join(path.dirname(file), 'time.txt');
  const started = Date.now();
  let result;
  if (existsSync(GNU_TIME)) {
    const { file: bin, prefix } = shoalCommand();
    const proc = spawnTracked(
      'shoal inspect (timed)',
      GNU_TIME,
      ['-f', '%M', '-o', report, bin, ...prefix, 'inspect', file, ...extra],
      { env: { NO_COLOR: '1', SHOAL_NO_DHT: '1' }, timeoutMs: 120_000 },
    );
    result = await proc.exited;
  } else {
    result = await runShoal(['inspect', file, ...extra], { timeoutMs: 120_000 });
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(2);
  const peak = existsSync(report)
    ? `${Math.round(Number((await readFile(report, 'utf8')).trim().split('\n').at(-1)) / 1024)} MiB peak`
    : 'peak memory not measured (no /usr/bin/time)';
  console.log(`${label}: exit ${result.code}, ${seconds} s, ${peak}`);
  return result;
}

/** One `shoal: error:` line on stderr and nothing else (no stack trace). */
function expectOneLineError(stderr: string, pattern: RegExp): void {
  const lines = stderr.trim().split('\n');
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^shoal: error: /);
  expect(lines[0]).toMatch(pattern);
}

describe('hostile torrents: path depth and size', () => {
  it('refuses a v1 path of 40 000 components with one line, exit 3', async () => {
    const deep = Array.from({ length: 40_000 }, () => 'a');
    const file = await torrentFile(v1Torrent([deep]));
    const result = await inspectMeasured('40 000-component path', file);
    expect(result.code, show(result)).toBe(3);
    expectOneLineError(result.stderr, /deeper than 60/);
  }, 150_000);

  it('refuses a v1 path whose components add up to more than 4096 bytes', async () => {
    // 40 components of 200 bytes: within the depth cap, each component legal, 8 KB in all.
    const long = Array.from({ length: 40 }, (_, i) => `${i}`.padEnd(200, 'x'));
    const file = await torrentFile(v1Torrent([['ok.txt'], long]));
    const result = await inspectMeasured('8 KB path', file);
    expect(result.code, show(result)).toBe(3);
    expectOneLineError(result.stderr, /longer than 4096 bytes/);
  }, 150_000);

  it('accepts a path exactly at the depth cap', async () => {
    const atCap = Array.from({ length: 60 }, (_, i) => `d${i}`);
    const file = await torrentFile(v1Torrent([atCap]));
    const result = await runShoal(['inspect', file, '--json']);
    expect(result.code, show(result)).toBe(0);
    const doc = JSON.parse(result.stdout) as { files: { path: string }[] };
    expect(doc.files[0].path.split('/')).toHaveLength(61); // the torrent's name, then 60
  }, 60_000);

  it('refuses millions of tiny tokens (memory would dwarf the file), exit 3', async () => {
    // 3.9 million empty strings in a key nobody reads: 7.8 MB of file that would
    // decode into millions of objects.
    const head = Buffer.from(v1Torrent([['a.txt']])).subarray(0, -1); // the dict without its 'e'
    const junk = Buffer.concat([
      Buffer.from('5:zjunkl'),
      Buffer.from('0:'.repeat(3_900_000)),
      Buffer.from('ee'),
    ]);
    const file = await torrentFile(Buffer.concat([head, junk]));
    const result = await inspectMeasured('3.9 M empty strings', file);
    expect(result.code, show(result)).toBe(3);
    expectOneLineError(result.stderr, /values for its size/);
  }, 150_000);

  it('still reads a torrent of 100 000 small files', async () => {
    const paths = Array.from({ length: 100_000 }, (_, i) => [`dir${i % 100}`, `f${i}.bin`]);
    const pieces = Math.ceil(100_000 / 16384);
    const bytes = encodeBencode({
      info: {
        name: 'many',
        'piece length': 16384,
        pieces: Buffer.alloc(20 * pieces),
        files: paths.map((components) => ({ length: 1, path: components })),
      },
    });
    const file = await torrentFile(bytes);
    const result = await inspectMeasured('100 000 files', file);
    expect(result.code, show(result)).toBe(0);
  }, 150_000);
});

describe('hostile torrents: names that collide on case-insensitive or normalising file systems', () => {
  requirePeers('aria2c');

  const nfc = 'caf\u00e9.txt';
  const nfd = 'cafe\u0301.txt';

  it('inspect shows distinct paths for names equal up to case and Unicode normalisation', async () => {
    const file = await torrentFile(
      v1Torrent([['Readme.txt'], ['README.TXT'], [nfc], [nfd], ['Dir', 'a'], ['dir', 'A']]),
    );
    const result = await runShoal(['inspect', file, '--json']);
    expect(result.code, show(result)).toBe(0);
    const paths = (JSON.parse(result.stdout) as { files: { path: string }[] }).files.map(
      (f) => f.path,
    );
    expect(paths).toEqual([
      'hostile/Readme.txt',
      'hostile/README (1).TXT',
      `hostile/${nfc}`,
      `hostile/${nfd.replace('.txt', ' (1).txt')}`,
      'hostile/Dir/a',
      'hostile/dir/A (1)',
    ]);
    const folded = paths.map((p) => p.normalize('NFC').toLowerCase());
    expect(new Set(folded).size).toBe(paths.length);
  }, 60_000);

  it('a download writes every file under a distinct name, keeping the first spelling', async () => {
    // Made on Linux, where all four names are distinct files; aria2c seeds them as they are.
    const work = tempDir('shoal-hostile-collide-');
    const data = path.join(work, 'seed', 'names');
    const contents: Record<string, string> = {
      'Readme.txt': 'first readme\n',
      'README.TXT': 'second README\n',
      [nfc]: 'composed\n',
      [nfd]: 'decomposed\n',
    };
    await mkdir(data, { recursive: true });
    for (const [name, text] of Object.entries(contents)) {
      await writeFile(path.join(data, name), text);
    }
    const torrent = path.join(work, 'names.torrent');
    const created = await runShoal(['create', data, '-o', torrent, '--force', '--no-date']);
    expect(created.code, show(created)).toBe(0);
    const seeder = await startAria2Seeder(torrent, path.join(work, 'seed'));
    const out = path.join(work, 'out');
    const result = await runShoal(
      ['download', torrent, '-o', out, '--peer', `127.0.0.1:${seeder.port}`, '--timeout', '60s'],
      { timeoutMs: 90_000 },
    );
    expect(result.code, show(result)).toBe(0);
    const written = (await readdir(path.join(out, 'names'))).sort();
    const folded = written.map((name) => name.normalize('NFC').toLowerCase());
    expect(new Set(folded).size, written.join(', ')).toBe(4);
    // Every file's data is there; whichever name came first in the torrent kept its spelling.
    const texts = await Promise.all(
      written.map((name) => readFile(path.join(out, 'names', name), 'utf8')),
    );
    expect(texts.sort()).toEqual(Object.values(contents).sort());
    const kept = written.filter((name) => contents[name] !== undefined);
    expect(kept.length).toBe(2);
  }, 120_000);
});
