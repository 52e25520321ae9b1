/**
 * shoal to shoal over ::1, through each way bytes can travel: plain TCP,
 * uTP (one UDP socket on the listening port, both stacks) and encrypted
 * (MSE, `--encryption require`). The seeder listens on every address; the
 * downloader is given `--peer [::1]:PORT` only. And the one place IPv6 is
 * refused on the command line: DHT nodes.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { runShoal, show, trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs, sameFile, tempDir } from '../helpers/files.ts';
import { createTorrent, startShoalSeeder } from '../helpers/swarm.ts';

trackProcesses();
vi.setConfig({ testTimeout: 90_000, hookTimeout: 60_000 });
cleanupTempDirs();

describe('shoal to shoal over IPv6 (::1)', () => {
  let work: string;
  let seedDir: string;
  let data: string;
  let torrent: string;

  beforeAll(async () => {
    work = tempDir('shoal-v6-');
    seedDir = path.join(work, 'seed');
    data = path.join(seedDir, 'data.bin');
    await mkdir(seedDir);
    await writeFile(data, randomBytes(3 * 1024 * 1024));
    ({ torrent } = await createTorrent(data, path.join(work, 'data.torrent')));
  });

  it.each([
    ['TCP', ['--transport', 'tcp']],
    ['uTP', ['--transport', 'utp']],
    ['encrypted TCP', ['--transport', 'tcp', '--encryption', 'require']],
  ])('downloads over %s from [::1]:PORT', async (_how, flags) => {
    const seeder = await startShoalSeeder(torrent, seedDir, ['--no-dht', ...flags], { cwd: work });
    const out = tempDir('shoal-v6-out-');
    const result = await runShoal(
      [
        'download',
        torrent,
        '-o',
        out,
        '--peer',
        `[::1]:${seeder.port}`,
        '--no-dht',
        ...flags,
        '--timeout',
        '30s',
        '--events',
      ],
      { cwd: work, timeoutMs: 60_000 },
    );
    const context = `${show(result)}\n${seeder.proc.describe()}`;
    expect(result.code, context).toBe(0);
    expect(await sameFile(data, path.join(out, 'data.bin'))).toBe(true);
    expect(result.stdout, context).toContain(`"peer":"[::1]:${seeder.port}"`);
  });

  it('refuses an IPv6 --dht-bootstrap node with one line (the DHT is IPv4 only)', async () => {
    const result = await runShoal(
      ['download', torrent, '-o', tempDir('shoal-v6-dht-'), '--dht-bootstrap', '[::1]:6881'],
      { cwd: work },
    );
    expect(result.code, show(result)).toBe(2);
    expect(result.stderr.trim()).toBe(
      'shoal: error: invalid --dht-bootstrap "[::1]:6881": the DHT runs over IPv4 only (no BEP 32); give an IPv4 address or host name',
    );
  });
});
