/**
 * Issue #15 item 4: one rule for every output file a user names
 * (`download --save-torrent`, `seed PATH -o`, `create -o`): an existing file
 * is refused (exit 2, one line) unless --force, before any slow work; and the
 * file is replaced whole or not at all, so a full disk never leaves half a
 * file where a good one was.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseTorrent, toHex } from '../../src/core/metainfo/index.ts';
import { runShoal, show, spawnShoal, trackProcesses, type RunResult } from '../helpers/cli.ts';
import { cleanupTempDirs, tempDir } from '../helpers/files.ts';

trackProcesses();
cleanupTempDirs();

const GOOD = 'a good file that must survive\n';
let work: string;
let payload: string;
let stateHome: string;
const env = () => ({ XDG_STATE_HOME: stateHome });

beforeAll(() => {
  work = tempDir('shoal-outfiles-');
  stateHome = tempDir('shoal-state-');
  payload = join(work, 'payload.bin');
  writeFileSync(payload, randomBytes(100_000));
});

let cases = 0;
/** A fresh existing output file holding GOOD. */
function existingFile(): string {
  const dir = join(work, `case-${++cases}`);
  mkdirSync(dir);
  const path = join(dir, 'existing.torrent');
  writeFileSync(path, GOOD);
  return path;
}

/** Exit 2 with one error line naming `path` and pointing at --force. */
function expectRefused(result: RunResult, path: string): void {
  expect(result.code, show(result)).toBe(2);
  const errors = result.stderr.split('\n').filter((line) => line.startsWith('shoal: error:'));
  expect(errors, show(result)).toEqual([
    `shoal: error: ${path} already exists (use --force to overwrite)`,
  ]);
}

describe('an existing output file is refused unless --force', () => {
  it('download --save-torrent: refused at once, before the metadata is fetched', async () => {
    const path = existingFile();
    const magnet = `magnet:?xt=urn:btih:${'ab'.repeat(20)}`;
    const result = await runShoal(
      ['download', magnet, '--save-torrent', path, '-o', join(work, 'dl'), '--timeout', '20s'],
      { env: env(), timeoutMs: 30_000 },
    );
    expectRefused(result, path);
    expect(readFileSync(path, 'utf8')).toBe(GOOD);
  });

  it('download --save-torrent --force: replaced by the fetched metainfo', async () => {
    const path = existingFile();
    // Port 0 and the port shoal names: a port found free first could be taken before it binds.
    const seed = spawnShoal(['seed', payload, '--port', '0', '--no-dht'], { env: env() });
    const magnet = (await seed.waitFor(/magnet:\S+/, 30_000, 'stdout'))[0];
    const port = Number((await seed.waitFor(/listening on port (\d+)/, 30_000, 'stderr'))[1]);
    const out = join(work, `dl-${cases}`);
    const result = await runShoal(
      [
        'download',
        magnet,
        '--peer',
        `127.0.0.1:${port}`,
        '--save-torrent',
        path,
        '--force',
        '-o',
        out,
        '--timeout',
        '30s',
      ],
      { env: env() },
    );
    seed.kill();
    expect(result.code, show(result)).toBe(0);
    const saved = parseTorrent(readFileSync(path));
    expect(magnet).toContain(toHex(saved.infoHash!));
    expect(readdirSync(join(path, '..'))).toEqual(['existing.torrent']);
  });

  it('seed PATH -o: refused at once, before hashing or listening', async () => {
    const path = existingFile();
    const result = await runShoal(['seed', payload, '-o', path, '--seed-time', '1s'], {
      env: env(),
    });
    expectRefused(result, path);
    expect(readFileSync(path, 'utf8')).toBe(GOOD);
  });

  it('seed PATH -o --force: replaced by the torrent it serves', async () => {
    const path = existingFile();
    const result = await runShoal(
      ['seed', payload, '-o', path, '--force', '--port', '0', '--seed-time', '1s', '--no-dht'],
      { env: env() },
    );
    expect(result.code, show(result)).toBe(0);
    const magnet = result.stdout.split('\n')[0];
    expect(magnet).toContain(toHex(parseTorrent(readFileSync(path)).infoHash!));
    expect(readdirSync(join(path, '..'))).toEqual(['existing.torrent']);
  });

  it('create -o: refused without --force, replaced with it', async () => {
    const path = existingFile();
    expectRefused(await runShoal(['create', payload, '-o', path], { env: env() }), path);
    expect(readFileSync(path, 'utf8')).toBe(GOOD);
    const forced = await runShoal(['create', payload, '-o', path, '--force'], { env: env() });
    expect(forced.code, show(forced)).toBe(0);
    expect(parseTorrent(readFileSync(path)).name).toBe('payload.bin');
  });
});

describe('an output file is replaced whole or not at all', () => {
  const mounts: string[] = [];
  afterEach(() => {
    for (const dir of mounts.splice(0)) execFileSync('umount', ['-l', dir]);
  });

  it('create --force on a full disk keeps the old file intact (exit 5)', async () => {
    expect(process.getuid?.(), 'this test mounts a tmpfs: it needs root').toBe(0);
    const mount = join(work, 'small');
    mkdirSync(mount);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mount]);
    mounts.push(mount);
    // An old torrent of 40 KB fills most of the 64 KiB disk.
    const old = Buffer.alloc(40_000, 7);
    const path = join(mount, 'big.torrent');
    writeFileSync(path, old);
    // The new one is about 80 KB (4096 pieces of 20 bytes): it cannot fit beside the old one.
    const big = join(work, 'sparse.bin');
    writeFileSync(big, '');
    truncateSync(big, 64 * 1024 * 1024);
    const result = await runShoal(
      ['create', big, '-o', path, '--force', '--piece-length', '16KiB', '--no-date'],
      { env: env() },
    );
    expect(result.code, show(result)).toBe(5);
    expect(result.stderr).toMatch(/no space left on device/);
    expect(readFileSync(path)).toEqual(old);
    expect(readdirSync(mount)).toEqual(['big.torrent']);
  });
});
