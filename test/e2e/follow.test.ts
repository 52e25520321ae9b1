/**
 * Updatable torrents end to end (BEP 46) on a private loopback DHT: a
 * publisher seeds build 1 and publishes it under its key; `shoal download
 * 'magnet:?xs=urn:btpk:…' --follow` fetches it, then build 2 (one file
 * changed, one not) is seeded and published, and the follower brings the
 * same folder to build 2, fetching only what changed. SIGTERM while waiting
 * ends the follow with exit 0.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runShoal, show, spawnShoal, trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs, diffTrees, tempDir } from '../helpers/files.ts';
import { createTorrent, startShoalSeeder, until } from '../helpers/swarm.ts';
import { startPrivateDht, type PrivateDht } from '../core/updatable/private-dht.ts';

trackProcesses();
cleanupTempDirs();

let net: PrivateDht;
let work: string;
let keyFile: string;

/** A fresh cache directory per process, so no DHT routing table leaks between runs. */
const isolated = () => ({ env: { XDG_CACHE_HOME: mkdtempSync(path.join(work, 'cache-')) } });

beforeAll(async () => {
  net = await startPrivateDht(4);
  work = tempDir('shoal-follow-');
  keyFile = path.join(work, 'publisher.key');
  const made = await runShoal(['keygen', '-o', keyFile]);
  expect(made.code, show(made)).toBe(0);
}, 60_000);
afterAll(async () => {
  await net?.close();
});

describe('download --follow', () => {
  it('fetches the latest version, then each newer one into the same folder', async () => {
    const dht = ['--dht-bootstrap', net.entry];
    // Build 1 and build 2 share lib.bin; app.bin changes.
    const lib = randomBytes(256 * 1024);
    const build = async (n: number) => {
      const parent = path.join(work, `build-${n}`);
      await mkdir(path.join(parent, 'app'), { recursive: true });
      await writeFile(path.join(parent, 'app/lib.bin'), lib);
      await writeFile(path.join(parent, 'app/app.bin'), randomBytes(100_000 + n));
      const { torrent } = await createTorrent(
        path.join(parent, 'app'),
        path.join(work, `build-${n}.torrent`),
        ['--piece-length', '16KiB'],
      );
      return { parent, torrent };
    };
    const publish = async (torrent: string) => {
      const result = await runShoal(
        ['publish', '--key', keyFile, '--salt', 'nightly', torrent, ...dht],
        { timeoutMs: 60_000 },
      );
      expect(result.code, show(result)).toBe(0);
      return result.stdout.trim();
    };

    const one = await build(1);
    const seeder1 = await startShoalSeeder(one.torrent, one.parent, dht, isolated());
    const magnet = await publish(one.torrent);
    expect(magnet).toMatch(/^magnet:\?xs=urn:btpk:[0-9a-f]{64}&s=/);

    const out = path.join(work, 'out');
    const follower = spawnShoal(
      ['download', magnet, '-o', out, '--follow', '--follow-interval', '1s', '--json', ...dht],
      { ...isolated(), timeoutMs: 170_000 },
    );
    const two = await build(2);
    let seeder2: Awaited<ReturnType<typeof startShoalSeeder>> | null = null;
    try {
      // Each finished version prints its --json result on stdout.
      await follower.waitFor(/"status":"complete"/, 60_000, 'stdout');
      expect(await diffTrees(path.join(one.parent, 'app'), path.join(out, 'app'))).toEqual([]);
      seeder1.proc.kill('SIGTERM');

      seeder2 = await startShoalSeeder(two.torrent, two.parent, dht, isolated());
      await publish(two.torrent);
      await until(
        () => follower.stdout.split('\n').filter((line) => line.includes('"complete"')).length >= 2,
        90_000,
        () => follower.describe(),
      );
      expect(await diffTrees(path.join(two.parent, 'app'), path.join(out, 'app'))).toEqual([]);
      const results = follower.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { downloaded: number });
      // lib.bin (256 KiB) was on disk already: the second version fetched app.bin's pieces only.
      expect(results[1]!.downloaded).toBeLessThan(150_000);
      expect(follower.stderr).toMatch(/waiting for a version newer than/);

      follower.kill('SIGTERM');
      const ended = await follower.exited;
      expect(ended.code, show(ended)).toBe(0);
    } finally {
      seeder1.proc.kill('SIGTERM');
      seeder2?.proc.kill('SIGTERM');
    }
  }, 180_000);

  it('--follow without an updatable magnet, or an updatable magnet with --no-dht, is bad usage', async () => {
    const plain = await runShoal(['download', '0'.repeat(40), '--follow']);
    expect(plain.code, show(plain)).toBe(2);
    expect(plain.stderr).toMatch(/--follow needs an updatable magnet link/);
    const noDht = await runShoal([
      'download',
      `magnet:?xs=urn:btpk:${'ab'.repeat(32)}&s=6e`,
      '--no-dht',
    ]);
    expect(noDht.code, show(noDht)).toBe(2);
    expect(noDht.stderr.trim().split('\n')).toHaveLength(1);
  });
});
