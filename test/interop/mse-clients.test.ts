/**
 * `shoal download` and `shoal seed` with encryption, against clients others
 * wrote, on 127.0.0.1, every result compared byte for byte:
 *
 * - python3-libtorrent with encryption forced both ways (out_enc_policy and
 *   in_enc_policy forced, allowed_enc_level rc4: it neither sends nor accepts
 *   a plain handshake, nor MSE's plaintext mode), which also reports each
 *   connection's RC4 flag: shoal downloads from it and seeds to it with
 *   `--encryption require`, and with the default `prefer`;
 * - transmission-cli with encryption required (`-er`), both directions;
 * - aria2c with `--bt-require-crypto=true`, both directions.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { runShoal, show, spawnTracked, trackProcesses, type Proc } from '../helpers/cli.ts';
import { cleanupTempDirs, sameFile, tempDir } from '../helpers/files.ts';
import {
  requirePeers,
  startAria2Leecher,
  startAria2Seeder,
  SYSTEM_PYTHON,
} from '../helpers/peers.ts';
import { createTorrent, peerArg, startShoalSeeder } from '../helpers/swarm.ts';
import {
  requireTransmission,
  startTransmissionLeecher,
  startTransmissionSeeder,
} from '../helpers/transmission.ts';

trackProcesses();
// Whole processes on a shared 2-core machine: generous bounds, never timing assertions.
vi.setConfig({ testTimeout: 150_000, hookTimeout: 120_000 });
cleanupTempDirs();

const ENCRYPTED_PEER = path.join(import.meta.dirname, '..', 'helpers', 'libtorrent_enc_peer.py');

let work: string;
let dataDir: string;
let original: string;
let torrent: string;

beforeAll(async () => {
  work = tempDir('shoal-mse-clients-');
  dataDir = path.join(work, 'data');
  await mkdir(dataDir);
  original = path.join(dataDir, 'payload.bin');
  await writeFile(original, randomBytes(4 * 1024 * 1024 + 4321));
  ({ torrent } = await createTorrent(original, path.join(work, 'payload.torrent'), [
    '--v1',
    '--piece-length',
    '32KiB',
  ]));
});

/** libtorrent with encryption forced (RC4 only), seeding from dataDir or downloading into `save`. */
async function startForcedLibtorrent(
  mode: 'seed' | 'download',
  save: string,
  peer?: number,
): Promise<{ proc: Proc; port: number }> {
  // Port 0 and the port libtorrent names: a port found free first could be taken before it binds.
  const args = [ENCRYPTED_PEER, mode, '--torrent', torrent, '--save', save, '--port', '0'];
  args.push('--enc-level', 'rc4', '--timeout', '110');
  if (peer) args.push('--peer', `127.0.0.1:${peer}`);
  const proc = spawnTracked(`libtorrent ${mode} (forced rc4)`, SYSTEM_PYTHON, args, {
    timeoutMs: 120_000,
  });
  const [, port] = await proc.waitFor(/LISTENING (\d+)/, 30_000, 'stdout');
  if (mode === 'seed') await proc.waitFor(/SEEDING/, 30_000, 'stdout');
  return { proc, port: Number(port) };
}

describe('python3-libtorrent with encryption forced (rc4)', () => {
  requirePeers('libtorrent');

  it.each(['require', 'prefer'])(
    'shoal download --encryption %s from a libtorrent seeder',
    async (policy) => {
      const seeder = await startForcedLibtorrent('seed', dataDir);
      const out = tempDir('shoal-mse-out-');
      const result = await runShoal(
        ['download', torrent, '-o', out, ...peerArg(seeder.port), '--no-dht'].concat([
          '--encryption',
          policy,
          '--timeout',
          '60s',
        ]),
        { timeoutMs: 100_000 },
      );
      expect(result.code, `${show(result)}\n${seeder.proc.describe()}`).toBe(0);
      expect(await sameFile(path.join(out, 'payload.bin'), original)).toBe(true);
      expect(seeder.proc.stdout).toMatch(/PEER 127\.0\.0\.1:\d+ rc4=1 plaintext=0/);
    },
  );

  it.each(['require', 'prefer'])(
    'a libtorrent downloader gets the data from shoal seed --encryption %s',
    async (policy) => {
      const seeder = await startShoalSeeder(torrent, dataDir, ['--encryption', policy]);
      const save = tempDir('shoal-mse-lt-');
      const leecher = await startForcedLibtorrent('download', save, seeder.port);
      const result = await leecher.proc.wait(110_000);
      expect(result.code, `${leecher.proc.describe()}\n${seeder.proc.describe()}`).toBe(0);
      expect(await sameFile(path.join(save, 'payload.bin'), original)).toBe(true);
      expect(leecher.proc.stdout).toMatch(/PEER 127\.0\.0\.1:\d+ rc4=1 plaintext=0/);
    },
  );
});

describe('transmission-cli with encryption required (-er)', () => {
  requireTransmission();

  it('shoal download --encryption require from a transmission seeder', async () => {
    const seeder = await startTransmissionSeeder(torrent, dataDir, ['-er']);
    const out = tempDir('shoal-mse-out-');
    const result = await runShoal(
      ['download', torrent, '-o', out, ...peerArg(seeder.port), '--no-dht'].concat([
        '--encryption',
        'require',
        '--timeout',
        '60s',
      ]),
      { timeoutMs: 100_000 },
    );
    expect(result.code, `${show(result)}\n${seeder.proc.describe()}`).toBe(0);
    expect(await sameFile(path.join(out, 'payload.bin'), original)).toBe(true);
  });

  it('a transmission downloader gets the data from shoal seed --encryption require', async () => {
    const save = tempDir('shoal-mse-tr-');
    const leecher = await startTransmissionLeecher(torrent, save, ['-er']);
    const seeder = await startShoalSeeder(torrent, dataDir, [
      '--encryption',
      'require',
      ...peerArg(leecher.port),
    ]);
    await leecher.finished(100_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${seeder.proc.describe()}`);
    });
    expect(await sameFile(path.join(save, 'payload.bin'), original)).toBe(true);
  });
});

describe('aria2c with --bt-require-crypto=true', () => {
  requirePeers('aria2c');
  const ARIA2_CRYPTO = ['--bt-require-crypto=true', '--bt-min-crypto-level=arc4'];

  it('shoal download --encryption require from an aria2c seeder', async () => {
    const seeder = await startAria2Seeder(torrent, dataDir, ARIA2_CRYPTO);
    const out = tempDir('shoal-mse-out-');
    const result = await runShoal(
      ['download', torrent, '-o', out, ...peerArg(seeder.port), '--no-dht'].concat([
        '--encryption',
        'require',
        '--timeout',
        '60s',
      ]),
      { timeoutMs: 100_000 },
    );
    expect(result.code, `${show(result)}\n${seeder.proc.describe()}`).toBe(0);
    expect(await sameFile(path.join(out, 'payload.bin'), original)).toBe(true);
  });

  it('an aria2c downloader gets the data from shoal seed --encryption require', async () => {
    const save = tempDir('shoal-mse-aria2-');
    const leecher = await startAria2Leecher(torrent, save, ARIA2_CRYPTO);
    const seeder = await startShoalSeeder(torrent, dataDir, [
      '--encryption',
      'require',
      ...peerArg(leecher.port),
    ]);
    const result = await leecher.proc.wait(100_000);
    expect(result.code, `${leecher.proc.describe()}\n${seeder.proc.describe()}`).toBe(0);
    expect(await sameFile(path.join(save, 'payload.bin'), original)).toBe(true);
  });
});
