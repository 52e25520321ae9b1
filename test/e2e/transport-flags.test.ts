/**
 * `--transport` and `--encryption` end to end, shoal to shoal on 127.0.0.1:
 * downloads with encryption required on both sides over TCP, over uTP and
 * with both; `--transport both` reaching a seeder that listens on TCP only
 * and one that listens on uTP only; a plaintext-only downloader refused by a
 * seeder that requires encryption; bad values refused in one line; `--help`
 * saying what each value does. Every download is compared byte for byte.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { runShoal, show, trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs, sameFile, tempDir } from '../helpers/files.ts';
import { createTorrent, peerArg, startShoalSeeder } from '../helpers/swarm.ts';

trackProcesses();
// Whole processes on a shared 2-core machine: generous bounds, never timing assertions.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });
cleanupTempDirs();

let work: string;
let dataDir: string;
let torrent: string;

beforeAll(async () => {
  work = tempDir('shoal-transport-flags-');
  dataDir = path.join(work, 'data');
  await mkdir(dataDir);
  await writeFile(path.join(dataDir, 'payload.bin'), randomBytes(3 * 1024 * 1024 + 777));
  ({ torrent } = await createTorrent(
    path.join(dataDir, 'payload.bin'),
    path.join(work, 'payload.torrent'),
    ['--piece-length', '64KiB'],
  ));
});

/** Seeds with `seedFlags`, downloads with `leechFlags`; resolves with the download's result. */
async function transfer(seedFlags: string[], leechFlags: string[], extra: string[] = []) {
  const seeder = await startShoalSeeder(torrent, dataDir, ['--no-lsd', ...seedFlags]);
  const out = tempDir('shoal-transport-out-');
  const result = await runShoal(
    ['download', torrent, '-o', out, ...peerArg(seeder.port), '--no-dht', '--no-lsd'].concat(
      leechFlags,
      extra,
    ),
    { timeoutMs: 100_000 },
  );
  seeder.proc.kill('SIGKILL');
  return { result, file: path.join(out, 'payload.bin') };
}

describe('--encryption require, shoal to shoal', () => {
  it.each(['tcp', 'utp', 'both'])('over --transport %s', async (transport) => {
    const flags = ['--encryption', 'require', '--transport', transport];
    const { result, file } = await transfer(flags, flags);
    expect(result.code, show(result)).toBe(0);
    expect(await sameFile(file, path.join(dataDir, 'payload.bin'))).toBe(true);
  });

  it('a downloader with --encryption off gets nothing from a seeder that requires it', async () => {
    const { result } = await transfer(
      ['--encryption', 'require'],
      ['--encryption', 'off'],
      ['--timeout', '4s'],
    );
    expect(result.code, show(result)).toBe(4);
  });

  it('--encryption prefer downloads from a seeder that requires it', async () => {
    const { result, file } = await transfer(
      ['--encryption', 'require'],
      ['--encryption', 'prefer'],
    );
    expect(result.code, show(result)).toBe(0);
    expect(await sameFile(file, path.join(dataDir, 'payload.bin'))).toBe(true);
  });

  it('--encryption prefer downloads from a seeder with encryption off (plaintext retry)', async () => {
    const { result, file } = await transfer(['--encryption', 'off'], ['--encryption', 'prefer']);
    expect(result.code, show(result)).toBe(0);
    expect(await sameFile(file, path.join(dataDir, 'payload.bin'))).toBe(true);
  });
});

describe('--transport both (the default)', () => {
  it.each(['tcp', 'utp'])('reaches a seeder that listens on %s only', async (only) => {
    const { result, file } = await transfer(['--transport', only], []);
    expect(result.code, show(result)).toBe(0);
    expect(await sameFile(file, path.join(dataDir, 'payload.bin'))).toBe(true);
  });

  it('--transport tcp does not reach a seeder that listens on uTP only', async () => {
    const { result } = await transfer(
      ['--transport', 'utp'],
      ['--transport', 'tcp'],
      ['--timeout', '4s'],
    );
    expect(result.code, show(result)).toBe(4);
  });
});

describe('flag values', () => {
  it.each([
    ['--transport', 'carrier-pigeon'],
    ['--encryption', 'maybe'],
  ])('%s %s is refused in one line, exit 2', async (flag, value) => {
    const result = await runShoal(['download', torrent, flag, value]);
    expect(result.code, show(result)).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(flag);
  });

  it.each(['download', 'seed'])('%s --help says what each value does', async (command) => {
    const result = await runShoal([command, '--help']);
    expect(result.code, show(result)).toBe(0);
    const help = result.stdout.replace(/\s+/g, ' ');
    expect(help).toMatch(/--transport=<option>.*tcp, utp \(uTP over UDP\), or both/);
    expect(help).toMatch(/--encryption=<option>.*prefer \(dial encrypted.*require \(.*off \(/);
  });
});
